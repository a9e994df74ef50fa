import numpy as np
import pandas as pd
import pytest

from assess.sizing import Growth
from assess.sizing.growth import growth_factors
from assess.sizing.profiles import WorkloadProfiler

T0 = pd.Timestamp("2024-06-01", tz="UTC")


def sizes_and_features(rows):
    # rows: vm_id, cpu demand MHz, memory demand MiB, P99/(P50+1)
    vm, cpu, mem, peak = zip(*rows)
    sizes = pd.DataFrame({"vm_id": vm, "cpu_demand_mhz": cpu, "memory_demand_mib": mem, "core_mhz": 2000.0,
                          "allocated_vcpus": 8})
    feats = pd.DataFrame({"cpu_peak_ratio": peak, "cpu_cv": 0.2, "daily_cycle": 0.1}, index=pd.Index(vm))
    return feats, sizes


def test_profiles_are_named_from_their_shape():
    rows = []
    for i in range(5):
        # cpu-bound: 8000 MHz = 4 cores of demand, 4 GiB -> 1 GiB per core; peak ratio 1.2
        rows.append((f"cpu{i}", 8000.0 + 100 * i, 4096.0, 1.2))
        # memory-bound: 2000 MHz = 1 core, 32 GiB -> 32 GiB per core
        rows.append((f"mem{i}", 2000.0 + 50 * i, 32768.0, 1.2))
        # steady: 4000 MHz = 2 cores, 8 GiB -> 4 GiB per core, flat
        rows.append((f"std{i}", 4000.0 + 50 * i, 8192.0, 1.1))
        # bursty: P99 8 x P50
        rows.append((f"bur{i}", 4000.0 + 50 * i, 8192.0, 8.0))
    feats, sizes = sizes_and_features(rows)
    sizes = pd.concat([sizes, pd.DataFrame({"vm_id": ["nodata"], "cpu_demand_mhz": [np.nan],
                                            "memory_demand_mib": [np.nan], "core_mhz": [2000.0],
                                            "allocated_vcpus": [2]})], ignore_index=True)
    out = WorkloadProfiler(random_state=0).fit(feats, sizes).profiles_.set_index("vm_id")
    got = out["profile"].groupby(out.index.str[:3]).agg(set).to_dict()
    assert got == {"cpu": {"cpu-bound"}, "mem": {"memory-bound"}, "std": {"steady"}, "bur": {"bursty"},
                   "nod": {"unknown"}}
    assert "series" not in out  # the profile no longer picks a series: capacity cost does


def daily_samples(vm, per_day, days, step_s=3600):
    n = int(days * 86400 / step_s)
    ts = T0 + pd.to_timedelta(np.arange(n) * step_s, unit="s")
    day = np.arange(n) * step_s // 86400
    return pd.DataFrame({"vm_id": vm, "metric": "cpu_usage_mhz", "timestamp": ts,
                         "value": np.asarray(per_day(day), float)})


def test_growth_projects_a_linear_trend_twelve_months_ahead():
    # cluster A: two VMs, 1000 + 10 x day MHz each -> total 2000 + 20 x day; 30 days -> last day 29: 2580
    # 12 months = 365.25 days -> 2580 + 20 x 365.25 = 9885 -> factor 9885 / 2580 = 3.831 -> capped at 3.0
    # cluster B: flat 500 MHz -> factor 1.0; cluster C: 3 days only -> 1.0 with a reason
    u = pd.concat([
        daily_samples("a1", lambda d: 1000 + 10 * d, 30), daily_samples("a2", lambda d: 1000 + 10 * d, 30),
        daily_samples("b1", lambda d: 500 + 0 * d, 30), daily_samples("c1", lambda d: 100 + 50 * d, 3),
    ])
    vms = pd.DataFrame({"vm_id": ["a1", "a2", "b1", "c1"], "cluster": ["A", "A", "B", "C"]})
    g = growth_factors(u, vms).set_index("cluster")
    assert g.loc["A", "slope_per_day"] == pytest.approx(20.0)
    assert g.loc["A", "level"] == pytest.approx(2580.0)
    assert g.loc["A", "factor"] == pytest.approx(3.0)
    assert "x3.83 in 12 months, limited to x3.00" in g.loc["A", "reason"]
    assert g.loc["B", "factor"] == pytest.approx(1.0)
    assert g.loc["C", "factor"] == 1.0 and "only 3 full day(s)" in g.loc["C", "reason"]
    # without the cap: 9885 / 2580 = 3.8314
    uncapped = growth_factors(u, vms, Growth(max_factor=5)).set_index("cluster")
    assert uncapped.loc["A", "factor"] == pytest.approx((2580 + 20 * 365.25) / 2580)
