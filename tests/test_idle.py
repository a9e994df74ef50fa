import numpy as np
import pandas as pd
import pytest

from assess.sizing.idle import IdleDetector

T0 = pd.Timestamp("2024-06-01", tz="UTC")
N = 7 * 288  # one week at 5-minute steps


def series(vm, metric, values):
    ts = T0 + pd.to_timedelta(np.arange(len(values)) * 300, unit="s")
    return pd.DataFrame({"vm_id": vm, "metric": metric, "timestamp": ts, "value": np.asarray(values, float),
                         "interval_s": 300})


def vm(name, cpu, net=None, disk=None):
    parts = [series(name, "cpu_usage_mhz", cpu)]
    if net is not None:
        parts.append(series(name, "net_kbps", net))
    if disk is not None:
        parts.append(series(name, "disk_kbps", disk))
    return parts


def business_hours(n, low, high):
    hours = (np.arange(n) * 300 // 3600) % 24
    return np.where((hours >= 8) & (hours < 18), high, low).astype(float)


def test_plain_rule_on_hand_made_series():
    rng = np.random.default_rng(1)
    parts = (
        vm("idle", rng.uniform(20, 60, N), net=rng.uniform(0, 0.3, N))  # P95 < 60 MHz, net < 0.3 KB/s
        + vm("busy", business_hours(N, 300, 2500), net=np.full(N, 40.0))
        + vm("chatty", np.full(N, 50.0), net=np.full(N, 50.0))  # CPU low but network 50 KB/s: in use
        + vm("nonet", np.full(N, 30.0))  # no network counter: CPU alone decides, and the evidence says so
        + vm("edge", np.r_[np.full(N - 50, 100.0), np.full(50, 100.0)], net=np.zeros(N))  # P95 = 100 <= 100
        + vm("above", np.full(N, 101.0), net=np.zeros(N))  # P95 = 101 > 100
        + vm("short", np.full(5, 10.0), net=np.zeros(5))  # 5 samples < min_samples 12: no verdict
    )
    vms = pd.DataFrame({"vm_id": ["idle", "busy", "chatty", "nonet", "edge", "above", "short", "nodata"]})
    det = IdleDetector(use_model=False).fit(pd.concat(parts), vms)
    out = det.idle_.set_index("vm_id")
    assert out["idle"].to_dict() == {"idle": True, "busy": False, "chatty": False, "nonet": True,
                                     "edge": True, "above": False, "short": False, "nodata": False}
    assert "no network counter" in out.loc["nonet", "idle_evidence"]
    assert "too few CPU samples" in out.loc["short", "idle_evidence"]
    assert "no utilization samples" in out.loc["nodata", "idle_evidence"]
    assert "network P95 50.0 KB/s" in out.loc["chatty", "idle_evidence"]
    # business hours VM: half-hour share 10/24 at 2500 -> strong daily cycle
    assert det.features_.loc["busy", "daily_cycle"] > 0.9
    assert list(out.index) == list(vms["vm_id"])


def test_model_widens_the_rule_to_a_near_idle_vm_but_not_to_a_busy_one():
    rng = np.random.default_rng(7)
    parts = []
    for i in range(12):  # rule-idle fleet: flat 20-80 MHz, no traffic
        base = rng.uniform(20, 60)
        parts += vm(f"z{i}", base + rng.uniform(0, 20, N), net=rng.uniform(0, 0.5, N),
                    disk=rng.uniform(0, 2, N))
    # near-idle: same baseline and no traffic, but housekeeping blips at 150 MHz in 8 % of the samples at
    # random times -> P95 = 150 > 100 (rule misses it) but <= 2 x 100, no daily cycle
    hours = (np.arange(N) * 300 // 3600) % 24
    scan = np.where(rng.uniform(size=N) < 0.08, 150.0, 40.0) + rng.uniform(0, 10, N)
    parts += vm("scan", scan, net=rng.uniform(0, 0.5, N), disk=rng.uniform(0, 2, N))
    # daytime user VM at the same CPU level but with real traffic: not idle
    parts += vm("user", np.where((hours >= 8) & (hours < 18), 150.0, 40.0), net=business_hours(N, 0, 80),
                disk=business_hours(N, 1, 500))
    vms = pd.DataFrame({"vm_id": [f"z{i}" for i in range(12)] + ["scan", "user"]})
    det = IdleDetector(random_state=0).fit(pd.concat(parts), vms)
    out = det.idle_.set_index("vm_id")
    assert det.model_ is not None
    assert not out.loc["scan", "idle_rule"] and out.loc["scan", "idle"]
    assert "typical of the idle VMs" in out.loc["scan", "idle_evidence"]
    assert not out.loc["user", "idle"]
    assert out.loc[[f"z{i}" for i in range(12)], "idle"].all()


def test_bad_parameter_is_named():
    with pytest.raises(ValueError, match=r"cpu_mhz_p95=-1"):
        IdleDetector(cpu_mhz_p95=-1).fit(series("a", "cpu_usage_mhz", [1.0] * 20),
                                         pd.DataFrame({"vm_id": ["a"]}))
