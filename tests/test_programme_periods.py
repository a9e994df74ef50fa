"""The programme period by period (``programme_periods``) and the week x cluster programme chart."""

from datetime import UTC, datetime

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from waves_helpers import make_estate

from assess.report.charts import figure_svg
from assess.waves import WavesParams, plan_waves
from assess.waves.periods import limit_of, programme_periods
from assess.waves.plots import programme_chart, vms_by_period_and_cluster
from assess.waves.schedule import WaveCaps
from tests.fuzz_strategies import hostile_text

VALIDATION = "VM cap 100 (validation (100 VMs per window))"
NETWORK = "transfer window 48 h (network (10 Gbit/s x 0.7))"


def _ts(text):
    return pd.Timestamp(text, tz="UTC")


def _waves():
    """Seven waves a week apart from Fri 1 Jan 2027, the last pinned to 2 April (March has none)."""
    starts = [_ts(d) for d in ("2027-01-01 20:00", "2027-01-08 20:00", "2027-01-15 20:00", "2027-01-22 20:00",
                               "2027-01-29 20:00", "2027-02-05 20:00", "2027-04-02 20:00")]
    return pd.DataFrame({
        "wave": pd.array(range(7), dtype="Int64"),
        "kind": ["shared-services", "pilot", "standard", "standard", "standard", "standard", "standard"],
        "vms": pd.array([2, 5, 100, 100, 100, 60, 30], dtype="Int64"),
        "storage_tib": [0.5, 1.0, 20.0, 20.0, 20.0, 30.0, 5.0],
        "transfer_hours": [0.5, 1.0, 10.0, 12.0, 8.0, 48.0, 3.0],
        "closed_by": ["", "pilot size", VALIDATION, VALIDATION, VALIDATION, NETWORK, ""],
        "start": starts, "end": [s + pd.Timedelta(hours=48) for s in starts]})


def _timeline():
    return pd.DataFrame({
        "item": ["programme", "A", "B", "C", "DC1"],
        "kind": ["programme", "cluster empty", "cluster empty", "cluster empty", "datacenter empty"],
        "start": [_ts("2027-01-01 20:00")] * 5,
        "end": [_ts("2027-04-04 20:00"), _ts("2027-01-31 20:00"), _ts("2027-02-07 20:00"), pd.NaT,
                _ts("2027-02-07 20:00")]})


def _dual():
    return pd.DataFrame({"month": ["2027-01", "2027-02", "2027-03", "2027-04"],
                         "current_cost": [300.0, 200.0, 100.0, 0.0],
                         "target_cost": [50.0, 80.0, 100.0, 120.0],
                         "total_cost": [350.0, 280.0, 200.0, 120.0]})


def test_each_month_has_its_load_binding_limit_clusters_emptied_and_cost():
    waves, timeline, dual = _waves(), _timeline(), _dual()
    before = (waves.copy(), timeline.copy(), dual.copy())
    table, summary = programme_periods(waves, timeline, dual, WavesParams(cadence_days=7, window_hours=48))
    assert table["period"].tolist() == ["2027-01", "2027-02", "2027-03", "2027-04"]
    assert table["waves"].tolist() == [5, 1, 0, 1]
    assert table["vms"].tolist() == [307, 60, 0, 30]
    assert table["storage_tib"].tolist() == pytest.approx([61.5, 30.0, 0.0, 5.0])
    assert table["transfer_hours"].tolist() == pytest.approx([31.5, 48.0, 0.0, 3.0])
    # windows open every 7 days from 1 Jan: 1, 8, 15, 22, 29 Jan; 5, 12, 19, 26 Feb; 5 .. 26 Mar; 2 Apr
    assert table["window_hours"].tolist() == [5 * 48.0, 4 * 48.0, 4 * 48.0, 1 * 48.0]
    # January: shared services, pilot and three waves the validation team closed
    assert table["binding_limit"].tolist()[:2] == ["validation (100 VMs per window)", NETWORK]
    assert table["binding_kind"].fillna("").tolist() == ["VMs per window", "copy window", "", "last VMs"]
    assert table["binding_waves"].fillna(0).tolist() == [3, 1, 0, 1]
    assert table.loc[2, ["binding_limit", "binding_kind", "binding_waves"]].isna().all()  # March: no wave
    # A empties on 31 Jan, B on 7 Feb; C waits on remediation (no date); the datacenter row is not a cluster
    assert table["clusters_emptied"].tolist() == [1, 1, 0, 0]
    assert table["emptied_clusters"].tolist()[:2] == ["A", "B"] and table["emptied_clusters"][2:].isna().all()
    assert table["total_cost"].tolist() == [350.0, 280.0, 200.0, 120.0]
    assert table["current_cost"].tolist() == [300.0, 200.0, 100.0, 0.0]
    assert summary == {"frequency": "month", "periods": 4, "binding_limit": "validation (100 VMs per window)",
                       "binding_kind": "VMs per window", "binding_waves": 3, "waves": 7}
    for passed, kept in zip((waves, timeline, dual), before):
        pd.testing.assert_frame_equal(passed, kept)  # pure


def test_without_cost_the_period_cost_is_unknown_not_zero():
    table, _ = programme_periods(_waves(), _timeline(), pd.DataFrame(columns=_dual().columns), WavesParams())
    assert table[["current_cost", "target_cost", "total_cost"]].isna().all().all()


def test_parallel_waves_offer_more_window_hours():
    table, _ = programme_periods(_waves(), _timeline(), _dual(),
                                 WavesParams(providers=2, parallel_waves=2, window_hours=24))
    assert table["window_hours"].tolist() == [5 * 2 * 24.0, 4 * 2 * 24.0, 4 * 2 * 24.0, 1 * 2 * 24.0]


def test_a_programme_over_three_years_is_counted_in_quarters():
    starts = [_ts("2027-01-08 20:00"), _ts("2030-04-02 20:00")]
    waves = pd.DataFrame({"wave": pd.array([1, 2], dtype="Int64"), "kind": "standard",
                          "vms": pd.array([10, 10], dtype="Int64"), "storage_tib": 1.0, "transfer_hours": 1.0,
                          "closed_by": [VALIDATION, ""], "start": starts,
                          "end": [s + pd.Timedelta(hours=48) for s in starts]})
    months = pd.period_range("2027-01", "2030-04", freq="M")  # 40 months: more than 36 rows
    dual = pd.DataFrame({"month": [str(m) for m in months], "current_cost": 1.0, "target_cost": 0.0,
                         "total_cost": 1.0})
    table, summary = programme_periods(waves, _timeline().iloc[:0], dual, WavesParams())
    assert summary["frequency"] == "quarter" and len(table) == 14  # 2027Q1 .. 2030Q2
    assert table["period"].iloc[[0, -1]].tolist() == ["2027Q1", "2030Q2"]
    assert table["total_cost"].iloc[[0, -1]].tolist() == [3.0, 1.0]  # Jan-Mar 2027; April 2030 only
    assert table["waves"].sum() == 2


def test_limit_texts_come_from_the_caps_and_normalise_to_a_few_kinds():
    caps = WaveCaps.from_params(WavesParams(validate_vms_per_window=100, max_tb_per_wave=5))
    assert limit_of(caps.fits(101, 0, 0, 0), "standard", False) == ("VMs per window",
                                                                     "validation (100 VMs per window)")
    cutover = WaveCaps.from_params(WavesParams())
    assert limit_of(cutover.fits(10**6, 0, 0, 0), "standard", False) == (
        "VMs per window", "cutover (10 min per VM, 20 at a time)")
    assert limit_of(caps.fits(1, 6.0, 0, 0), "standard", False) == ("storage cap", "storage cap 5 TiB")
    copy = caps.fits(1, 0, 10**6, 1.0)
    assert copy.startswith("transfer window") and limit_of(copy, "standard", False) == ("copy window", copy)
    phase = "phase change: production moves in later windows than dev/test"
    assert limit_of(phase, "dev/test", False) == ("phase change", phase)
    assert limit_of("", "shared-services", False)[0] == "shared services"
    assert limit_of("", "standard", True)[0] == "last VMs"
    assert limit_of("", "standard", False)[0] == "dependencies or pins"
    assert limit_of("something new", "standard", False) == ("other", "something new")


def test_the_planner_names_the_validation_team_as_the_binding_limit():
    # 12 unlinked VMs, the team validates 4 per window: waves of 4, the last one closed by running out
    est = make_estate([f"vm{i:02d}" for i in range(12)])
    params = WavesParams(pilot_vms=0, validate_vms_per_window=4, start=datetime(2027, 1, 1, 20, tzinfo=UTC))
    r = plan_waves(est, params=params)
    periods = r.tables["programme_periods"]
    assert periods["period"].tolist() == ["2027-01"]
    assert (periods.loc[0, "waves"], periods.loc[0, "vms"]) == (3, 12)
    binding = (periods.loc[0, "binding_limit"], periods.loc[0, "binding_waves"])
    assert binding == ("validation (4 VMs per window)", 2)
    assert r.summary["periods"]["binding_waves"] == 2


# -- the programme chart -----------------------------------------------------------------------------


def _estate_at_scale(waves=5000, clusters=300, vms_per_wave=20, per_week=50):
    """``waves`` waves of ``vms_per_wave`` VMs, ``per_week`` a weekly window, over ``clusters`` clusters."""
    rng = np.random.default_rng(0)
    n = waves * vms_per_wave
    week = np.arange(waves) // per_week
    table = pd.DataFrame({"wave": pd.array(np.arange(1, waves + 1), dtype="Int64"),
                          "start": _ts("2027-01-01 20:00") + pd.to_timedelta(7 * week, unit="D")})
    ids = [f"vc/vm-{i}" for i in range(n)]
    plan = pd.DataFrame({"vm_id": ids, "wave": pd.array(np.repeat(np.arange(1, waves + 1), vms_per_wave),
                                                        dtype="Int64")})
    weights = rng.pareto(1.2, clusters) + 0.1  # a few large clusters, a long tail of small ones
    vms = pd.DataFrame({"vm_id": ids, "cluster": rng.choice([f"cl-{c:03d}" for c in range(clusters)], n,
                                                            p=weights / weights.sum())})
    return table, plan, vms


def test_the_chart_counts_every_vm_and_stays_bounded_at_5000_waves_over_300_clusters():
    waves, plan, vms = _estate_at_scale()
    counts, name = vms_by_period_and_cluster(plan, waves, vms)
    assert name == "week" and counts.shape == (21, 100)  # 20 clusters + the rest; 100 weeks
    assert counts.to_numpy().sum() == 100_000
    assert counts.index[-1] == f"({vms['cluster'].nunique() - 20} other clusters)"
    timeline = pd.DataFrame({"item": ["cl-000"], "kind": ["cluster empty"], "end": [_ts("2028-01-01")]})
    fig = programme_chart(plan, waves, vms, timeline)
    image = fig.axes[0].images[0].get_array()
    assert image.sum() == 100_000 and image.shape == (21, 100)
    assert "all 5,000 waves, 100,000 VMs" in fig.axes[0].get_title()


def test_a_long_programme_switches_to_months_then_coarser_columns():
    waves, plan, vms = _estate_at_scale(waves=2000, per_week=10)  # 200 weeks: about four years
    counts, name = vms_by_period_and_cluster(plan, waves, vms)
    assert name == "month" and counts.shape[1] == 46 and counts.to_numpy().sum() == 40_000
    waves, plan, vms = _estate_at_scale(waves=5000, per_week=1)  # 96 years of weekly windows
    counts, name = vms_by_period_and_cluster(plan, waves, vms)
    assert name == "year" and counts.shape[1] <= 160 and counts.to_numpy().sum() == 100_000


def test_the_chart_marks_each_cluster_empty_date_and_draws_names_as_written():
    starts = [_ts("2027-01-01 20:00"), _ts("2027-01-29 20:00")]
    waves = pd.DataFrame({"wave": pd.array([1, 2], dtype="Int64"), "start": starts})
    plan = pd.DataFrame({"vm_id": ["a", "b", "c", "d"], "wave": pd.array([1, 1, 2, None], dtype="Int64")})
    vms = pd.DataFrame({"vm_id": ["a", "b", "c", "d"], "cluster": ["$x^2$", "<b>B</b>", "<b>B</b>", "$x^2$"]})
    timeline = pd.DataFrame({"item": ["$x^2$", "<b>B</b>"], "kind": "cluster empty",
                             "end": [pd.NaT, _ts("2027-01-31 20:00")]})
    fig = programme_chart(plan, waves, vms, timeline)
    ax, right = fig.axes[0], fig.axes[1]  # the chart, its right axis (then the colour bar)
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == ["<b>B</b>", "$x^2$"]  # B moves more VMs first week; names as written
    assert [t.get_text() for t in right.get_yticklabels()] == ["empty 31 Jan 2027", "waits on remediation"]
    marks = np.concatenate([c.get_offsets() for c in ax.collections])
    assert marks.tolist() == [[mdates.date2num(pd.Timestamp("2027-01-31 20:00")), 0.5]]
    assert ax.images[0].get_array().sum() == 3  # d is in no wave
    svg = figure_svg(fig)
    assert "$x^2$" in svg and "&lt;b&gt;B&lt;/b&gt;" in svg and "<b>B" not in svg


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters=st.lists(hostile_text, min_size=1, max_size=4))
def test_the_programme_chart_draws_any_cluster_name(clusters):
    n = len(clusters)
    waves = pd.DataFrame({"wave": pd.array([1], dtype="Int64"), "start": [_ts("2027-01-01 20:00")]})
    plan = pd.DataFrame({"vm_id": [f"v{i}" for i in range(n)], "wave": pd.array([1] * n, dtype="Int64")})
    vms = pd.DataFrame({"vm_id": plan["vm_id"], "cluster": clusters})
    timeline = pd.DataFrame({"item": list(dict.fromkeys(clusters)), "kind": "cluster empty",
                             "end": _ts("2027-01-03 20:00")})  # one row per cluster, as the timeline has
    fig = programme_chart(plan, waves, vms, timeline)
    assert fig.axes[0].images[0].get_array().sum() == n
    assert figure_svg(fig).startswith("<svg")


def test_one_cluster_past_the_top_gets_its_own_row_rather_than_an_other_row():
    waves = pd.DataFrame({"wave": pd.array([1], dtype="Int64"), "start": [_ts("2027-01-01 20:00")]})
    plan = pd.DataFrame({"vm_id": [f"v{i}" for i in range(4)], "wave": pd.array([1] * 4, dtype="Int64")})
    vms = pd.DataFrame({"vm_id": plan["vm_id"], "cluster": ["a", "a", "b", "c"]})
    assert vms_by_period_and_cluster(plan, waves, vms, top=2)[0].index.tolist() == ["a", "b", "c"]
    vms = vms.assign(cluster=["a", "b", "c", "d"])
    rows = vms_by_period_and_cluster(plan, waves, vms, top=2)[0].index.tolist()
    assert rows == ["a", "b", "(2 other clusters)"]
