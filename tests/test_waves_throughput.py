"""Waves sized by throughput, the programme timeline and the dual-running cost (hand-computed)."""

from datetime import datetime

import pandas as pd
import pytest
from waves_helpers import make_estate

from assess.model import AssessError
from assess.waves import WaveCaps, WavesParams, plan_waves
from assess.waves.dual_running import dual_running_cost
from assess.waves.throughput import Throughput, validation_load

GBIT_PER_GIB = 8 * 1.073741824
START = datetime(2027, 1, 8, 20, 0)


def test_ten_tib_over_ten_gbps_at_seventy_percent_in_a_48_hour_window():
    caps = WaveCaps.from_params(WavesParams())
    # 10 TiB = 10,240 GiB x 8.59 Gbit / (10 Gbit/s x 0.7) = 12,566 s = 3.49 h
    assert caps.aggregate_gbps == pytest.approx(7.0)
    assert caps.hours(10_240, 0) == pytest.approx(10_240 * GBIT_PER_GIB / 7 / 3600)
    assert caps.hours(10_240, 0) == pytest.approx(3.4906, abs=1e-4)
    assert caps.fits(100, 10.0, 10_240, 100) is None
    # 48 h at 7 Gbit/s move 48 x 3600 x 7 / 8.59 = 140,800 GiB; one GiB more breaks the window
    window_gib = 48 * 3600 * 7 / GBIT_PER_GIB
    too_much = caps.fits(1, 0, window_gib * 1.001, 1)
    assert too_much.startswith("transfer window 48 h (network (10 Gbit/s x 0.7))")


def test_the_binding_copy_limit_is_named_and_doubling_it_doubles_the_rate():
    net = Throughput.from_params(WavesParams())
    assert (net.copy_gbps, net.copy_limit) == (pytest.approx(7.0), "network (10 Gbit/s x 0.7)")
    assert Throughput.from_params(WavesParams(bandwidth_gbps=20)).copy_gbps == pytest.approx(14.0)
    # Forklift binds when few VMs copy at once: 2 in flight x 2 Gbit/s = 4 < 7; doubling it: 8 -> network 7
    slow = Throughput.from_params(WavesParams(max_concurrent=2))
    assert (slow.copy_gbps, slow.copy_limit) == (4.0, "Forklift concurrency (2 VMs x 2 Gbit/s)")
    assert Throughput.from_params(WavesParams(max_concurrent=4)).copy_gbps == pytest.approx(7.0)
    disk = Throughput.from_params(WavesParams(storage_write_gbps=5))
    assert (disk.copy_gbps, disk.copy_limit) == (5.0, "target storage write (5 Gbit/s)")


def test_vms_per_wave_from_cutover_validation_and_the_optional_cap():
    # (48 h x 60 - 60 min per wave) / 10 min per VM = 282 rounds of 20 VMs at a time = 5,640 VMs
    model = Throughput.from_params(WavesParams())
    assert (model.vms_per_wave, model.vms_limit) == (5640, "cutover (10 min per VM, 20 at a time)")
    people = Throughput.from_params(WavesParams(validate_vms_per_window=40))
    assert (people.vms_per_wave, people.vms_limit) == (40, "validation (40 VMs per window)")
    both = Throughput.from_params(WavesParams(validate_vms_per_window=40, max_vms_per_wave=25))
    assert (both.vms_per_wave, both.vms_limit) == (25, "max_vms_per_wave 25")


def test_parallel_waves_never_exceed_provider_concurrency():
    two = Throughput.from_params(WavesParams(providers=2, parallel_waves=2, bandwidth_gbps=100))
    # each wave runs on one provider: 20 in flight, so 2 waves x 20 <= 2 providers x 20
    assert two.in_flight * 2 <= 2 * 20 and two.in_flight == 20
    assert two.copy_gbps == pytest.approx(min(100 * 0.7 / 2, 20 * 2))  # the link is shared by both waves
    with pytest.raises(AssessError, match="parallel_waves=3 should be <= providers=2"):
        Throughput.from_params(WavesParams(providers=2, parallel_waves=3))
    est = make_estate([f"v{i}" for i in range(8)])
    waves = plan_waves(est, params=WavesParams(pilot_vms=0, max_vms_per_wave=2, providers=2, parallel_waves=2,
                                               start=START)).tables["waves"]
    assert waves["start"].value_counts().max() == 2  # two waves share each window, never more
    assert len(waves) == 4 and waves["start"].nunique() == 2


def test_doubling_bandwidth_shortens_a_bandwidth_bound_programme():
    # 300 VMs of 1 TiB: a 48 h window at 7 Gbit/s moves 137.5 TiB -> 3 waves; at 14 Gbit/s 275 TiB -> 2
    names = [f"v{i:03d}" for i in range(300)]
    disks = [(n, "2000", 1024.0 * 1024, None, None) for n in names]
    est = make_estate(names, disks=disks)
    slow = plan_waves(est, params=WavesParams(pilot_vms=0, start=START))
    fast = plan_waves(est, params=WavesParams(pilot_vms=0, start=START, bandwidth_gbps=20))
    assert (len(slow.tables["waves"]), len(fast.tables["waves"])) == (3, 2)
    assert slow.summary["programme"]["programme_days"] == 16.0  # 3 weekly windows: 14 days + 48 h
    assert fast.summary["programme"]["programme_days"] == 9.0
    assert slow.tables["waves"]["closed_by"].iloc[0].startswith("transfer window 48 h (network")


def test_a_clusters_empty_date_is_the_end_of_its_last_vms_wave_or_unknown():
    est = make_estate(["p1", "p2", "t1", "r1"])
    est["vms"] = est["vms"].assign(cluster=["CL-PRD", "CL-PRD", "CL-TST", "CL-R"], datacenter="DC1",
                                   name=["P-A-01", "P-B-01", "T-C-01", "P-R-01"])
    readiness = pd.DataFrame({"vm_id": ["vc/p1", "vc/p2", "vc/t1", "vc/r1"], "method": "cold",
                              "verdict": ["ready", "ready", "ready", "not_ready"]})
    r = plan_waves(est, readiness, params=WavesParams(pilot_vms=0, start=START))
    waves = r.tables["waves"].set_index("wave")
    t = r.tables["timeline"].set_index(["kind", "item"])
    plan = r.tables["wave_plan"].set_index("vm_id")
    assert t.loc[("cluster empty", "CL-PRD"), "end"] == waves.loc[plan.loc["vc/p1", "wave"], "end"]
    assert t.loc[("cluster empty", "CL-TST"), "end"] == waves.loc[plan.loc["vc/t1", "wave"], "end"]
    assert pd.isna(t.loc[("cluster empty", "CL-R"), "end"])
    assert "remediate-first" in t.loc[("cluster empty", "CL-R"), "detail"]
    assert pd.isna(t.loc[("datacenter empty", "DC1"), "end"])
    assert t.loc[("programme", "programme"), "days"] == pytest.approx(9.0)  # windows on Jan 8 and Jan 15


def test_dual_running_cost_month_by_month():
    # two clusters with equal cores: the current side costs 1,200 a year (100 a month), the target 2,400
    starts = pd.to_datetime(["2027-01-08 20:00", "2027-02-05 20:00"], utc=True)
    waves = pd.DataFrame({"wave": [1, 2], "start": starts,
                          "end": pd.to_datetime(["2027-01-10 20:00", "2027-02-07 20:00"], utc=True)})
    plan = pd.DataFrame({"vm_id": ["a", "b"], "wave": pd.array([1, 2], dtype="Int64")})
    sizing = pd.DataFrame({"vm_id": ["a", "b"], "node": ["n1", "n2"]})
    hosts = pd.DataFrame({"cluster": ["A", "B"], "cores": [32, 32]})
    timeline = pd.DataFrame({"kind": "cluster empty", "item": ["A", "B"], "end": waves["end"]})
    cost = pd.DataFrame({"side": ["current", "target"], "item": "total", "annual_cost": [1200.0, 2400.0],
                         "currency": "EUR"})
    table, summary = dual_running_cost(timeline, waves, plan, sizing, hosts, cost)
    # January: A empties on Jan 10 but is paid for January, B runs (50 + 50); node n1 in use of 2 (100).
    # February: B empties on Feb 7, paid for February (50); both nodes (200)
    assert table["month"].tolist() == ["2027-01", "2027-02"]
    assert table["current_cost"].tolist() == pytest.approx([100.0, 50.0])
    assert table["clusters_running"].tolist() == [2, 1]
    assert table["target_cost"].tolist() == pytest.approx([100.0, 200.0])
    assert summary["migration_period_cost"] == pytest.approx(450.0)
    assert (summary["current_monthly_before"], summary["target_monthly_steady"]) == (100.0, 200.0)


def test_the_busiest_window_names_the_validation_it_asks_and_the_teams_it_takes():
    # two waves share the first window (120 + 80 = 200 VMs), the second holds 90: at 50-100 VMs a
    # team a week, 200 VMs in a weekly window take 2-4 teams; a fortnightly cadence halves that
    starts = pd.to_datetime(["2027-01-08 20:00", "2027-01-08 20:00", "2027-01-15 20:00"], utc=True)
    waves = pd.DataFrame({"wave": [1, 2, 3], "start": starts, "vms": [120, 80, 90]})
    load = validation_load(waves, WavesParams())
    assert (load["peak_window_vms"], load["teams_low"], load["teams_high"]) == (200, 2, 4)
    assert load["peak_window_start"] == starts[0]
    fortnight = validation_load(waves, WavesParams(cadence_days=14))
    assert (fortnight["teams_low"], fortnight["teams_high"]) == (1, 2)
    assert validation_load(waves.iloc[:0], WavesParams()) is None


def test_the_timeline_says_what_validation_the_plan_asks_and_whether_people_limit_it():
    est = make_estate([f"v{i}" for i in range(30)])
    free = plan_waves(est, params=WavesParams(pilot_vms=0, start=START))
    row = free.tables["timeline"].set_index("kind").loc["people"]
    assert row["detail"].startswith("the busiest window asks to validate 30 VMs: 1 migration-factory team(s)")
    assert "validate_vms_per_window is not set" in row["detail"]
    assert free.summary["programme"]["teams_needed"] == "1"
    capped = plan_waves(est, params=WavesParams(pilot_vms=0, start=START, validate_vms_per_window=10))
    row = capped.tables["timeline"].set_index("kind").loc["people"]
    assert len(capped.tables["waves"]) == 3
    assert "validate_vms_per_window 10 limits every window" in row["detail"]
    assert capped.summary["programme"]["peak_window_vms"] == 10
