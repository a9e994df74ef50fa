"""Grouping from structure and evidence, on hand-made estates and on the second generator."""

import re
from datetime import UTC, datetime

import pandas as pd
import pytest
from estate_apps import generate, write_flows
from sklearn.metrics import adjusted_rand_score
from waves_helpers import groups_by_name, make_estate

from assess.collect.flows import read_flows
from assess.model import Estate
from assess.waves import WavesParams, dependency_graph, plan_waves
from assess.waves.calendar import first_window
from assess.waves.evidence import name_stems

F = frozenset


def app_estate(extra_flows=(), light=None):
    """Two 3-VM apps (names without a shared stem) linked inside at weight 100 per link."""
    names = ["x1", "x2", "x3", "y1", "y2", "y3"]
    flows = [("x1", "x2", 8080, 100), ("x2", "x3", 8443, 100), ("y1", "y2", 8080, 100),
             ("y2", "y3", 8443, 100)]
    if light:
        flows.append(("x3", "y1", 443, light))
    return make_estate(names, flows + list(extra_flows))


def test_one_light_link_does_not_merge_two_applications_but_a_heavy_one_does():
    assert groups_by_name(plan_waves(app_estate(light=13), params=WavesParams(pilot_vms=0))) == {
        F({"x1", "x2", "x3"}), F({"y1", "y2", "y3"})}
    # a link as heavy as the apps' own links is significant: it may join them
    assert dependency_graph(app_estate(light=100)).edges["vc/x3", "vc/y1"]["significant"]
    assert not dependency_graph(app_estate(light=13)).edges["vc/x3", "vc/y1"]["significant"]


def test_jump_host_on_ssh_and_rdp_is_a_shared_service_in_wave_zero():
    vms = [f"app{i:02d}" for i in range(20)]
    flows = [("jmp01", v, 22 if i % 2 else 3389, 5) for i, v in enumerate(vms[:17])]  # 85% of the VMs
    flows += [(vms[i], vms[i + 1], 8080, 1000) for i in range(0, 20, 2)]
    r = plan_waves(make_estate(vms + ["jmp01"], flows), params=WavesParams(pilot_vms=0))
    plan = r.tables["wave_plan"].set_index("name")
    assert plan.loc["jmp01", "wave"] == 0 and plan.loc["jmp01", "bucket"] == "shared-services"
    why = r.tables["move_groups"].set_index("vm_id").loc["vc/jmp01", "group_evidence"]
    assert "reaches 17 of 21 VMs" in why and "SSH (jump host) 22/tcp" in why
    # its links glue nothing: ten pairs stay ten groups
    assert len({g for g in plan.drop(index="jmp01")["group"]}) == 10


def test_a_hub_on_an_unlisted_port_is_shared_by_structure_but_an_apps_own_hub_is_not():
    vms = [f"n{i:02d}" for i in range(20)]
    flows = [(v, "logc", 6514, 50) for v in vms[:12]]  # 12 of 21 VMs, 12 groups, port on no list
    flows += [(vms[i], vms[i + 1], 8080, 1000) for i in range(0, 20, 2)]
    flows += [("lb01", f"web{i}", 8080, 1000) for i in range(6)]  # one app: lb01 and its six webs
    attrs = [(n, "Application", "shop") for n in ["lb01"] + [f"web{i}" for i in range(6)]]
    est = make_estate(vms + ["logc", "lb01"] + [f"web{i}" for i in range(6)], flows, attributes=attrs)
    shared = set(plan_waves(est, params=WavesParams(pilot_vms=0)).summary["shared_services"])
    assert shared == {"logc"}


def test_flows_imported_before_the_inventory_resolve_at_plan_time(tmp_path):
    path = tmp_path / "deps.csv"
    path.write_text("src,dst,port,connections\n10.0.0.1,10.0.0.2,8080,40\n10.0.0.2,10.0.0.3,5432,40\n"
                    "db.example,10.0.0.3,5432,1\n")
    flows = read_flows([path], Estate())  # no inventory yet: every endpoint is external
    assert set(flows["flows"]["src"]) == {"ext:10.0.0.1", "ext:10.0.0.2", "ext:db.example"}
    est = make_estate(["web", "app", "db"])
    est["vms"] = est["vms"].assign(primary_ip=["10.0.0.1", "10.0.0.2", "10.0.0.3"],
                                   hostname=[None, None, "db.example"])
    r = plan_waves(est.merge(flows), params=WavesParams(pilot_vms=0))
    assert groups_by_name(r) == {F({"web", "app", "db"})}
    warnings = [w["code"] for w in r.warnings]
    assert "flows.self_loop" in warnings  # db.example -> 10.0.0.3 is db to itself once resolved


def test_an_ip_only_destination_resolves_through_the_name_the_same_file_gives_it(tmp_path):
    path = tmp_path / "deps.csv"
    path.write_text("Time slot,Source server name,Source IP,Destination server name,Destination IP,"
                    "Destination port\n3/1/2026 00:00-06:00,web01,10.1.0.1,,10.1.0.2,8080\n"
                    "3/1/2026 00:00-06:00,app01,10.1.0.2,,10.1.0.9,443\n")
    est = make_estate(["web01", "app01"])  # no IPs in the inventory
    flows = read_flows([path], est)["flows"]
    assert flows.set_index("src").loc["vc/web01", "dst"] == "vc/app01"


def test_self_loops_and_ephemeral_ports_are_dropped_with_a_counted_warning():
    est = make_estate(["a", "b"], [("a", "a", 8080, 10), ("a", "b", 51234, 10), ("a", "b", 8080, 10)])
    r = plan_waves(est, params=WavesParams(pilot_vms=0))
    text = {w["code"]: w["message"] for w in r.warnings}
    assert text["flows.self_loop"].startswith("1 aggregated self-loop")
    assert text["flows.port.ephemeral"].startswith("1 aggregated flow(s) to ephemeral ports")
    assert r.tables["group_links"].empty and groups_by_name(r) == {F({"a", "b"})}


def test_a_header_only_flow_file_is_one_warning_not_a_traceback(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("src,dst,port\n")
    out = read_flows([path], make_estate(["a"]))
    assert out["flows"].empty and out.warnings["code"].tolist() == ["flows.file.empty"]


def test_move_together_of_every_vm_is_one_group_and_no_error():
    est = make_estate(["a", "b", "c"], [("a", "b", 443, 10)])
    r = plan_waves(est, params=WavesParams(move_together=[["a", "b", "c"]], pilot_vms=0))
    assert groups_by_name(r) == {F({"a", "b", "c"})} and r.summary["waves"] == 1


def test_names_and_vapps_group_vms_without_any_flow():
    names = ["fra1p-payroll-ap01", "fra1p-payroll-db01", "fra1p-ledger-ap01", "fra1p-ledger-db01",
             "fra1p-fleet-ws01", "fra1p-crm-ap01", "SRV48213", "vm-3fa9c1"]
    est = make_estate(names)
    est["vms"] = est["vms"].assign(vapp=[None] * 6 + ["legacy", "legacy"])
    r = plan_waves(est, params=WavesParams(pilot_vms=0))
    assert groups_by_name(r) == {F(names[:2]), F(names[2:4]), F({names[4]}), F({names[5]}), F(names[6:])}
    mg = r.tables["move_groups"].set_index("vm_id")
    assert mg.loc["vc/fra1p-payroll-db01", "group_name"] == "payroll"
    assert "name 'payroll' on 2/2 VMs" in mg.loc["vc/fra1p-payroll-db01", "group_evidence"]
    assert mg.loc["vc/SRV48213", "group_name"] == "legacy"


def test_name_stems_skip_prefixes_roles_numbers_and_environments():
    names = pd.Series(["fra1p-payroll-ap01", "fra1p-ledger-db01", "fra1p-fleet-ws01", "fra1p-crm-ap02",
                       "P-BAN9-APP-01", "T-DB-GALERA-OL95-03", "CRM_WEB-01 (old)", "web01", "SRV48213"])
    stems = name_stems(names, 80).tolist()
    assert stems[:7] == ["payroll", "ledger", "fleet", "crm", "ban9", "galera", "crm"]
    assert pd.isna(name_stems(names, 80).iloc[7])


def test_environment_from_name_prefix_and_cluster_with_its_source_and_dev_first():
    est = make_estate(["P-ERP-01", "T-ERP-01", "shop01"])
    est["vms"] = est["vms"].assign(cluster=["CL-A", "CL-A", "USFQ-SANDBOX"])
    r = plan_waves(est, params=WavesParams(pilot_vms=0, max_vms_per_wave=1))
    plan = r.tables["wave_plan"].set_index("name")
    assert plan["environment"].to_dict() == {"P-ERP-01": "prod", "T-ERP-01": "test", "shop01": "sandbox"}
    assert plan.loc["shop01", "environment_source"] == "cluster USFQ-SANDBOX"
    assert plan.loc["P-ERP-01", "environment_source"] == "name P-ERP-01"
    assert plan.loc["P-ERP-01", "wave"] == plan["wave"].max()  # production last


def test_retire_retain_and_not_ready_vms_are_not_scheduled_unless_asked():
    est = make_estate(["a", "b", "c", "d"])
    readiness = pd.DataFrame({"vm_id": ["vc/a", "vc/b", "vc/c", "vc/d"],
                              "verdict": ["ready", "ready", "not_ready", "excluded"],
                              "method": "cold", "strategy": ["rehost", "retire", "rehost", ""],
                              "strategy_reason": ["", "idle 90 days", "", ""],
                              "excluded_reason": ["", "", "", "template"]})
    plan = plan_waves(est, readiness, params=WavesParams(pilot_vms=0)).tables["wave_plan"].set_index("name")
    assert plan["bucket"].to_dict() == {"a": "wave", "b": "excluded", "c": "remediate-first", "d": "excluded"}
    assert "strategy retire: not migrated (idle 90 days)" in plan.loc["b", "reason"]
    keep = plan_waves(est, readiness, params=WavesParams(pilot_vms=0, schedule_unready=True))
    assert keep.tables["wave_plan"].set_index("name")["bucket"].to_dict() == {
        "a": "wave", "b": "wave", "c": "wave", "d": "excluded"}


def test_first_window_is_the_next_one_after_the_run_date():
    params = WavesParams()  # Friday 20:00 UTC by default
    def at(*t):
        return datetime(*t, tzinfo=UTC)

    assert first_window(params, at(2026, 11, 30, 9, 0)) == at(2026, 12, 4, 20, 0)  # a Monday -> Friday
    assert first_window(params, at(2026, 12, 4, 20, 0)) == at(2026, 12, 11, 20, 0)  # never the past
    assert first_window(WavesParams(start=datetime(2027, 1, 8, 18))) == datetime(2027, 1, 8, 18)


@pytest.fixture(scope="module")
def estate_b(tmp_path_factory):
    inventory, rows, truth = generate(300, seed=5)
    flows = read_flows([write_flows(rows, tmp_path_factory.mktemp("b") / "deps.csv")], inventory)
    return inventory.merge(flows), truth


def test_second_generator_groups_apps_finds_every_shared_service_and_splits_no_hard_link(estate_b):
    est, truth = estate_b
    r = plan_waves(est)
    mg = r.tables["move_groups"].set_index("vm_id")
    apps = pd.Series(truth["app"])
    found = mg["group"].reindex(apps.index).astype(str).to_numpy()
    assert adjusted_rand_score(apps.to_numpy(), found) >= 0.95
    assert set(mg.index[mg["shared_service"].fillna(False)]) == truth["shared"]
    assert r.summary["hard_links_split"] == 0
    for x, y in truth["hard_pairs"]:
        assert mg.loc[x, "group"] == mg.loc[y, "group"]


def test_no_explanation_names_a_wave_other_than_its_own(estate_b):
    plan = plan_waves(estate_b[0]).tables["wave_plan"].dropna(subset=["wave"])
    for wave, reason in zip(plan["wave"], plan["reason"]):
        assert {int(w) for w in re.findall(r"\bwave (\d+)", reason)} <= {int(wave)}, reason


def test_group_links_join_named_groups_with_weights_and_ports(estate_b):
    r = plan_waves(estate_b[0])
    links = r.tables["group_links"]
    assert list(links.columns) == ["group", "other_group", "weight", "ports"]
    assert (links["group"] < links["other_group"]).all() and (links["weight"] > 0).all()
    shared = set(r.tables["move_groups"].query("shared_service")["group"])
    assert links["group"].isin(shared).any() or links["other_group"].isin(shared).any()


def test_a_rerun_after_removing_one_vm_moves_only_its_group(estate_b):
    est, truth = estate_b
    first = plan_waves(est).tables["wave_plan"]
    gone = first[first["bucket"] == "wave"].iloc[len(first) // 3]
    smaller = Estate({k: (v[v["vm_id"] != gone["vm_id"]] if "vm_id" in v else v)
                      for k, v in est.tables.items()})
    again = plan_waves(smaller, previous=first).tables["wave_plan"].set_index("vm_id")
    before = first.set_index("vm_id").drop(index=gone["vm_id"])
    moved = before.index[(before["wave"] != again.loc[before.index, "wave"]).fillna(True).to_numpy()]
    touched = set(before.index[before["group"] == gone["group"]])
    assert set(moved) <= touched, before.loc[list(set(moved) - touched), ["name", "group", "wave"]]
    kept = again.loc[list(set(before.index) - touched)]
    assert (kept["group"] == before.loc[kept.index, "group"]).all()
