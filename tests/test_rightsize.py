import numpy as np
import pandas as pd
import pytest

from assess.sizing import RightSizer, SizingParams
from assess.sizing.utilization_stats import frame_stats

T0 = pd.Timestamp("2024-06-01", tz="UTC")


def samples(vm, metric, values, start=T0, step_s=300):
    ts = start + pd.to_timedelta(np.arange(len(values)) * step_s, unit="s")
    return pd.DataFrame({"vm_id": vm, "metric": metric, "timestamp": ts, "value": np.asarray(values, float),
                         "interval_s": step_s})


def vm_table(**cols):
    base = {"vm_id": ["a"], "vcpus": [4], "memory_mib": [8192.0], "host": ["h1"], "cluster": ["c1"],
            "guest_os_tools": ["Ubuntu Linux (64-bit)"]}
    base.update(cols)
    return pd.DataFrame(base)


HOSTS = pd.DataFrame({"name": ["h1", "h2"], "cluster": ["c1", "c1"], "cpu_mhz": [2000.0, 3000.0]})
DAY = 86400 / 300  # 288 samples per day at 5 minutes


def twenty_sample_window():
    # 20 samples 300 s apart: a lookback of exactly 20 x 300 s expects 20 samples per metric
    return 20 * 300 / 86400


def test_percentile_times_comfort_against_host_core_speed():
    # CPU 100, 200, ..., 2000 MHz. numpy linear P95: rank 0.95 * 19 = 18.05 -> 1900 + 0.05 * 100 = 1905
    # demand 1905 * 1.3 = 2476.5 MHz; / 2000 MHz core = 1.238 -> ceil 2 vCPU
    # memory 1000..2900 MiB step 100: P95 = 2805; * 1.3 = 3646.5 -> ceil 3647 MiB
    u = pd.concat([samples("a", "cpu_usage_mhz", np.arange(100, 2001, 100)),
                   samples("a", "mem_consumed_mib", np.arange(1000, 2901, 100))])
    assert np.percentile(np.arange(100, 2001, 100), 95) == pytest.approx(1905)
    s = RightSizer(lookback_days=twenty_sample_window()).fit(u, vm_table(), HOSTS).sizes_.iloc[0]
    assert s["mode"] == "performance"
    assert s["cpu_demand_mhz"] == pytest.approx(2476.5)
    assert s["vcpus"] == 2
    assert s["memory_demand_mib"] == pytest.approx(3646.5)
    assert s["memory_mib"] == 3647
    assert s["confidence"] == 5 and s["samples"] == 40 and s["expected_samples"] == 40


def test_faster_host_and_other_percentile_change_the_answer():
    # on h2 (3000 MHz): P99 = 1900 + 0.81 * 100 = 1981; * 1.3 = 2575.3 / 3000 = 0.86 -> 1 vCPU
    u = samples("a", "cpu_usage_mhz", np.arange(100, 2001, 100))
    s = RightSizer(percentile=99, lookback_days=twenty_sample_window()).fit(
        u, vm_table(host=["h2"]), HOSTS).sizes_.iloc[0]
    assert s["cpu_demand_mhz"] == pytest.approx(1981 * 1.3)
    assert s["vcpus"] == 1 and s["core_mhz"] == 3000


def test_unknown_host_uses_cluster_median_and_says_so():
    # cluster c1 median of 2000 and 3000 = 2500 MHz; 2476.5 / 2500 = 0.99 -> 1 vCPU
    u = samples("a", "cpu_usage_mhz", np.arange(100, 2001, 100))
    sizer = RightSizer(lookback_days=twenty_sample_window()).fit(u, vm_table(host=["gone"]), HOSTS)
    s = sizer.sizes_.iloc[0]
    assert s["core_mhz"] == 2500 and s["vcpus"] == 1
    assert "cluster median 2500 MHz" in s["confidence_reason"]
    assert "sizing.core_speed.fallback" in set(sizer.warnings_["code"])


def test_floors_guest_minimum_and_cap_at_allocated():
    # idle Windows VM: 10 MHz, 300 MiB -> demand 13 MHz, 390 MiB -> raised to windows 2 vCPU / 2048 MiB
    u = pd.concat([samples("a", "cpu_usage_mhz", [10.0] * 20),
                   samples("a", "mem_consumed_mib", [300.0] * 20)])
    win = vm_table(guest_os_tools=["Microsoft Windows Server 2022 (64-bit)"])
    s = RightSizer(lookback_days=twenty_sample_window()).fit(u, win, HOSTS).sizes_.iloc[0]
    assert (s["vcpus"], s["memory_mib"]) == (2, 2048)
    assert "windows minimum" in s["sizing_reason"]
    # the same Linux VM: 1 vCPU floor, linux 1024 MiB floor
    s = RightSizer(lookback_days=twenty_sample_window()).fit(u, vm_table(), HOSTS).sizes_.iloc[0]
    assert (s["vcpus"], s["memory_mib"]) == (1, 1024)


def test_busy_vm_is_capped_at_allocated_unless_upsizing_allowed():
    # 7000 MHz flat: 7000 * 1.3 = 9100 / 2000 = 4.55 -> 5 vCPU, allocated 4; memory 9000*1.3 = 11700 > 8192
    u = pd.concat([samples("a", "cpu_usage_mhz", [7000.0] * 20),
                   samples("a", "mem_consumed_mib", [9000.0] * 20)])
    capped = RightSizer(lookback_days=twenty_sample_window()).fit(u, vm_table(), HOSTS).sizes_.iloc[0]
    assert (capped["vcpus"], capped["memory_mib"]) == (4, 8192)
    assert "capped at allocated" in capped["sizing_reason"]
    grown = RightSizer(upsizing="allow", lookback_days=twenty_sample_window()).fit(
        u, vm_table(), HOSTS).sizes_.iloc[0]
    assert (grown["vcpus"], grown["memory_mib"]) == (5, 11700)


@pytest.mark.parametrize(("present", "stars"), [(0, 1), (20, 1), (21, 2), (40, 2), (41, 3), (60, 3),
                                                 (61, 4), (80, 4), (81, 5), (100, 5)])
def test_confidence_bands_at_the_edges(present, stars):
    # window expects 100 samples per metric; CPU and memory both have `present` samples -> share present %
    u = pd.concat([samples("a", m, [500.0] * present) for m in ("cpu_usage_mhz", "mem_consumed_mib")])
    end = T0 + pd.Timedelta(seconds=300 * 99)
    sizer = RightSizer(lookback_days=100 * 300 / 86400, lookback_end=end)
    s = sizer.fit(u, vm_table(), HOSTS).sizes_.iloc[0]
    assert s["expected_samples"] == 200
    assert s["confidence"] == stars


def test_late_start_and_missing_memory_counter_lower_confidence_with_reasons():
    # CPU only, covering the last 10 of 30 days: cpu share 1/3, memory 0 -> (1/3 + 0) / 2 = 16.7 % -> 1 star
    end = T0 + pd.Timedelta(days=30)
    start = end - pd.Timedelta(days=10) + pd.Timedelta("5min")
    u = samples("a", "cpu_usage_mhz", [500.0] * int(10 * DAY), start=start)
    s = RightSizer(lookback_end=end).fit(u, vm_table(), HOSTS).sizes_.iloc[0]
    assert s["confidence"] == 1
    assert "samples start 2024-06-21" in s["confidence_reason"]
    assert "no memory counter" in s["confidence_reason"]
    assert s["memory_mib"] == 8192  # memory as allocated


def test_powered_off_vm_reason():
    end = T0 + pd.Timedelta(days=30)
    u = pd.concat([samples("a", m, [500.0] * int(15 * DAY)) for m in ("cpu_usage_mhz", "mem_consumed_mib")])
    s = RightSizer(lookback_end=end).fit(u, vm_table(power_state=["poweredOff"]), HOSTS).sizes_.iloc[0]
    assert s["confidence"] == 3  # 15 of 30 days = 50 %
    assert "VM is poweredOff" in s["confidence_reason"]


def test_vm_without_data_falls_back_to_as_is_and_says_so():
    u = samples("a", "cpu_usage_mhz", [500.0] * 20)
    vms = pd.concat([vm_table(), vm_table(vm_id=["b"], vcpus=[8], memory_mib=[16384.0])])
    sizer = RightSizer(lookback_days=twenty_sample_window()).fit(u, vms, HOSTS)
    b = sizer.sizes_.set_index("vm_id").loc["b"]
    assert b["mode"] == "as_is" and (b["vcpus"], b["memory_mib"]) == (8, 16384)
    assert b["confidence"] == 1 and "sized as_is" in b["confidence_reason"]
    assert list(sizer.sizes_["vm_id"]) == ["a", "b"]
    assert "sizing.utilization.missing" in set(sizer.warnings_["code"])


def test_as_is_mode_keeps_allocation():
    u = samples("a", "cpu_usage_mhz", [10.0] * 20)
    s = RightSizer(mode="as_is").fit(u, vm_table(), HOSTS).sizes_.iloc[0]
    assert (s["mode"], s["vcpus"], s["memory_mib"]) == ("as_is", 4, 8192)


def test_lookback_excludes_older_samples():
    # 2 days: day 1 at 8000 MHz, day 2 at 100 MHz; a 1-day lookback sees only 100 MHz -> 130 MHz -> 1 vCPU
    u = samples("a", "cpu_usage_mhz", [8000.0] * int(DAY) + [100.0] * int(DAY))
    s = RightSizer(lookback_days=1).fit(u, vm_table(), HOSTS).sizes_.iloc[0]
    assert s["cpu_demand_mhz"] == pytest.approx(130.0) and s["vcpus"] == 1


def test_fit_stats_gives_the_same_sizes_as_fit():
    u = pd.concat([samples(vm, m, np.random.default_rng(i).uniform(0, 3000, 200))
                   for i, (vm, m) in enumerate([("a", "cpu_usage_mhz"), ("a", "mem_consumed_mib"),
                                                ("b", "cpu_usage_mhz")])])
    vms = pd.concat([vm_table(), vm_table(vm_id=["b"])])
    sizer = RightSizer(lookback_days=1)
    direct = sizer.fit(u, vms, HOSTS).sizes_
    stats = frame_stats(u, lookback_days=1)
    via_stats = RightSizer(lookback_days=1).fit_stats(stats, vms, HOSTS).sizes_
    pd.testing.assert_frame_equal(direct, via_stats)


def test_bad_parameters_name_parameter_expected_and_received():
    u = samples("a", "cpu_usage_mhz", [1.0])
    with pytest.raises(ValueError, match=r"percentile=80.*50, 90, 95 or 99"):
        RightSizer(percentile=80).fit(u, vm_table(), HOSTS)
    with pytest.raises(ValueError, match=r"utilization should have column\(s\).*missing value"):
        RightSizer().fit(u.drop(columns="value"), vm_table(), HOSTS)


def test_from_params_uses_the_rightsizing_group():
    sizer = RightSizer.from_params(SizingParams(rightsizing={"percentile": 50}).rightsizing)
    assert sizer.percentile == 50 and sizer.comfort_factor == 1.3


def test_performance_mode_without_any_samples_falls_back_to_allocation():
    from assess.model import conform, empty

    vms = conform("vms", pd.DataFrame({"vm_id": ["a"], "name": ["a"], "vcpus": [4], "memory_mib": [8192.0],
                                       "power_state": ["poweredOn"]}))
    sizes = RightSizer().fit(empty("utilization"), vms, empty("hosts")).sizes_
    row = sizes.iloc[0]
    assert (row["mode"], int(row["vcpus"]), float(row["memory_mib"])) == ("as_is", 4, 8192.0)
    assert "no utilization samples" in row["confidence_reason"]


def test_memory_never_below_active_p95_times_comfort():
    # consumed flat 2000 MiB -> 2600; active flat 2500 MiB -> 3250 wins (consumed below active is a
    # counter that lags, e.g. after ballooning): 3250 MiB, source mem_active_mib, and the reason says so
    u = pd.concat([samples("a", "cpu_usage_mhz", np.full(20, 1000.0)),
                   samples("a", "mem_consumed_mib", np.full(20, 2000.0)),
                   samples("a", "mem_active_mib", np.full(20, 2500.0))])
    s = RightSizer(lookback_days=twenty_sample_window()).fit(u, vm_table(), HOSTS).sizes_.iloc[0]
    assert (s["memory_mib"], s["memory_source"]) == (3250, "mem_active_mib")
    assert "memory raised to the active-memory P95 x comfort" in s["sizing_reason"]
    # consumed above active: consumed decides
    u2 = pd.concat([u[u["metric"] != "mem_active_mib"], samples("a", "mem_active_mib", np.full(20, 500.0))])
    s2 = RightSizer(lookback_days=twenty_sample_window()).fit(u2, vm_table(), HOSTS).sizes_.iloc[0]
    assert (s2["memory_mib"], s2["memory_source"]) == (2600, "mem_consumed_mib")


def test_more_vcpus_than_allocated_only_with_upsizing_and_the_reason_says_so():
    # 2 vCPU allocated, 3800 MHz at P95 x 1.3 = 4940 / 2000 = 2.47 -> 3 vCPU
    u = samples("a", "cpu_usage_mhz", np.full(20, 3800.0))
    grown = RightSizer(upsizing="allow", lookback_days=twenty_sample_window()).fit(
        u, vm_table(vcpus=[2]), HOSTS).sizes_.iloc[0]
    assert grown["vcpus"] == 3
    assert "more vCPUs than allocated: measured P95 x comfort needs 3" in grown["sizing_reason"]
    capped = RightSizer(lookback_days=twenty_sample_window()).fit(u, vm_table(vcpus=[2]), HOSTS)
    assert capped.sizes_.iloc[0]["vcpus"] == 2
