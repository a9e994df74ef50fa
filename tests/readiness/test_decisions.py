"""Verdict, method, effort, strategy, names and unknowns on small hand-built estates."""

from __future__ import annotations

import pandas as pd
from readiness_estates import DISK, build

from assess.readiness import assess_readiness, retire_idle, target_names


def row(estate, **kwargs):
    return assess_readiness(estate, **kwargs).tables["readiness"].iloc[0]


def test_critical_makes_not_ready_blocked_retain():
    r = row(build(devices=[dict(vm_id="vc/vm-1", kind="pci_passthrough", label="PCI 0")]))
    assert (r["verdict"], r["method"], r["strategy"]) == ("not_ready", "blocked", "retain")
    assert "PCI passthrough" in r["method_reason"]
    # RHEL 8 -> 1, 40 GiB -> 1, +1 for the Critical -> 2
    assert r["effort"] == 2


def test_warning_makes_ready_with_warnings_and_cold_when_cbt_off():
    r = row(build(vms=[{"cbt_enabled": False}]))
    assert (r["verdict"], r["method"]) == ("ready_with_warnings", "cold")
    assert "CBT" in r["method_reason"]
    assert r["remediation"].startswith("1. Enable CBT")


def test_shared_disk_forces_cold_even_with_cbt():
    r = row(build(disks=[{**DISK, "vm_id": "vc/vm-1", "sharing": "sharingMultiWriter"}]))
    assert r["method"] == "cold" and "shared disk" in r["method_reason"].lower()


def test_tools_not_running_means_cold():
    assert row(build(vms=[{"tools_status": "toolsNotRunning"}]))["method"] == "cold"


RVTOOLS = [{"id": "rvtools-1", "kind": "rvtools", "read_at": "2025-12-01T00:00:00Z"}]


def test_unchecked_critical_leaves_verdict_from_checks_with_partial_coverage():
    # RVTools cannot show PCI devices; a full memory reservation leaves passthrough possible
    estate = build(vms=[{"memory_reservation_mib": 4096.0, "fixed_passthru_hotplug": False,
                         "source": "rvtools-1"}], provenance=RVTOOLS)
    result = assess_readiness(estate)
    r = result.tables["readiness"].iloc[0]
    concerns = result.tables["concerns"]
    assert (r["verdict"], r["coverage"]) == ("ready", "partial")
    assert r["verify_first"] == "vmware.device.passthrough.detected"
    assert r["unverified"] == ("vmware.device.passthrough.detected (vCenter collection); "
                               "vmware.tpm.detected (vCenter collection)")
    assert set(concerns.loc[concerns["status"] == "unknown", "rule_id"]) == {
        "vmware.device.passthrough.detected", "vmware.tpm.detected"}


def test_reservation_below_memory_rules_out_passthrough():
    estate = build(vms=[{"memory_reservation_mib": 0.0, "fixed_passthru_hotplug": False,
                         "source": "rvtools-1"}], provenance=RVTOOLS)
    r = row(estate)
    assert (r["verdict"], r["coverage"], r["verify_first"]) == ("ready", "partial", "")
    assert r["unverified"] == "vmware.tpm.detected (vCenter collection)"


def test_passthrough_hotplug_with_full_reservation_is_a_likely_device_not_a_proven_one():
    # the settings a passthrough VM must have, on a source blind to devices: "likely", verify
    estate = build(vms=[{"memory_reservation_mib": 4096.0, "fixed_passthru_hotplug": True,
                         "source": "rvtools-1"}], provenance=RVTOOLS)
    result = assess_readiness(estate)
    r = result.tables["readiness"].iloc[0]
    assert (r["verdict"], r["verify_first"]) == ("not_ready", "vmware.device.passthrough.detected")
    concerns = result.tables["concerns"].set_index("rule_id")
    assert concerns.loc["vmware.device.passthrough.likely", "status"] == "fired"
    assert "likely" in concerns.loc["vmware.device.passthrough.likely", "detail"]
    # a source that lists devices settles it: no "likely" finding there
    known = build(vms=[{"memory_reservation_mib": 4096.0, "fixed_passthru_hotplug": True}])
    assert row(known)["verdict"] == "ready"


def test_everything_checked_gives_complete_coverage():
    r = row(build())
    assert (r["verdict"], r["coverage"], r["unverified"], r["verify_first"]) == (
        "ready", "complete", "", "")
    assert (r["disk_gib"], r["storage_source"], r["os_family"], r["os_version"]) == (
        40.0, "vDisk", "linux", "8")


def test_absent_usb_sheet_gives_unknown_usb():
    estate = build(provenance=[{"id": "vcenter-1", "kind": "rvtools-like", "absent_sheets": ["vUSB"]}])
    concerns = assess_readiness(estate).tables["concerns"]
    assert concerns[["rule_id", "status", "settled_by"]].values.tolist() == [
        ["vmware.usb_controller.detected", "unknown", "vUSB sheet"]]


def test_missing_partitions_make_free_space_unknown():
    concerns = assess_readiness(build(partitions=[])).tables["concerns"]
    assert concerns[["rule_id", "status"]].values.tolist() == [["vmware.guestDisks.freespace", "unknown"]]


def test_basic_inventory_missing_is_the_only_unknown():
    no_os = row(build(vms=[{"guest_os_config": None, "guest_os_tools": None}]))
    assert (no_os["verdict"], no_os["unknown_reason"]) == ("unknown", "no guest OS in any reading")
    no_storage = row(build(vms=[{"provisioned_mib": None}], disks=[]))
    assert (no_storage["verdict"], no_storage["storage_source"]) == ("unknown", "none")
    assert no_storage["unknown_reason"] == "no disk, provisioned or in-use size"


def test_storage_falls_back_to_provisioned_then_in_use():
    r = row(build(vms=[{"provisioned_mib": 20480.0}], disks=[]))
    assert (r["disk_gib"], r["storage_source"]) == (20.0, "vInfo provisioned")
    r = row(build(vms=[{"provisioned_mib": None, "in_use_mib": 5120.0}], disks=[]))
    assert (r["disk_gib"], r["storage_source"]) == (5.0, "vInfo in use")


def test_no_allocation_is_excluded_with_reason():
    r = row(build(vms=[{"vcpus": None, "memory_mib": None}]))
    assert (r["verdict"], r["method"], r["strategy"]) == ("excluded", "blocked", "retain")
    assert r["excluded_reason"].startswith("No allocation")


def test_physical_rdm_is_not_ready_and_not_rehost():
    disk = {**DISK, "vm_id": "vc/vm-1", "raw": True, "rdm_mode": "physicalMode"}
    r = row(build(disks=[disk]))
    assert (r["verdict"], r["method"], r["strategy"]) == ("not_ready", "blocked", "retain")
    virtual = row(build(disks=[{**disk, "rdm_mode": "virtualMode"}]))
    assert (virtual["verdict"], virtual["strategy"]) == ("ready_with_warnings", "rehost")


def test_absent_tools_status_is_said_so_not_guessed():
    r = row(build(vms=[{"tools_status": None}]))
    assert r["method_reason"] == "cold: Tools status not in this source"


def test_template_is_excluded_with_reason_and_retained():
    r = row(build(vms=[{"template": True}]))
    assert (r["verdict"], r["method"], r["strategy"]) == ("excluded", "blocked", "retain")
    assert r["excluded_reason"] == "Template: template"


def test_powered_off_long_is_excluded_and_retired():
    r = row(build(vms=[{"power_state": "poweredOff", "powered_on_at": "2025-01-01T00:00:00Z"}]))
    assert (r["verdict"], r["strategy"]) == ("excluded", "retire")


def test_idle_vm_is_retired_with_evidence():
    estate = build()
    sizing = pd.DataFrame({"vm_id": ["vc/vm-1"], "idle": [True], "idle_evidence": ["CPU P95 40 MHz"]})
    readiness = assess_readiness(estate).tables["readiness"]
    r = retire_idle(readiness, sizing).iloc[0]
    assert (r["strategy"], r["strategy_reason"]) == ("retire", "idle (sizing stage): CPU P95 40 MHz")
    assert retire_idle(readiness, pd.Series({"vc/vm-1": False}))["strategy"].iloc[0] == "rehost"


def test_small_linux_web_vm_is_replatform_candidate():
    flows = [dict(src="ext:10.1.1.1", dst="vc/vm-1", port=443, protocol="tcp"),
             dict(src="ext:10.1.1.2", dst="vc/vm-1", port=80, protocol="tcp")]
    r = row(build(flows=flows))
    assert r["strategy"] == "replatform"
    assert "80, 443" in r["strategy_reason"] and "2 source(s)" in r["strategy_reason"]
    # a database port inbound makes it stateful: rehost
    flows.append(dict(src="ext:10.1.1.3", dst="vc/vm-1", port=5432, protocol="tcp"))
    assert row(build(flows=flows))["strategy"] == "rehost"


def test_effort_grows_with_disk_size_and_os():
    # Windows Server 2019 -> OS score 2; 2 TiB = 2048 GiB in (1024, 5120] -> disk score 3;
    # the Windows driver notes are Information only -> effort 3
    r = row(build(vms=[{"guest_os_config": "Microsoft Windows Server 2019 (64-bit)",
                        "guest_os_tools": "Microsoft Windows Server 2019 (64-bit)"}],
                  disks=[{**DISK, "vm_id": "vc/vm-1", "capacity_mib": 2048 * 1024.0}]))
    assert (r["effort"], r["guest_os_tier"]) == (3, "certified")


def test_target_names_are_dns1123_and_unique():
    names = pd.Series(["Web_01", "web 01", "web-01", "-X-", "", "a" * 70])
    out = target_names(names)
    assert out.tolist() == ["web-01", "web-01-2", "web-01-3", "x", "vm", "a" * 63]
    assert out.str.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?").all()


def test_every_vm_gets_one_readiness_row_and_summary_counts():
    estate = build(vms=[{"vm_id": "vc/vm-1"}, {"vm_id": "vc/vm-2", "name": "App 2", "template": True},
                        {"vm_id": "vc/vm-3", "name": "db", "cbt_enabled": False}])
    result = assess_readiness(estate)
    assert result.tables["readiness"]["vm_id"].tolist() == ["vc/vm-1", "vc/vm-2", "vc/vm-3"]
    assert result.summary["verdicts"] == {"ready": 1, "ready_with_warnings": 1, "not_ready": 0,
                                          "unknown": 0, "excluded": 1}
    assert result.summary["per_cluster"] == {"c1": {"excluded": 1, "ready": 1, "ready_with_warnings": 1}}
