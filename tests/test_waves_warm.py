"""Warm migration: in-window delta from the measured change rate, pre-copy lead per VM and per wave.

Hand-computed figures (defaults: 10 Gbit/s x 0.7 = 7 Gbit/s per wave, 2 Gbit/s per VM, 60-min
pre-copy interval, 2-day floor, 10% assumed delta; 1 GiB = 8.589934592 Gbit; vCenter's KB = 1024 B):

- 1 TiB at 2 Gbit/s: 1024 x 8.589934592 / 2 / 86400 = 0.0509 days -> the 2-day floor wins;
- 40 TiB at 2 Gbit/s: 40960 x 8.589934592 / 2 / 86400 = 2.0362 days;
- 1,000 KB/s for 60 min: 1000 x 1024 x 3600 / 2^30 = 3.4332 GiB in the window;
- 300,000 KB/s = 300000 x 1024 x 8 / 1e9 = 2.4576 Gbit/s >= 2 Gbit/s: may never converge.
"""

from datetime import UTC, datetime

import pandas as pd
import pytest
from waves_helpers import make_estate

from assess.waves import WavesParams, plan_waves

GBIT_PER_GIB = 8.589934592
TIB = 1024.0
START = datetime(2026, 1, 2, 20, 0, tzinfo=UTC)


def _plan(vms: dict, params: WavesParams | None = None, measured: bool = True):
    """Plan ``vms`` (name -> (method, storage GiB, disk KB/s P95 or None)) with a hand-made sizing table."""
    names = list(vms)
    estate = make_estate(names)
    ids = [f"vc/{n}" for n in names]
    readiness = pd.DataFrame({"vm_id": ids, "verdict": "ready", "method": [vms[n][0] for n in names]})
    sizing = pd.DataFrame({"vm_id": ids, "storage_gib": [vms[n][1] for n in names]})
    if measured:
        sizing["disk_kbps_p95"] = [vms[n][2] for n in names]
    params = params or WavesParams(pilot_vms=0, start=START)
    return plan_waves(estate, readiness, sizing, params)


def _vm(result, name: str) -> pd.Series:
    return result.tables["wave_plan"].set_index("name").loc[name]


def test_measured_change_rate_sets_the_in_window_delta_capped_at_the_disk():
    r = _plan({"busy": ("warm", 1 * TIB, 1000.0), "tiny": ("warm", 2.0, 1000.0),
               "cold": ("cold", 50.0, 1000.0)})
    busy, tiny, cold = _vm(r, "busy"), _vm(r, "tiny"), _vm(r, "cold")
    assert busy["transfer_basis"] == "warm measured change rate"
    assert busy["transfer_gib"] == pytest.approx(1000 * 1024 * 3600 / 2**30)  # 3.4332 GiB, not 10% = 102.4
    assert busy["transfer_gib"] == pytest.approx(3.4332275)
    assert "in the window 3.43 GiB = disk throughput P95 1,000 KB/s (read+write, an upper bound on the " \
           "change rate) x the 60-min pre-copy interval" in busy["reason"]
    assert tiny["transfer_gib"] == 2.0 and "(capped at the disk)" in tiny["reason"]
    # a cold VM copies its whole disk whatever its rate, with no pre-copy
    assert (cold["transfer_basis"], cold["transfer_gib"]) == ("cold full copy", 50.0)
    assert cold["precopy_days"] == 0.0
    # a shorter pre-copy interval shrinks the delta in proportion: 15 min -> 0.8583 GiB
    r15 = _plan({"busy": ("warm", 1 * TIB, 1000.0)},
                WavesParams(pilot_vms=0, start=START, precopy_interval_minutes=15))
    assert _vm(r15, "busy")["transfer_gib"] == pytest.approx(1000 * 1024 * 900 / 2**30)


def test_unmeasured_rate_keeps_the_assumed_fraction_and_says_so():
    r = _plan({"a": ("warm", 1 * TIB, None), "b": ("warm", 500.0, 800.0)})
    a, b = _vm(r, "a"), _vm(r, "b")
    assert (a["transfer_basis"], a["transfer_gib"]) == ("warm assumed delta fraction", pytest.approx(102.4))
    assert "warm_delta_fraction 0.1 of the disk (change rate not measured" in a["reason"]
    assert b["transfer_basis"] == "warm measured change rate"
    # no disk_kbps_p95 column at all (sizing not run with utilization): every warm VM is assumed
    r = _plan({"a": ("warm", 1 * TIB, None), "b": ("warm", 500.0, 800.0)}, measured=False)
    assert set(r.tables["wave_plan"]["transfer_basis"]) == {"warm assumed delta fraction"}
    assert _vm(r, "b")["transfer_gib"] == pytest.approx(50.0)


def test_a_change_rate_above_one_vms_copy_rate_is_planned_as_a_full_copy_and_says_why():
    # 300,000 KB/s = 2.4576 Gbit/s >= 2 Gbit/s; 290,000 KB/s = 2.3757 Gbit/s too; 200,000 = 1.6384 converges
    r = _plan({"hot": ("warm", 300.0, 300_000.0), "warm": ("warm", 2 * TIB, 200_000.0)})
    hot, ok = _vm(r, "hot"), _vm(r, "warm")
    assert hot["transfer_basis"] == "warm full copy (change rate >= copy rate)"
    assert (hot["transfer_gib"], hot["precopy_days"]) == (300.0, 0.0)
    assert "may not converge: disk throughput P95 300,000 KB/s (read+write, an upper bound on the change " \
           "rate) = 2.46 Gbit/s reaches one VM's copy rate 2 Gbit/s" in hot["reason"]
    assert "planned as a full copy of 300 GiB in the window" in hot["reason"]
    assert ok["transfer_basis"] == "warm measured change rate"
    assert ok["transfer_gib"] == pytest.approx(200_000 * 1024 * 3600 / 2**30)  # 686.65 GiB of 2048
    assert ok["transfer_gib"] == pytest.approx(686.6455)
    # the copy rate that decides is one VM's effective rate: at 1 Gbit/s per VM 200,000 KB/s diverges too
    r = _plan({"warm": ("warm", 300.0, 200_000.0)}, WavesParams(pilot_vms=0, start=START, per_vm_gbps=1.0))
    assert _vm(r, "warm")["transfer_basis"] == "warm full copy (change rate >= copy rate)"
    # the critical path says how many warm VMs are copied whole instead of pre-copied
    r = _plan({"hot": ("warm", 300.0, 300_000.0), "warm": ("warm", 300.0, 200.0)})
    row = r.tables["timeline"].set_index("item").loc["warm pre-copy lead"]
    assert "1 warm VM(s) whose measured change rate may outrun their copy" in row["detail"]


def test_precopy_lead_per_vm_is_the_floor_or_the_first_full_copy():
    r = _plan({"small": ("warm", 1 * TIB, 100.0), "huge": ("warm", 40 * TIB, None)})
    small, huge = _vm(r, "small"), _vm(r, "huge")
    assert 1024 * GBIT_PER_GIB / 2 / 86400 == pytest.approx(0.0509, abs=1e-4)  # below the 2-day floor
    assert small["precopy_days"] == 2.0
    assert "warm_precopy_days floor; first full copy 0.05 day(s) at 2 Gbit/s" in small["reason"]
    assert huge["precopy_days"] == pytest.approx(40960 * GBIT_PER_GIB / 2 / 86400)
    assert huge["precopy_days"] == pytest.approx(2.0362, abs=1e-4)
    assert "40960 GiB pre-copied over 2.04 day(s) before the window (first full copy 2.04 day(s)" \
        in huge["reason"]
    # a lower floor lets the small VM's own copy time show
    r = _plan({"small": ("warm", 1 * TIB, 100.0)}, WavesParams(pilot_vms=0, start=START, warm_precopy_days=0))
    assert _vm(r, "small")["precopy_days"] == pytest.approx(0.0509, abs=1e-4)


def test_wave_lead_is_the_longest_vm_or_the_wave_share_of_the_link():
    # one wave of 20 warm VMs of 10 TiB, unmeasured (1 TiB each in the window: 20 TiB x 8.59 / 7 = 6.98 h)
    # each VM alone: 10240 x 8.59 / 2 / 86400 = 0.509 d -> floor 2 d; together over the wave's 7 Gbit/s:
    # 204800 x 8.589934592 / 7 / 86400 = 2.9087 d: the link sets the lead
    r = _plan({f"v{i:02d}": ("warm", 10 * TIB, None) for i in range(20)})
    waves = r.tables["waves"]
    assert len(waves) == 1
    w = waves.iloc[0]
    assert w["precopy_tib"] == pytest.approx(200.0)
    assert w["precopy_days"] == pytest.approx(204800 * GBIT_PER_GIB / 7 / 86400)
    assert w["precopy_days"] == pytest.approx(2.9087, abs=1e-4)
    assert w["precopy_basis"].startswith("20 warm VMs' 200.00 TiB share the wave's copy rate 7 Gbit/s")
    lead = (pd.Timestamp(START) - w["precopy_start"]) / pd.Timedelta(days=1)
    assert lead == pytest.approx(2.9087, abs=1e-4)
    # every VM's own lead stays at the floor: the wave's is the one that counts on the calendar
    assert (r.tables["wave_plan"]["precopy_days"] == 2.0).all()
    # a wave of cold VMs has no pre-copy
    cold = _plan({"c": ("cold", 100.0, 10.0)}).tables["waves"].iloc[0]
    assert (cold["precopy_days"], cold["precopy_tib"]) == (0.0, 0.0) and pd.isna(cold["precopy_start"])
    assert not cold["precopy_overlap"]


def test_critical_path_names_the_longest_lead_its_wave_vm_and_basis():
    # v1 (1 TiB, floor 2 d) pinned to wave 1, v2 (40 TiB, 2.0362 d) to wave 2: one VM per wave
    params = WavesParams(pilot_vms=0, start=START, max_vms_per_wave=1, pins={"v1": 1, "v2": 2})
    r = _plan({"v1": ("warm", 1 * TIB, 50.0), "v2": ("warm", 40 * TIB, 50.0)}, params)
    waves = r.tables["waves"].set_index("wave")
    assert waves["precopy_days"].tolist() == pytest.approx([2.0, 40960 * GBIT_PER_GIB / 2 / 86400])
    assert waves.loc[1, "precopy_basis"].startswith("warm_precopy_days floor 2 (largest: VM 'v1'")
    assert waves.loc[2, "precopy_basis"] == "VM 'v2': first full copy of 40960 GiB at 2 Gbit/s"
    row = r.tables["timeline"].set_index("item").loc["warm pre-copy lead"]
    assert row["days"] == pytest.approx(2.0362, abs=1e-4)
    assert row["end"] == waves.loc[2, "start"] == pd.Timestamp(START) + pd.Timedelta(days=7)
    assert row["start"] == waves.loc[2, "precopy_start"]
    assert (row["end"] - row["start"]) / pd.Timedelta(days=1) == pytest.approx(2.0362, abs=1e-4)
    assert row["detail"].startswith(
        "longest: wave 2, 2.04 day(s) before its window: VM 'v2': first full copy of 40960 GiB at 2 Gbit/s; "
        "2 warm VM(s) pre-copied ahead of 2 wave(s), the first pre-copy from 2025-12-31 20:00 UTC")
    assert r.summary["programme"]["longest_precopy_days"] == pytest.approx(2.04)


def test_a_lead_longer_than_the_gap_between_windows_is_flagged_and_warned():
    # two 1 TiB warm VMs, one per wave, windows a day apart: wave 2 pre-copies from 2 days before its
    # window, i.e. a day before wave 1's window opens, while wave 1 still pre-copies
    params = WavesParams(pilot_vms=0, start=START, max_vms_per_wave=1, cadence_days=1.0, window_hours=12)
    r = _plan({"v1": ("warm", 1 * TIB, 50.0), "v2": ("warm", 1 * TIB, 50.0)}, params)
    waves = r.tables["waves"].set_index("wave")
    assert waves["precopy_overlap"].tolist() == [False, True]
    assert waves.loc[2, "precopy_start"] == pd.Timestamp(START) - pd.Timedelta(days=1)
    codes = {w["code"]: w["message"] for w in r.warnings}
    assert codes["waves.precopy.overlap"].startswith(
        "1 wave(s) start their warm pre-copy before the earlier waves' copies end (windows 1 days apart): "
        "2 (2.0 d)")
    row = r.tables["timeline"].set_index("item").loc["warm pre-copy lead"]
    assert "1 wave(s) (2) start pre-copying before the earlier waves' copies end" in row["detail"]
    # a week apart: no overlap, no warning
    r = _plan({"v1": ("warm", 1 * TIB, 50.0), "v2": ("warm", 1 * TIB, 50.0)},
              WavesParams(pilot_vms=0, start=START, max_vms_per_wave=1))
    assert not r.tables["waves"]["precopy_overlap"].any()
    assert "waves.precopy.overlap" not in {w["code"] for w in r.warnings}


def test_a_precopy_starting_while_the_previous_window_still_copies_is_flagged():
    # windows 3 days apart; wave 1 copies a 30 TiB cold VM at 2 Gbit/s: 30720 x 8.59 / 2 / 3600 = 36.65 h;
    # wave 2's 2-day pre-copy starts 24 h after wave 1's window opens, while that copy still runs
    params = WavesParams(pilot_vms=0, start=START, max_vms_per_wave=1, cadence_days=3.0,
                         pins={"big": 1, "w": 2})
    r = _plan({"big": ("cold", 30 * TIB, None), "w": ("warm", 1 * TIB, 50.0)}, params)
    waves = r.tables["waves"].set_index("wave")
    assert waves.loc[1, "transfer_hours"] == pytest.approx(30720 * GBIT_PER_GIB / 2 / 3600)
    assert waves.loc[2, "precopy_start"] == pd.Timestamp(START) + pd.Timedelta(days=1)
    assert waves["precopy_overlap"].tolist() == [False, True]
    # a 19 TiB copy (19456 x 8.59 / 2 / 3600 = 23.2 h) is done before the pre-copy starts at 24 h
    r = _plan({"big": ("cold", 19 * TIB, None), "w": ("warm", 1 * TIB, 50.0)}, params)
    assert not r.tables["waves"]["precopy_overlap"].any()


def test_no_wave_no_precopy_and_no_lead_row():
    estate = make_estate(["a", "b"])
    readiness = pd.DataFrame({"vm_id": ["vc/a", "vc/b"], "verdict": "excluded", "method": "warm"})
    r = plan_waves(estate, readiness, params=WavesParams(start=START))
    waves = r.tables["waves"]
    assert waves.empty and {"precopy_days", "precopy_start", "precopy_overlap"} <= set(waves.columns)
    assert "warm pre-copy lead" not in set(r.tables["timeline"]["item"])
    assert r.summary["programme"]["longest_precopy_days"] is None


def test_sizing_carries_the_disk_throughput_p95_the_waves_stage_reads(staged_sample):
    # the P95 (linear) of each VM's disk_kbps samples over its 30-day lookback window, KB/s
    sizing = staged_sample.raw["sizing"].tables["sizing"].set_index("vm_id")
    u = staged_sample.estate["utilization"]
    disk = u[u["metric"] == "disk_kbps"]
    vm = disk["vm_id"].iloc[0]
    mine = disk[disk["vm_id"] == vm]
    window = mine[mine["timestamp"] > mine["timestamp"].max() - pd.Timedelta(days=30)]
    assert sizing.loc[vm, "disk_kbps_p95"] == pytest.approx(window["value"].quantile(0.95))
    no_disk = sorted(set(sizing.index) - set(disk["vm_id"]))
    assert sizing.loc[no_disk, "disk_kbps_p95"].isna().all()
    # and the waves stage uses it for every warm VM it measured
    plan = staged_sample.raw["waves"].tables["wave_plan"].set_index("vm_id")
    warm = plan[plan["method"] == "warm"]
    measured = warm.index.isin(sizing.index[sizing["disk_kbps_p95"].notna()])
    assert len(warm) and (warm.loc[measured, "transfer_basis"] != "warm assumed delta fraction").all()
    assert (warm.loc[~measured, "transfer_basis"] == "warm assumed delta fraction").all()


def test_the_programme_opens_with_the_first_warm_pre_copy():
    # one warm VM: its 2-day pre-copy floor starts 2 days before the only window; the programme is
    # that lead plus the 48 h window: 4 days, not 2
    r = _plan({"w": ("warm", 100.0, 10.0)})
    row = r.tables["timeline"].set_index("kind").loc["programme"]
    assert row["start"] == pd.Timestamp(START) - pd.Timedelta(days=2)
    assert r.summary["programme"]["programme_days"] == 4.0
    assert "opens with the first warm pre-copy, 2.0 day(s) before the first window" in row["detail"]
    cold = _plan({"c": ("cold", 100.0, 10.0)})
    assert cold.summary["programme"]["programme_days"] == 2.0
