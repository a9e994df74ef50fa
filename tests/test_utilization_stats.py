import numpy as np
import pandas as pd
import pytest

from assess.collect.utilization import read_utilization
from assess.model import Estate
from assess.sizing.utilization_stats import STATS_COLUMNS, file_stats, frame_stats


def _frame(rows):
    return Estate(tables={"utilization": pd.DataFrame(
        rows, columns=["vm_id", "timestamp", "metric", "value", "interval_s"])})["utilization"]


SMALL = _frame([
    ("a", "2024-01-01T07:00Z", "cpu_usage_mhz", 1.0, 3600),
    ("a", "2024-01-01T08:00Z", "cpu_usage_mhz", 2.0, 3600),
    ("a", "2024-01-01T09:00Z", "cpu_usage_mhz", 3.0, 3600),
    ("a", "2024-01-01T11:00Z", "cpu_usage_mhz", 4.0, 3600),
    ("a", "2024-01-01T11:00Z", "net_kbps", None, 3600),  # no value: not counted
    ("b", "2024-01-01T00:00Z", "mem_consumed_mib", 10.0, None),
    ("b", "2024-01-01T00:10Z", "mem_consumed_mib", 10.0, None),
    ("b", "2024-01-01T00:20Z", "mem_consumed_mib", 10.0, None),
    ("b", "2024-01-01T00:40Z", "mem_consumed_mib", 10.0, None),
])


def _both(frame, tmp_path, **kw):
    path = tmp_path / "u.parquet"
    frame.to_parquet(path)
    return frame_stats(frame, **kw), file_stats([path], **kw)


def test_hand_computed_statistics_from_both_paths(tmp_path):
    for stats in _both(SMALL, tmp_path):
        assert list(stats.columns) == STATS_COLUMNS
        keys = stats[["vm_id", "metric"]].values.tolist()
        assert keys == [["a", "cpu_usage_mhz"], ["b", "mem_consumed_mib"]]
        a, b = stats.iloc[0], stats.iloc[1]
        assert (a["samples"], a["min"], a["mean"], a["max"]) == (4, 1.0, 2.5, 4.0)
        assert a["std"] == pytest.approx((5 / 3) ** 0.5)  # squares 2.25+0.25+0.25+2.25 = 5, / (4-1)
        # linear interpolation at position q*(n-1): p50 2.5, p90 3 + 0.7 = 3.7, p95 3.85, p99 3.97
        assert [a["p50"], a["p90"], a["p95"], a["p99"]] == pytest.approx([2.5, 3.7, 3.85, 3.97])
        assert (a["first"], a["last"]) == (pd.Timestamp("2024-01-01 07:00", tz="UTC"),
                                           pd.Timestamp("2024-01-01 11:00", tz="UTC"))
        # 4 samples x 3600 s over a span of 4 h + 1 interval = 14400 / 18000
        assert (a["interval_s"], a["coverage"]) == (3600.0, pytest.approx(0.8))
        assert a["day_night_ratio"] == pytest.approx(3.0)  # day (08-20 UTC) mean 3 / night mean 1
        assert a["daily_cycle"] == pytest.approx(1.0)  # one sample per hour: hours explain everything
        # no recorded interval: modal spacing of 600, 600, 1200 s = 600; 4 x 600 / (2400 + 600)
        assert (b["interval_s"], b["coverage"]) == (600.0, pytest.approx(0.8))
        assert (b["std"], b["daily_cycle"]) == (0.0, 0.0)  # flat
        assert np.isnan(b["day_night_ratio"])  # no daytime samples


def test_lookback_window_ends_at_each_vms_own_last_sample(tmp_path):
    for stats in _both(SMALL, tmp_path, lookback_days=3 / 24):
        a, b = stats.iloc[0], stats.iloc[1]
        assert (a["samples"], a["min"]) == (2, 3.0)  # a: (08:00, 11:00]
        assert b["samples"] == 4  # b's history ends at 00:40: its own window (21:40, 00:40] holds all four


def test_fixed_window_end_applies_to_every_vm(tmp_path):
    for stats in _both(SMALL, tmp_path, lookback_days=3 / 24, end=pd.Timestamp("2024-01-01T11:00Z")):
        assert list(stats["vm_id"]) == ["a"]  # b has nothing in (08:00, 11:00]
        assert stats.iloc[0]["samples"] == 2


def test_duplicates_count_once_and_the_interval_is_the_modal_spacing(tmp_path):
    # 300 s steps with one 301 s jitter, and every timestamp written twice (the second copy larger):
    # the mean/median of raw steps would say ~150 s; de-duplicated, the mode is 300 s
    times = ["00:00:00", "00:05:00", "00:10:00", "00:15:01", "00:20:01", "00:25:01"]
    rows = [("d", f"2024-01-01T{t}Z", "cpu_usage_mhz", v, None) for t in times for v in (10.0, 20.0)]
    for stats in _both(_frame(rows), tmp_path):
        d = stats.iloc[0]
        assert d["samples"] == 6 and d["interval_s"] == 300.0
        assert d["min"] == 20.0  # of duplicates, the largest value is kept


def test_in_memory_and_out_of_core_paths_agree_on_a_generated_frame(tmp_path):
    rng = np.random.default_rng(7)
    vms, n = 40, 300
    times = pd.date_range("2024-03-01", periods=n, freq="2h", tz="UTC")
    frame = pd.DataFrame({
        "vm_id": np.repeat([f"vc/vm-{i}" for i in range(vms)], n * 2),
        "timestamp": np.tile(times, vms * 2),
        "metric": np.tile(np.repeat(["cpu_usage_mhz", "net_kbps"], n), vms),
        "value": rng.gamma(2.0, 150.0, vms * n * 2),
        "interval_s": 7200,
    })
    frame.loc[::13, "value"] = np.nan
    frame.loc[frame.index % 29 == 0, "interval_s"] = None
    frame = frame.drop(index=range(200, 260))  # a 120 h gap in vm-0's CPU inside the 14-day window
    frame = Estate(tables={"utilization": frame})["utilization"]
    in_memory = frame_stats(frame, lookback_days=14)
    path = tmp_path / "u.csv"
    frame.to_csv(path, index=False)
    for out_of_core in (_both(frame, tmp_path, lookback_days=14)[1], file_stats([path], lookback_days=14)):
        pd.testing.assert_frame_equal(in_memory, out_of_core, rtol=1e-12)
    assert len(in_memory) == vms * 2
    # the gap removes 60 of the 168 slots of the window: coverage below (168 - 60) / 168 = 0.64
    assert in_memory.loc[0, "coverage"] < 0.65 < 0.9 < in_memory["coverage"].median()


def test_stats_of_a_real_bitbrains_trace(shared):
    inv = Estate()
    inv["vms"] = pd.DataFrame({"vm_id": ["vc/vm-1"], "name": ["vm1-2013-07"]})
    est = read_utilization([shared / "data/traces/bitbrains_rnd/vm1-2013-07.csv"], inv)
    stats = frame_stats(est["utilization"]).set_index("metric")
    cpu = stats.loc["cpu_usage_mhz"]
    # 8260 samples of 300 s between epoch 1372629804 and 1375221457 (2591653 s):
    # coverage 8260 * 300 / (2591653 + 300) = 0.95603
    assert cpu["samples"] == 8260 and cpu["interval_s"] == 300.0
    assert cpu["coverage"] == pytest.approx(8260 * 300 / (2591653 + 300))
    assert cpu["last"] == pd.Timestamp(1375221457, unit="s", tz="UTC")
