import pandas as pd
import pytest
from matplotlib.figure import Figure

from assess.model import Estate
from assess.sizing import SizingParams, size_estate
from assess.sizing.plots import node_fill_figure


def _estate():
    vms = pd.DataFrame({
        "vm_id": ["vc/vm-1", "vc/vm-2", "vc/vm-3", "vc/vm-4", "vc/vm-5", "vc/vm-6"],
        "name": ["web1", "web2", "db", "tmpl", "rt", "gone"],
        "vcpus": [2, 2, 4, 2, 4, 1], "memory_mib": [4096.0, 4096.0, 65536.0, 2048.0, 8192.0, 1024.0],
        "firmware": ["bios", "bios", "efi", "bios", "efi", "bios"],
        "template": [False, False, False, True, False, False],
        "guest_os_config": ["Red Hat Enterprise Linux 9 (64-bit)"] * 2
        + ["Microsoft Windows Server 2022 (64-bit)", "Other", "Red Hat Enterprise Linux 8 (64-bit)", "Other"],
        "latency_sensitivity": ["normal", "normal", "normal", "normal", "high", "normal"],
        "in_use_mib": [10240.0, 10240.0, 102400.0, 1.0, 1.0, 1.0],
        "provisioned_mib": [20480.0, 20480.0, 102400.0, 1.0, 1.0, 1.0],
    })
    disks = pd.DataFrame({"vm_id": ["vc/vm-1", "vc/vm-3"], "disk_key": ["2000", "2000"],
                          "capacity_mib": [20480.0, 102400.0], "datastore": ["ds1", "ds1"],
                          "thin": [True, False]})
    hosts = pd.DataFrame({"host_id": ["h1"], "name": ["esx1"], "sockets": [2], "cores": [24]})
    devices = pd.DataFrame({"vm_id": ["vc/vm-3"], "kind": ["vtpm"], "label": ["TPM"]})
    rules = pd.DataFrame({"cluster": ["c1", "c1"], "rule": ["web-apart"] * 2,
                          "kind": ["vm_anti_affinity"] * 2, "enabled": [True, True],
                          "member": ["vc/vm-1", "vc/vm-2"]})
    return Estate({"vms": vms, "disks": disks, "hosts": hosts, "devices": devices, "affinity_rules": rules})


@pytest.fixture(scope="module")
def result():
    readiness = pd.DataFrame({"vm_id": ["vc/vm-6"], "verdict": ["excluded"],
                              "excluded_reason": ["powered off 2y"]})
    return size_estate(_estate(), readiness, SizingParams())


def test_every_vm_has_one_sizing_row(result):
    sizing = result.tables["sizing"]
    assert len(sizing) == 6 and sizing["vm_id"].is_unique
    gone = sizing.set_index("vm_id").loc["vc/vm-6"]
    assert gone["excluded_reason"] == "excluded by readiness: powered off 2y"
    assert pd.isna(sizing.set_index("vm_id").loc["vc/vm-6", "node"])
    assert result.summary["excluded"] == 1 and result.summary["placed"] == 5


def test_per_vm_mapping_by_hand(result):
    s = result.tables["sizing"].set_index("vm_id")
    # web1: 2 vCPU 4 GiB -> u1.2xmedium; overhead 240 + 2x8 + 8 + 32 + pagetables
    # (4294967296 -> 4294968000 // 512 = 8388609 B = 8.00000095 MiB) = 304.00000095 MiB
    web = s.loc["vc/vm-1"]
    assert (web["instancetype"], web["preference"]) == ("u1.2xmedium", "rhel.9")
    assert "prefers EFI but the VM boots BIOS" in web["preference_reason"]
    assert web["overhead_mib"] == pytest.approx(296 + 8388609 / 2**20, abs=1e-9)
    assert web["cpu_request_cores"] == pytest.approx(0.2)  # 2 / cpuAllocationRatio 10
    # 20 GiB thin disk, Filesystem: 21474836480 x 1.06 = 21.2 GiB
    assert web["storage_gib"] == pytest.approx(21.2)
    assert (web["shape"], web["memory_overshoot_pct"]) == ("instancetype", 0.0)
    assert (web["alloc_vcpus"], web["alloc_memory_mib"], web["memory_source"]) == (2, 4096.0, "allocated")
    # db: 4 vCPU / 64 GiB. m1.2xlarge (8 vCPU / 64 GiB) would double its vCPUs (and per-core licences);
    # the only 4-vCPU shapes hold 16 or 32 GiB: explicit resources of exactly 4 vCPU / 64 GiB.
    # vTPM +53; overhead 240 + 4x8 + 8 + 32 + 53 + 64 GiB/512 = 128 MiB -> 493
    db = s.loc["vc/vm-3"]
    assert (db["shape"], db["preference"]) == ("custom", "windows.2k22.virtio")
    assert pd.isna(db["instancetype"]) and pd.isna(db["series"])
    assert (db["guest_vcpus"], db["guest_memory_mib"], db["memory_overshoot_pct"]) == (4, 65536.0, 0.0)
    assert "custom: no instancetype of u1, m1 holds 4 vCPU / 65536 MiB with at most 4 vCPU" == db[
        "instancetype_reason"]
    assert db["overhead_mib"] == pytest.approx(493.0)
    assert db["pod_memory_mib"] == pytest.approx(65536 + 493)
    # rt: latency-sensitive -> cx1.xlarge (4 vCPU / 8 GiB, dedicated): 4 + 1 emulator thread cores,
    # overhead 240 + 32 + 8 + 32 + 100 (dedicated) + 16 (8 GiB / 512) = 428
    rt = s.loc["vc/vm-5"]
    assert (rt["instancetype"], rt["cpu_request_cores"], rt["overhead_mib"]) == ("cx1.xlarge", 5.0, 428.0)


def test_without_readiness_templates_are_excluded_but_listed():
    sizing = size_estate(_estate()).tables["sizing"].set_index("vm_id")
    assert sizing.loc["vc/vm-4", "excluded_reason"] == "template: not a running VM"
    assert pd.isna(sizing.loc["vc/vm-4", "node"])
    # 2 vCPU / 2 GiB: the cheapest 2-vCPU instancetype, u1.2xmedium (4 GiB), overshoots memory by 100 %
    tmpl = sizing.loc["vc/vm-4"]
    assert (tmpl["shape"], tmpl["guest_vcpus"], tmpl["guest_memory_mib"]) == ("custom", 2, 2048.0)
    assert "u1.2xmedium (2 vCPU, 4 GiB) would overshoot memory by 100% (limit 25%)" in tmpl[
        "instancetype_reason"]


def test_anti_affinity_and_ha_spares(result):
    s = result.tables["sizing"].set_index("vm_id")
    assert s.loc["vc/vm-1", "node"] != s.loc["vc/vm-2", "node"]
    nodes = result.tables["nodes"]
    # 2 workload nodes forced by the rule, + max(N+1, minimum 2) = 2 failover
    assert nodes["role"].value_counts().to_dict() == {"workload": 2, "failover": 2}
    assert result.summary["lower_bound"] == 2 and result.summary["gap_nodes"] == 0


def test_storage_and_cost_tables(result):
    storage = result.tables["storage"].set_index("storage_class")
    # 21.2 + 106 GiB requested; thin web1 consumes half (10240/20480): 10.6 + 106 = 116.6, x3 = 349.8
    assert storage.loc["default", "requested_gib"] == pytest.approx(127.2)
    assert storage.loc["default", "raw_gib"] == pytest.approx(349.8)
    cost = result.tables["cost"].set_index(["side", "item"])
    # 2 sockets x 12 cores -> 16 per socket minimum -> 32 cores x 350 = 11200
    assert cost.loc[("current", "VMware subscription"), "annual_cost"] == 11200
    assert cost.loc[("target", "total"), "annual_cost"] == 4 * 12000


def test_node_fill_figure(result):
    fig = node_fill_figure(result.tables["nodes"])
    assert isinstance(fig, Figure)
    cpu_bars, memory_bars = fig.axes[0].containers
    assert len(cpu_bars) == len(memory_bars) == 4


def test_not_ready_retire_and_retain_are_not_packed_unless_asked():
    readiness = pd.DataFrame({
        "vm_id": ["vc/vm-1", "vc/vm-2", "vc/vm-3", "vc/vm-4", "vc/vm-5", "vc/vm-6"],
        "verdict": ["ready", "not_ready", "ready", "excluded", "ready", "ready"],
        "strategy": ["rehost", "rehost", "retire", "rehost", "retain", "rehost"],
        "excluded_reason": [None, None, None, "template", None, None],
    })
    default = size_estate(_estate(), readiness, SizingParams())
    s = default.tables["sizing"].set_index("vm_id")
    assert s["node"].notna().to_dict() == {"vc/vm-1": True, "vc/vm-2": False, "vc/vm-3": False,
                                           "vc/vm-4": False, "vc/vm-5": False, "vc/vm-6": True}
    assert s.loc["vc/vm-2", "excluded_reason"].startswith("not ready (readiness)")
    assert s.loc["vc/vm-3", "excluded_reason"] == "strategy retire (readiness): not packed"
    assert s.loc["vc/vm-5", "excluded_reason"] == "strategy retain (readiness): not packed"
    assert default.summary["not_packed"] == {"excluded": 1, "not_ready": 1, "retire": 1, "retain": 1,
                                             "too_big": 0}
    assert default.summary["placed"] == 2 and default.summary["excluded"] == 4
    # every VM keeps its sizing figures
    assert s["guest_vcpus"].notna().all() and s["shape"].notna().all()
    kept = size_estate(_estate(), readiness, SizingParams(packing={"include_unmigrated": True}))
    k = kept.tables["sizing"].set_index("vm_id")
    assert k["node"].isna().to_dict() == {"vc/vm-1": False, "vc/vm-2": False, "vc/vm-3": False,
                                          "vc/vm-4": True, "vc/vm-5": False, "vc/vm-6": False}
    assert kept.summary["not_packed"]["excluded"] == 1 and kept.summary["placed"] == 5


def test_totals_allocated_right_sized_target(result):
    t = result.summary
    # no utilization: right-sized = allocated; target adds only the preference minimums (none here)
    assert (t["all_allocated_vcpus"], t["all_right_sized_vcpus"], t["all_target_vcpus"]) == (15, 15, 15)
    memory = 2 * 4096 + 65536 + 2048 + 8192 + 1024
    assert t["all_allocated_memory_gib"] == pytest.approx(memory / 1024, abs=0.1)
    # custom: db (4 vCPU / 64 GiB) and tmpl (2 vCPU / 2 GiB); gone (1 / 1 GiB) is exactly u1.micro
    assert t["mode"] == "as_is" and t["custom_shapes"] == 2


def test_report_assumptions_state_the_mode_as_run_and_every_price(result):
    from assess.report.tables import assumptions

    table = assumptions({"sizing": result}, {}).set_index("assumption")
    # no utilization: asked for performance, ran as allocated, and the report says so
    assert table.loc["Right-sizing mode", "value"].startswith("as_is (asked: performance")
    assert table.loc["Current hardware per year", "value"] == "not given (not counted)"
    assert table.loc["VMware price per core-year", "value"] == 350.0
    assert table.loc["Node profiles", "value"] == "2s-64c-1024g: 64 cores, 1024 GiB, 12000 per year"
    assert result.summary["cost_not_given"]["target"] == ["platform subscription 2s-64c-1024g (per core)",
                                                          "platform subscription 2s-64c-1024g (per node)",
                                                          "support"]


def test_a_guest_raised_to_its_preferences_requirement_shows_the_overshoot_and_names_it(shared):
    """Real 4.7 export: vm-527 (Oracle Linux, 2 vCPU, 2 GiB, no utilization) gets 4 GiB because the
    oraclelinux preference requires 2 vCPU / 4 Gi; the overshoot is 100% of its right size, not 0%."""
    from assess import assess_readiness, load_estate
    estate = load_estate(shared / "data" / "rvtools" / "rvtools-4.7.1.4-133vms.xlsx")
    sized = size_estate(estate, assess_readiness(estate).tables["readiness"]).tables["sizing"]
    vm = sized.set_index("vm_id").loc["b4509789-2388-4298-aee8-97cf83caf1ba/vm-527"]
    assert (vm["memory_mib"], vm["guest_memory_mib"], vm["preference"]) == (2048, 4096, "oraclelinux")
    assert vm["memory_overshoot_pct"] == 100.0
    assert vm["instancetype_reason"].endswith(
        "; raised to preference oraclelinux's requirement of 2 vCPU / 4 GiB")
    # every guest above its allocation is explained: a preference requirement or an overshoot within the limit
    over = sized[sized["guest_memory_mib"] > sized["alloc_memory_mib"]]
    assert len(over) == 5
    raised = over["instancetype_reason"].str.contains("raised to preference")
    assert (raised | over["memory_overshoot_pct"].le(25)).all()
