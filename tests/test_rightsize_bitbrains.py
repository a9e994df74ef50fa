import pandas as pd
import pytest

from assess.collect.utilization import read_utilization
from assess.model import Estate
from assess.sizing import IdleDetector, RightSizer

# The five Bitbrains VMs as inventory: vm1 has 2 cores provisioned at 5851.9989 MHz -> 2926 MHz per core,
# 8218624 KB = 8026 MiB memory; the others get the same host.
VMS = pd.DataFrame({
    "vm_id": [f"bb/vm-{i}" for i in range(1, 6)],
    "name": [f"vm{i}-2013-07" for i in range(1, 6)],
    "vcpus": [2, 2, 2, 2, 2],
    "memory_mib": [8026.0] * 5,
    "host": ["esx1"] * 5,
    "cluster": ["rnd"] * 5,
})
HOSTS = pd.DataFrame({"name": ["esx1"], "cluster": ["rnd"], "cpu_mhz": [5851.9989 / 2]})


@pytest.fixture(scope="module")
def utilization(shared):
    est = Estate()
    est["vms"] = VMS[["vm_id", "name"]]
    folder = shared / "data" / "traces" / "bitbrains_rnd"
    return read_utilization(sorted(folder.glob("vm*-2013-07.csv")), est)["utilization"]


def test_sizing_runs_on_the_real_traces_with_full_confidence(utilization):
    sizer = RightSizer().fit(utilization, VMS, HOSTS)
    sizes = sizer.sizes_.set_index("vm_id")
    assert (sizes["mode"] == "performance").all()
    # ~8260 samples per metric of 8640 expected in 30 days at 300 s (vm1: 379 missing) -> 96 % -> 5 stars
    assert (sizes["expected_samples"] == 2 * 8640).all()
    assert (sizes["confidence"] == 5).all()
    assert (sizes["samples"] > 0.9 * 2 * 8640).all()
    # never above the allocation (default cap) and never below 1 vCPU
    assert sizes["vcpus"].between(1, 2).all()
    assert (sizes["memory_mib"] <= 8026).all()
    # demand is P95 x 1.3 of the trace, recomputed here from the samples in the window
    u = utilization[(utilization["vm_id"] == "bb/vm-1") & (utilization["metric"] == "cpu_usage_mhz")]
    u = u[u["timestamp"] > u["timestamp"].max() - pd.Timedelta(days=30)]
    assert sizes.loc["bb/vm-1", "cpu_demand_mhz"] == pytest.approx(u["value"].quantile(0.95) * 1.3)


def test_truncated_trace_gets_fewer_stars_and_says_why(utilization):
    # vm1 cut to its first 10 days: ~10 x 288 = 2880 of 8640 expected per metric = 33 % -> 2 stars
    first = utilization.loc[utilization["vm_id"] == "bb/vm-1", "timestamp"].min()
    keep = (utilization["vm_id"] != "bb/vm-1") | (utilization["timestamp"] < first + pd.Timedelta(days=10))
    cut = utilization[keep]
    sizes = RightSizer().fit(cut, VMS, HOSTS).sizes_.set_index("vm_id")
    assert sizes.loc["bb/vm-1", "confidence"] == 2
    assert "no samples after 2013-07-10" in sizes.loc["bb/vm-1", "confidence_reason"]
    assert (sizes.drop(index="bb/vm-1")["confidence"] == 5).all()
    # a 7-day lookback over the same data: vm1 has nothing in the last 7 days -> as_is, 1 star
    week = RightSizer(lookback_days=7).fit(cut, VMS, HOSTS).sizes_.set_index("vm_id")
    assert week.loc["bb/vm-1", "mode"] == "as_is" and week.loc["bb/vm-1", "confidence"] == 1


def test_idle_detection_runs_on_the_real_traces(utilization):
    out = IdleDetector().fit(utilization, VMS).idle_.set_index("vm_id")
    # vm2 reports 0 MHz at P95 and 0 KB/s network at P95 all month: idle by the rule;
    # vm1 runs ~970 MHz at P95 with ~63 KB/s of network: in use
    assert out.loc["bb/vm-2", "idle"] and out.loc["bb/vm-2", "idle_rule"]
    assert not out.loc["bb/vm-1", "idle"]
    assert "CPU P95 0.0 MHz" in out.loc["bb/vm-2", "idle_evidence"]
