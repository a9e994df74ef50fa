from datetime import datetime

import pandas as pd
import pytest
from waves_helpers import groups_by_name, make_estate, two_apps_and_dns, waves_by_name

from assess.model import AssessError
from assess.waves import WavesParams, plan_waves
from assess.waves.groups import scaled_resolution

F = frozenset


def test_shared_dns_does_not_merge_groups_and_goes_first():
    # every VM queries dns on 53/udp: 6 of 7 VMs >= max(3, ceil(0.2 * 7) = 2) -> shared service
    r = plan_waves(two_apps_and_dns(), params=WavesParams(pilot_vms=0, max_vms_per_wave=3))
    assert groups_by_name(r) == {F({"a-web", "a-app", "a-db"}), F({"b-web", "b-app", "b-db"}), F({"dns"})}
    # wave 0: shared services; caps of 3 VMs: group a (g0001, smaller name) then group b
    assert waves_by_name(r) == {0: F({"dns"}), 1: F({"a-web", "a-app", "a-db"}),
                                2: F({"b-web", "b-app", "b-db"})}
    mg = r.tables["move_groups"].set_index("vm_id")
    assert mg.loc["vc/dns", "shared_service"] and "53/udp" in mg.loc["vc/dns", "group_reason"]
    assert "PostgreSQL 5432/tcp" in mg.loc["vc/a-db", "group_reason"]
    assert r.summary["hard_links_split"] == 0 and r.summary["shared_services"] == ["dns"]
    # only the 1e6-byte a-app <-> b-app link crosses, over 1 wave, out of 2*(1e9 + 5e8) + 1e6
    assert r.summary["cross_wave_weighted"] == pytest.approx(1e6)
    assert r.summary["cross_wave_share"] == pytest.approx(1e6 / 3.001e9)


def test_shared_services_can_stay_until_last():
    r = plan_waves(two_apps_and_dns(), params=WavesParams(pilot_vms=0, shared_services_wave="last"))
    assert waves_by_name(r) == {1: F({"a-web", "a-app", "a-db", "b-web", "b-app", "b-db"}), 2: F({"dns"})}
    plan = r.tables["wave_plan"].set_index("name")
    assert plan.loc["dns", "bucket"] == "shared-services" and "last wave" in plan.loc["dns", "reason"]


def test_shared_disk_forces_two_vms_together():
    disks = [("x1", "2000", 1024.0, "sharingMultiWriter", "[ds1] quorum/q.vmdk"),
             ("x2", "2000", 1024.0, "sharingMultiWriter", "[ds1] quorum/q.vmdk"),
             ("x3", "2000", 1024.0, "sharingNone", "[ds1] x3/x3.vmdk")]
    r = plan_waves(make_estate(["x1", "x2", "x3"], disks=disks), params=WavesParams(pilot_vms=0))
    assert groups_by_name(r) == {F({"x1", "x2"}), F({"x3"})}
    assert "shared multi-writer disk [ds1] quorum/q.vmdk" in r.tables["move_groups"]["group_reason"].iloc[1]


def test_application_tag_and_affinity_rule_are_hard_links():
    attrs = [("p", "Application", "pay"), ("q", "application", "pay")]
    affinity = [("keep-together", "vm_affinity", "s"), ("keep-together", "vm_affinity", "t"),
                ("spread", "vm_anti_affinity", "p"), ("spread", "vm_anti_affinity", "s")]
    r = plan_waves(make_estate(["p", "q", "s", "t", "u"], attributes=attrs, affinity=affinity),
                   params=WavesParams(pilot_vms=0, max_vms_per_wave=2))
    assert groups_by_name(r) == {F({"p", "q"}), F({"s", "t"}), F({"u"})}
    assert r.summary["hard_links_split"] == 0


def test_pin_moves_the_whole_group_and_the_rest_is_planned_around_it():
    r = plan_waves(two_apps_and_dns(), params=WavesParams(pilot_vms=0, pins={"b-web": 3}))
    assert waves_by_name(r) == {0: F({"dns"}), 1: F({"a-web", "a-app", "a-db"}),
                                3: F({"b-web", "b-app", "b-db"})}
    assert "pinned by the user to wave 3" in r.tables["wave_plan"].set_index("name").loc["b-db", "reason"]


def test_unknown_pin_is_a_clear_error():
    with pytest.raises(AssessError, match="pins: 'nosuchvm'"):
        plan_waves(two_apps_and_dns(), params=WavesParams(pins={"nosuchvm": 2}))


def test_group_cap_splits_a_community_at_its_weakest_links():
    # K4 of soft links; d1-d2 and d3-d4 are the strongest (20 vs 10): a cap of 2 cuts the 10s
    names = ["d1", "d2", "d3", "d4"]
    flows = [("d1", "d2", 8080, 20), ("d3", "d4", 8080, 20), ("d1", "d3", 8080, 10),
             ("d1", "d4", 8080, 10), ("d2", "d3", 8080, 10), ("d2", "d4", 8080, 10)]
    r = plan_waves(make_estate(names, flows), params=WavesParams(pilot_vms=0, max_group_vms=2))
    assert groups_by_name(r) == {F({"d1", "d2"}), F({"d3", "d4"})}


def test_wave_cap_forces_groups_into_separate_waves():
    # groups of 3, 3 and 2 VMs (hard links via app tags), 4 VMs per wave: 3+3 > 4 and 3+2 > 4
    attrs = [(n, "app", n[0]) for n in ["a1", "a2", "a3", "b1", "b2", "b3", "c1", "c2"]]
    est = make_estate(["a1", "a2", "a3", "b1", "b2", "b3", "c1", "c2"], attributes=attrs)
    r = plan_waves(est, params=WavesParams(pilot_vms=0, max_vms_per_wave=4))
    assert waves_by_name(r) == {1: F({"a1", "a2", "a3"}), 2: F({"b1", "b2", "b3"}), 3: F({"c1", "c2"})}
    waves = r.tables["waves"]
    assert waves["closed_by"].tolist()[:2] == ["VM cap 4", "VM cap 4"]
    assert r.summary["waves_lower_bound"] == 2  # ceil(8 / 4); bin packing needs 3


def test_storage_cap_and_window_count_cold_fully_and_warm_by_delta():
    # 3 VMs of 1 TiB; 1.5 TiB per wave -> one VM per wave, unless warm (only 10% in the window counts
    # against the window, but the storage cap counts the whole disk)
    names = ["v1", "v2", "v3"]
    disks = [(n, "2000", 1024.0 * 1024, None, None) for n in names]
    params = WavesParams(pilot_vms=0, max_tb_per_wave=1.5)
    assert len(plan_waves(make_estate(names, disks=disks), params=params).tables["waves"]) == 3
    # window: 1 TiB cold at min(10 Gb/s * 0.7, 10 * 2) = 7 Gb/s: 1024 * 8.59 Gbit / 7 = 1257 s = 0.349 h;
    # and one VM alone at 2 Gb/s: 4398 s = 1.22 h. A 1-hour window fits no cold VM: each is alone (over cap)
    readiness = pd.DataFrame({"vm_id": [f"vc/{n}" for n in names], "verdict": "ready",
                              "method": ["cold", "warm", "warm"]})
    r = plan_waves(make_estate(names, disks=disks), readiness,
                   params=WavesParams(pilot_vms=0, window_hours=1.0))
    w = r.tables["waves"]
    # warm: 2 x 102.4 GiB in the window -> max(204.8*8.59/7, 102.4*8.59/2) s = 0.122 h -> fit wave 1;
    # the cold VM fits no window and gets a wave of its own, flagged over its cap
    assert waves_by_name(r) == {1: F({"v2", "v3"}), 2: F({"v1"})}
    assert w["transfer_hours"].tolist() == pytest.approx([102.4 * 8.589934592 / 2 / 3600,
                                                          1024 * 8.589934592 / 2 / 3600])
    assert w["within_caps"].tolist() == [True, False]
    reason = r.tables["wave_plan"].set_index("name").loc["v1", "reason"]
    assert "exceeds the transfer window 1 h by itself" in reason


def test_keep_apart_separates_chatty_vms_into_groups_and_waves():
    flows = [("k1", "k2", 8080, 1e9)]
    params = WavesParams(pilot_vms=0, keep_apart=[["k1", "k2"]])
    r = plan_waves(make_estate(["k1", "k2"], flows), params=params)
    assert groups_by_name(r) == {F({"k1"}), F({"k2"})}
    assert waves_by_name(r) == {1: F({"k1"}), 2: F({"k2"})}


def test_not_ready_vm_goes_to_remediate_first_and_holds_its_hard_links():
    est = two_apps_and_dns(extra=["tmpl"])
    ids = est["vms"]["vm_id"]
    readiness = pd.DataFrame({"vm_id": ids, "verdict": "ready", "method": "cold", "excluded_reason": None,
                              "remediation": ""})
    readiness.loc[ids == "vc/a-db", ["verdict", "method", "remediation"]] = ["not_ready", "blocked",
                                                                             "remove the RDM"]
    readiness.loc[ids == "vc/tmpl", ["verdict", "excluded_reason"]] = ["excluded", "template"]
    r = plan_waves(est, readiness, params=WavesParams(pilot_vms=0))
    plan = r.tables["wave_plan"].set_index("name")
    assert len(plan) == 8  # every VM accounted for
    assert plan.loc["a-db", "bucket"] == "remediate-first" and "remove the RDM" in plan.loc["a-db", "reason"]
    # a-app talks to a-db on 5432 (hard): held; a-web only soft-linked: moves
    assert plan.loc["a-app", "bucket"] == "remediate-first" and "held" in plan.loc["a-app", "reason"]
    assert plan.loc["tmpl", "bucket"] == "excluded" and "template" in plan.loc["tmpl", "reason"]
    assert pd.isna(plan.loc["a-db", "wave"]) and pd.isna(plan.loc["tmpl", "wave"])
    assert plan.loc["a-web", "wave"] == 1
    assert r.summary["hard_links_split"] == 0


def test_pilot_takes_small_ready_isolated_groups_first():
    # loners l1, l2 have no links; the pilot (2 VMs) takes them before the apps
    est = two_apps_and_dns(extra=["l1", "l2"])
    r = plan_waves(est, params=WavesParams(pilot_vms=2))
    waves = waves_by_name(r)
    assert waves[1] == F({"l1", "l2"})
    assert r.tables["waves"].set_index("wave").loc[1, "kind"] == "pilot"


def test_dev_test_waves_before_production():
    attrs = [("a1", "Environment", "Production"), ("b1", "Environment", "UAT"), ("c1", "env", "dev")]
    est = make_estate(["a1", "b1", "c1"], attributes=attrs)
    r = plan_waves(est, params=WavesParams(pilot_vms=0, max_vms_per_wave=1))
    assert waves_by_name(r) == {1: F({"b1"}), 2: F({"c1"}), 3: F({"a1"})}
    assert r.tables["waves"]["kind"].tolist() == ["dev/test", "dev/test", "production"]


def test_calendar_dates_from_start_cadence_and_window():
    r = plan_waves(two_apps_and_dns(), params=WavesParams(
        pilot_vms=0, max_vms_per_wave=3, start=datetime(2025, 3, 7, 20, 0), cadence_days=7, window_hours=48))
    w = r.tables["waves"].set_index("wave")
    assert str(w.loc[0, "start"]) == "2025-03-07 20:00:00+00:00"
    assert str(w.loc[2, "start"]) == "2025-03-21 20:00:00+00:00"
    assert str(w.loc[2, "end"]) == "2025-03-23 20:00:00+00:00"
    # wave 1: 300 GiB cold: max(300 * 8.59 / 7, 100 * 8.59 / 2) s = 429.5 s after the start
    assert (w.loc[1, "transfer_end"] - w.loc[1, "start"]).total_seconds() == pytest.approx(429.4967, abs=0.01)


def ring_of_triangles(n):
    """n triangles t<i>a-b-c (links of weight 10) in a ring, neighbours joined by one link of weight 1."""
    names = [f"t{i}{x}" for i in range(n) for x in "abc"]
    flows = [(f"t{i}{x}", f"t{i}{y}", 8080, 10) for i in range(n) for x, y in ("ab", "bc", "ca")]
    flows += [(f"t{i}c", f"t{(i + 1) % n}a", 443, 1) for i in range(n)]
    return make_estate(names, flows)


def test_resolution_grows_with_the_estate_so_light_links_do_not_merge_applications():
    # 200 triangles = 600 VMs. Each triangle: traffic d = 2 x 30 inside + 2 x 1 ring = 62; 2m = 200 x 62.
    # Modularity merges two neighbours when 1 > resolution x 62 x 62 / 12400 = 0.31 x resolution:
    # at resolution 1 it glues triangles (the resolution limit); scaled to 600 / 150 = 4 it needs
    # 1 > 1.24 and every triangle stays its own group.
    est = ring_of_triangles(200)
    triangles = {F({f"t{i}a", f"t{i}b", f"t{i}c"}) for i in range(200)}
    assert groups_by_name(plan_waves(est, params=WavesParams(pilot_vms=0))) == triangles
    # the ring links (1 against 10 inside) are light: not significant, so even at a fixed resolution
    # (which alone would glue triangles) they never merge two triangles
    fixed = groups_by_name(plan_waves(est, params=WavesParams(pilot_vms=0, resolution_vms=None)))
    assert fixed == triangles
    glued = groups_by_name(plan_waves(est, params=WavesParams(pilot_vms=0, resolution_vms=None,
                                                              link_significance=0, link_floor_mads=None)))
    assert len(glued) < 200 and all(len(g) % 3 == 0 for g in glued)  # significance off: glued


def test_scaled_resolution_is_proportional_above_the_reference_size():
    assert scaled_resolution(1.0, 100, 150) == 1.0  # small estates keep the resolution as given
    assert scaled_resolution(2.0, 3000, 150) == 40.0  # 2 x 3000 / 150
    assert scaled_resolution(2.0, 3000, None) == 2.0
