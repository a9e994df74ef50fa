import numpy as np
import pandas as pd
import pytest
from idle_estate import idle_estate

from assess.sizing import SizingParams, size_estate
from assess.sizing.idle import IdleDetector

T0 = pd.Timestamp("2024-06-01", tz="UTC")
N = 7 * 288  # one week at 5-minute steps


def series(vm, metric, values):
    ts = T0 + pd.to_timedelta(np.arange(len(values)) * 300, unit="s")
    return pd.DataFrame({"vm_id": vm, "metric": metric, "timestamp": ts, "value": np.asarray(values, float),
                         "interval_s": 300})


def vm(name, cpu, net=None, disk=None, active=None):
    parts = [series(name, "cpu_usage_mhz", cpu)]
    for metric, values in (("net_kbps", net), ("disk_kbps", disk), ("mem_active_mib", active)):
        if values is not None:
            parts.append(series(name, metric, values))
    return parts


def flat(value, n=N):
    return np.full(n, float(value))


# capacity: every VM below on 2000 MHz cores
VMS = pd.DataFrame({
    "vm_id": ["small", "big", "bigbusy", "chatty", "cpuonly", "batch", "cache", "edge", "short", "nodata"],
    "vcpus": [1, 16, 16, 2, 2, 4, 4, 2, 2, 2],
    "memory_mib": [2048.0, 65536.0, 65536.0, 4096.0, 4096.0, 8192.0, 8192.0, 4096.0, 4096.0, 4096.0],
})
CAPACITY = pd.Series(VMS["vcpus"].to_numpy() * 2000.0, index=VMS["vm_id"])


@pytest.fixture(scope="module")
def detector():
    nights = ((np.arange(N) * 300 // 3600) % 24) < 2  # 01:00-02:00 busy: 8.3 % of the samples
    parts = (
        # 1 vCPU at 40 MHz = 2 % of 2000 MHz; 2 KB/s; 10 KB/s disk: idle
        vm("small", flat(40), net=flat(2), disk=flat(10))
        # 16 vCPU at 480 MHz = 1.5 % of 32000 MHz: idle although 480 MHz >> the old 100 MHz rule
        + vm("big", flat(480), net=flat(3), disk=flat(20), active=flat(2048))
        # 16 vCPU at 2400 MHz = 7.5 % > 5 %: in use
        + vm("bigbusy", flat(2400), net=flat(3), disk=flat(20))
        # CPU quiet but 50 KB/s of network > 20: in use
        + vm("chatty", flat(40), net=flat(50), disk=flat(10))
        # only a CPU counter: one signal < min_signals 2: no verdict
        + vm("cpuonly", flat(10))
        # 80 MHz most of the time, 6000 MHz (75 %) two hours a night: P95 = 6000: in use
        + vm("batch", np.where(nights, 6000.0, 80.0), net=flat(2), disk=flat(10))
        # quiet CPU, network and disk, but 50 % of memory active: in use
        + vm("cache", flat(80), net=flat(2), disk=flat(10), active=flat(4096))
        # exactly on every threshold: 200 MHz = 5 % of 4000; 20 KB/s; 100 KB/s: idle (<=)
        + vm("edge", flat(200), net=flat(20), disk=flat(100))
        + vm("short", flat(10, 5), net=flat(0, 5))  # 5 samples < min_samples 12
    )
    return IdleDetector(use_model=False).fit(pd.concat(parts), VMS, CAPACITY)


def test_each_signal_relative_to_the_vms_capacity(detector):
    out = detector.idle_.set_index("vm_id")
    assert out["idle"].to_dict() == {
        "small": True, "big": True, "bigbusy": False, "chatty": False, "cpuonly": False, "batch": False,
        "cache": False, "edge": True, "short": False, "nodata": False}
    assert list(out.index) == list(VMS["vm_id"])
    assert out.loc["big", "idle_signals"] == 4 and out.loc["small", "idle_signals"] == 3


def test_evidence_names_the_figures_and_the_active_signal(detector):
    out = detector.idle_.set_index("vm_id")["idle_evidence"]
    assert out["big"].startswith("CPU P95 1.5% / P99 1.5% of capacity (idle <= 5% / 10%): quiet")
    assert "active memory P95 3.1% (<= 15%): quiet" in out["big"]  # 2048 / 65536
    assert "CPU P95 7.5%" in out["bigbusy"] and "ACTIVE" in out["bigbusy"]
    assert "network P95 50.0 KB/s (<= 20): ACTIVE" in out["chatty"]
    assert "no active memory counter" in out["small"]
    assert "CPU P95 75.0% / P99 75.0%" in out["batch"]
    assert "active memory P95 50.0% (<= 15%): ACTIVE" in out["cache"]
    assert "fewer than 2 signals measured: no verdict" in out["cpuonly"]
    assert "too few CPU samples" in out["short"]
    assert "no utilization samples" in out["nodata"]


def test_cpu_usage_pct_is_used_as_the_share_directly():
    parts = vm("p", flat(0)) + [series("p", "cpu_usage_pct", flat(3.0)), series("p", "net_kbps", flat(1))]
    out = IdleDetector(use_model=False).fit(pd.concat(parts[1:]), pd.DataFrame({"vm_id": ["p"]})).idle_
    assert bool(out["idle"].iat[0]) and "CPU P95 3.0%" in out["idle_evidence"].iat[0]


def test_the_model_corroborates_but_never_decides():
    rng = np.random.default_rng(7)
    parts = []
    for i in range(8):
        parts += vm(f"z{i}", rng.uniform(10, 40, N), net=rng.uniform(0, 2, N), disk=rng.uniform(0, 20, N))
    parts += vm("near", rng.uniform(100, 140, N), net=rng.uniform(0, 2, N), disk=rng.uniform(0, 20, N))
    vms = pd.DataFrame({"vm_id": [f"z{i}" for i in range(8)] + ["near"], "vcpus": 1})
    det = IdleDetector(random_state=0).fit(pd.concat(parts), vms, pd.Series(2000.0, index=vms["vm_id"]))
    out = det.idle_.set_index("vm_id")
    assert det.model_ is not None
    assert out.loc[[f"z{i}" for i in range(8)], "idle"].all()
    assert "typical of the idle VMs" in out.loc["z0", "idle_evidence"]
    # 140 MHz = 7 % of one 2000 MHz core: shaped like the idle VMs, but the rule says in use
    assert not out.loc["near", "idle"] and pd.isna(out.loc["near", "idle_score"])


def test_bad_parameter_is_named():
    with pytest.raises(ValueError, match=r"cpu_pct_p95=-1"):
        IdleDetector(cpu_pct_p95=-1).fit(series("a", "cpu_usage_mhz", [1.0] * 20),
                                         pd.DataFrame({"vm_id": ["a"]}))


def _precision_recall(found: set, truth: set) -> tuple[float, float]:
    hit = len(found & truth)
    return hit / max(len(found), 1), hit / len(truth)


def test_second_generated_estate_precision_and_recall():
    # 1-32 vCPU VMs, 15-minute samples, CPU % or MHz, active memory, hard negatives (see idle_estate)
    generated = idle_estate()
    result = size_estate(generated.estate, params=SizingParams())
    sizing = result.tables["sizing"]
    names = sizing["vm_id"].str.removeprefix("ie/")
    found = set(names[sizing["idle"].fillna(False).astype(bool)])
    precision, recall = _precision_recall(found, generated.idle)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall, sorted(found ^ generated.idle))
    big = {n for n in generated.idle if generated.estate["vms"].set_index("name").loc[n, "vcpus"] >= 16}
    assert big and big <= found  # big idle VMs are found too
    # idle VMs are retire candidates and are not packed
    idle_rows = sizing[sizing["idle"].fillna(False).astype(bool)]
    assert idle_rows["node"].isna().all() and idle_rows["excluded_reason"].str.startswith("idle:").all()
    assert result.summary["not_packed"]["retire"] == len(found)
