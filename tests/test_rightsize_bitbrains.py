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


def test_truncated_trace_is_sized_on_its_own_window_and_says_why(utilization):
    # vm1 cut to its first 10 days: its own 30-day window (ending at its last sample) holds
    # ~10 x 288 = 2880 of 8640 expected per metric = 33 % -> 2 stars
    first = utilization.loc[utilization["vm_id"] == "bb/vm-1", "timestamp"].min()
    keep = (utilization["vm_id"] != "bb/vm-1") | (utilization["timestamp"] < first + pd.Timedelta(days=10))
    cut = utilization[keep]
    sizer = RightSizer().fit(cut, VMS, HOSTS)
    sizes = sizer.sizes_.set_index("vm_id")
    assert sizes.loc["bb/vm-1", "confidence"] == 2
    assert "no samples after 2013-07-10" in sizes.loc["bb/vm-1", "confidence_reason"]
    assert (sizes.drop(index="bb/vm-1")["confidence"] == 5).all()
    # a 7-day lookback: vm1 is still sized in performance mode, on the 7 days before its last sample
    # (a window anchored to the estate's newest sample would hold none of its samples), and says so
    week = RightSizer(lookback_days=7).fit(cut, VMS, HOSTS)
    one = week.sizes_.set_index("vm_id").loc["bb/vm-1"]
    assert one["mode"] == "performance" and one["confidence"] == 5
    assert "no samples after 2013-07-10" in one["confidence_reason"]
    codes = week.warnings_.set_index("code")
    assert "bb/vm-1 (ends 2013-07-10)" in codes.loc["sizing.window.per_vm", "message"]


def test_idle_detection_on_the_real_traces(utilization):
    capacity = pd.Series([5851.9989] * 5, index=VMS["vm_id"])  # 2 cores x 2926 MHz
    out = IdleDetector().fit(utilization, VMS, capacity).idle_.set_index("vm_id")
    # vm2: 0 % CPU, 0 KB/s network at P95 all month; vm3 and vm4: a flat ~1 % of capacity (cpu_usage_pct
    # is the share of the trace's own provisioned capacity), single-digit KB/s network and disk
    assert out["idle"].to_dict() == {"bb/vm-1": False, "bb/vm-2": True, "bb/vm-3": True, "bb/vm-4": True,
                                     "bb/vm-5": False}
    assert out.loc["bb/vm-2", "idle_evidence"].startswith("CPU P95 0.0% / P99 0.0% of capacity")
    # vm1: 16.6 % CPU at P95 with 63 KB/s of network; vm5: P95 4.7 % but P99 14.3 % (periodic batch
    # work, up to 8.5 MB/s of disk): both in use
    assert "CPU P95 16.6%" in out.loc["bb/vm-1", "idle_evidence"]
    assert "network P95 63.3 KB/s (<= 20): ACTIVE" in out.loc["bb/vm-1", "idle_evidence"]
    assert "P99 14.3% of capacity (idle <= 5% / 10%): ACTIVE" in out.loc["bb/vm-5", "idle_evidence"]


def test_memory_counter_all_zero_is_not_measured_and_sized_as_allocated(utilization):
    # the real vm1 trace with its memory column zeroed, as a collector without a memory counter writes it
    zeroed = utilization.copy()
    zeroed.loc[(zeroed["vm_id"] == "bb/vm-1") & (zeroed["metric"] == "mem_consumed_mib"), "value"] = 0.0
    sizer = RightSizer().fit(zeroed, VMS, HOSTS)
    one = sizer.sizes_.set_index("vm_id").loc["bb/vm-1"]
    assert one["memory_mib"] == 8026 and one["memory_source"] == "allocated"  # not the 512 MiB floor
    assert "memory counter 0 in every sample (not measured): memory as allocated" in one["sizing_reason"]
    # only the CPU half of the expected samples counts: ~50 % -> 3 stars, and the reason says which is missing
    assert one["confidence"] == 3
    assert "memory not measured (counter 0 in every sample)" in one["confidence_reason"]
    warning = sizer.warnings_.set_index("code").loc["sizing.memory.not_measured", "message"]
    assert warning.startswith("1 VM(s) have memory counters that are 0 in every sample")
    assert warning.endswith("memory sized as allocated: bb/vm-1")
    # the other VMs keep their measured memory (vm2-4 use ~100-300 MiB: raised to the 512 MiB floor)
    sources = sizer.sizes_.set_index("vm_id")["memory_source"].drop(index="bb/vm-1").to_dict()
    assert sources == {"bb/vm-2": "guest_minimum", "bb/vm-3": "guest_minimum", "bb/vm-4": "guest_minimum",
                       "bb/vm-5": "mem_consumed_mib"}
