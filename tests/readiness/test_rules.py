"""Each rule fires on a hand-built VM with the fact, and stays silent on the healthy VM."""

from __future__ import annotations

import pytest
from readiness_estates import DISK, build

from assess.model import Estate
from assess.readiness import RULES, ReadinessParams, assess_readiness, evaluate, rule
from assess.readiness.base import Context, Rule


def concerns(estate, rule_id=None):
    rules = (rule(rule_id),) if rule_id else RULES
    return evaluate(Context(estate, ReadinessParams()), rules)


def statuses(estate, rule_id):
    found = concerns(estate, rule_id)
    return dict(zip(found.loc[found["rule_id"] == rule_id, "vm_id"],
                    found.loc[found["rule_id"] == rule_id, "status"]))


def test_healthy_vm_has_no_concern_and_is_ready_warm():
    result = assess_readiness(build())
    assert result.tables["concerns"].empty
    row = result.tables["readiness"].iloc[0]
    assert (row["verdict"], row["method"], row["strategy"]) == ("ready", "warm", "rehost")
    # RHEL 8 -> OS score 1; 40 GiB <= 100 GiB -> disk score 1; no concerns -> effort 1
    assert row["effort"] == 1


def test_rule_ids_are_unique_dotted_and_categorised():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("vmware.") for i in ids)
    assert {r.category for r in RULES} == {"Critical", "Warning", "Information"}


FIRING = [
    ("vmware.vm.template", dict(vms=[{"template": True}])),
    ("vmware.vm.srm_placeholder", dict(vms=[{"srm_placeholder": True}])),
    ("vmware.vm.inaccessible", dict(vms=[{"connection_state": "orphaned"}])),
    # powered on 2025-06-01, estate read 2025-12-01: 183 days > 90
    ("vmware.vm.powered_off_long", dict(vms=[{"power_state": "poweredOff",
                                               "powered_on_at": "2025-06-01T00:00:00Z"}])),
    ("vmware.device.passthrough.detected",
     dict(devices=[dict(vm_id="vc/vm-1", kind="pci_passthrough", label="PCI device 0")])),
    ("vmware.device.passthrough.detected",
     dict(devices=[dict(vm_id="vc/vm-1", kind="vgpu", label="PCI device 0", detail="grid_t4-4q")])),
    ("vmware.device.passthrough.likely",
     dict(vms=[{"memory_reservation_mib": 4096.0, "fixed_passthru_hotplug": True, "source": "rvtools-1"}],
          provenance=[{"id": "rvtools-1", "kind": "rvtools", "read_at": "2025-12-01T00:00:00Z"}])),
    ("vmware.usb_controller.detected",
     dict(devices=[dict(vm_id="vc/vm-1", kind="usb_controller", label="USB xHCI")])),
    ("vmware.tpm.detected", dict(devices=[dict(vm_id="vc/vm-1", kind="vtpm", label="vTPM")])),
    ("vmware.datastore.missing", dict(disks=[{**DISK, "vm_id": "vc/vm-1", "datastore": "", "file": ""}])),
    ("vmware.disk.capacity.invalid", dict(disks=[{**DISK, "vm_id": "vc/vm-1", "capacity_mib": 0.0}])),
    ("vmware.disk.rdm.detected",
     dict(disks=[{**DISK, "vm_id": "vc/vm-1", "raw": True, "rdm_mode": "virtualMode"}])),
    ("vmware.disk.rdm.physical",
     dict(disks=[{**DISK, "vm_id": "vc/vm-1", "raw": True, "rdm_mode": "physicalMode"}])),
    ("vmware.disk.shared.detected",
     dict(disks=[{**DISK, "vm_id": "vc/vm-1", "sharing": "sharingMultiWriter"}])),
    ("vmware.disk.shared.detected",
     dict(disks=[{**DISK, "vm_id": "vc/vm-1", "bus_sharing": "physicalSharing"}])),
    ("vmware.disk_mode.independent",
     dict(disks=[{**DISK, "vm_id": "vc/vm-1", "disk_mode": "independent_persistent"}])),
    ("vmware.disk.count", dict(disks=[{**DISK, "vm_id": "vc/vm-1", "disk_key": str(k)}
                                      for k in range(166)])),
    ("vmware.changed_block_tracking.disabled", dict(vms=[{"cbt_enabled": False}])),
    ("vmware.changed_block_tracking.disabled",
     dict(disks=[{**DISK, "vm_id": "vc/vm-1", "cbt_enabled": False}])),
    ("vmware.disk.serial.truncated", dict(vms=[{"disk_enable_uuid": True}])),
    ("vmware.disk.bus.virtio", dict(vms=[{"guest_os_config": "Microsoft Windows Server 2019 (64-bit)",
                                          "guest_os_tools": "Microsoft Windows Server 2019 (64-bit)"}])),
    ("vmware.guestDisks.freespace",
     dict(partitions=[dict(vm_id="vc/vm-1", mount="/boot", free_mib=49.0)])),
    ("vmware.guestDisks.freespace",
     dict(partitions=[dict(vm_id="vc/vm-1", mount="C:\\", free_mib=99.0)])),
    ("vmware.guestDisks.freespace",
     dict(partitions=[dict(vm_id="vc/vm-1", mount="/data", free_mib=9.0)])),
    ("vmware.os.unsupported", dict(vms=[{"guest_os_config": "Other 2.6.x Linux (64-bit)"}])),
    ("vmware.os.end_of_life", dict(vms=[{"guest_os_tools": "CentOS 7 (64-bit)",
                                         "guest_os_config": "CentOS 7 (64-bit)"}])),
    ("vmware.os.32bit", dict(vms=[{"guest_os_config": "Red Hat Enterprise Linux 6 (32-bit)"}])),
    ("vmware.os.mismatch", dict(vms=[{"guest_os_config": "SUSE Linux Enterprise 10 (64-bit)",
                                      "guest_os_tools": "CentOS 7 (64-bit)"}])),
    ("vmware.os.upgrade.recommendation", dict(vms=[{"guest_os_config": "CentOS 7 (64-bit)",
                                                    "guest_os_tools": "CentOS 7 (64-bit)"}])),
    ("vmware.firmware.bios.efi_preference",
     dict(vms=[{"guest_os_config": "Red Hat Enterprise Linux 9 (64-bit)",
                "guest_os_tools": "Red Hat Enterprise Linux 9 (64-bit)"}])),
    ("vmware.firmware.secure_boot", dict(vms=[{"firmware": "efi", "secure_boot": True}])),
    ("vmware.firmware.vtpm.required", dict(vms=[{"guest_os_config": "Microsoft Windows Server 2022 (64-bit)",
                                                 "guest_os_tools": "Microsoft Windows Server 2022 (64-bit)",
                                                 "firmware": "efi"}])),
    ("vmware.cpu_memory.hotplug.enabled", dict(vms=[{"memory_hot_add": True}])),
    ("vmware.cpu_affinity.detected", dict(vms=[{"cpu_affinity": "0,1"}])),
    ("vmware.numa_affinity.detected", dict(vms=[{"numa_affinity": "0"}])),
    ("vmware.consolidation_needed", dict(vms=[{"consolidation_needed": True}])),
    ("vmware.snapshot.detected",
     dict(snapshots=[dict(vm_id="vc/vm-1", name="before patch", created_at="2025-10-01T00:00:00Z",
                          size_mib=2048.0)])),
    ("vmware.fault_tolerance.enabled", dict(vms=[{"ft_state": "running"}])),
    ("vmware.vm_missing_ip.detected", dict(vms=[{"primary_ip": ""}],
                                           nics=[{"vm_id": "vc/vm-1", "label": "nic1", "ipv4": ""}])),
    ("vmware.hostname.empty", dict(vms=[{"hostname": ""}])),
    ("vmware.hostname.empty", dict(vms=[{"hostname": "localhost.localdomain"}])),
    ("vmware.device.sriov.detected", dict(nics=[{"vm_id": "vc/vm-1", "label": "nic1",
                                                 "adapter": "sriov", "ipv4": "10.0.0.5"}])),
    ("vmware.nic.model.virtio", dict(vms=[{"guest_os_config": "Microsoft Windows 10 (64-bit)",
                                           "guest_os_tools": "Microsoft Windows 10 (64-bit)"}])),
    ("vmware.host_affinity.detected",
     dict(affinity_rules=[dict(cluster="c1", rule="pin-to-esx1", kind="vm_host", enabled=True,
                               mandatory=True, member="vc/vm-1")])),
    ("vmware.drs.enabled", dict(clusters=[dict(cluster_id="vc1/c1", name="c1", vcenter="vc1",
                                               drs_enabled=True)])),
    ("vmware.dpm.enabled", dict(clusters=[dict(cluster_id="vc1/c1", name="c1", vcenter="vc1",
                                               dpm_enabled=True)])),
    ("vmware.ha.enabled", dict(clusters=[dict(cluster_id="vc1/c1", name="c1", vcenter="vc1",
                                              ha_enabled=True)])),
    ("vmware.name.invalid", dict(vms=[{"name": "App_01 (old)"}])),
]


@pytest.mark.parametrize("rule_id,changes", FIRING, ids=[f"{r}-{i}" for i, (r, _) in enumerate(FIRING)])
def test_rule_fires_on_the_fact(rule_id, changes):
    assert statuses(build(**changes), rule_id) == {"vc/vm-1": "fired"}


@pytest.mark.parametrize("rule_id", sorted({r.id for r in RULES}))
def test_rule_silent_on_healthy_vm(rule_id):
    assert statuses(build(), rule_id) == {}


def test_every_rule_has_a_firing_test():
    assert {r.id for r in RULES} == {rule_id for rule_id, _ in FIRING}


def test_free_space_thresholds_are_exclusive_at_the_limit():
    # exactly 100 MiB on / and 50 MiB on /boot is enough (virt-v2v needs at least that much)
    estate = build(partitions=[dict(vm_id="vc/vm-1", mount="/", free_mib=100.0),
                               dict(vm_id="vc/vm-1", mount="/boot", free_mib=50.0)])
    assert statuses(estate, "vmware.guestDisks.freespace") == {}


def test_shared_disk_names_every_sharer():
    disk = {**DISK, "sharing": "sharingMultiWriter", "file": "[ds1] shared/quorum.vmdk"}
    estate = build(vms=[{"vm_id": "vc/vm-1", "name": "node-a"}, {"vm_id": "vc/vm-2", "name": "node-b"}],
                   disks=[{**disk, "vm_id": "vc/vm-1"}, {**disk, "vm_id": "vc/vm-2"}])
    found = concerns(estate, "vmware.disk.shared.detected")
    shared = found[found["rule_id"] == "vmware.disk.shared.detected"]
    assert sorted(shared["vm_id"]) == ["vc/vm-1", "vc/vm-2"]
    assert all("node-a, node-b" in d for d in shared["detail"])


def _without(changes: dict, rule_) -> dict:
    """``changes`` (a firing case) with every need of ``rule_`` absent from the VM's source.

    The source declares it lacks each need (``lacks``), and the values themselves are taken
    away: vms columns set to null, child-table columns nulled, whole tables emptied.
    """
    estate = build(**changes)
    keys = [k for need in rule_.needs for k in need.split("|")]
    tables = {name: estate[name].copy() for name in ("vms", "disks", "partitions", "nics", "devices",
                                                      "snapshots", "clusters", "affinity_rules")}
    for key in keys:
        table, _, column = key.partition(".")
        if table == "devices" and column:
            tables[table] = tables[table][tables[table]["kind"] != column]
        elif column:
            tables[table][column] = None
        else:
            tables[table] = tables[table].iloc[0:0]
    if {"devices.pci_passthrough", "devices.vgpu"} & set(keys):  # reservation < memory: no device
        tables["vms"]["memory_reservation_mib"] = tables["vms"]["memory_mib"]
    provenance = [{"id": tables["vms"]["source"].iloc[0], "kind": "vcenter",
                   "read_at": "2025-12-01T00:00:00Z", "lacks": keys}]
    return Estate({k: v for k, v in tables.items()}, provenance)


@pytest.mark.parametrize("rule_id,changes", FIRING, ids=[f"{r}-{i}" for i, (r, _) in enumerate(FIRING)])
def test_rule_is_unknown_never_fired_when_its_needs_are_absent(rule_id, changes):
    """Generated from the catalogue: drop every need of the rule -> unknown for every VM."""
    assert statuses(_without(changes, rule(rule_id)), rule_id) == {"vc/vm-1": "unknown"}


@pytest.mark.parametrize("rule_id", sorted({r.id for r in RULES if r.needs}))
def test_each_single_need_dropped_gives_unknown(rule_id):
    """Each need on its own (its alternatives all dropped) is enough to make the rule unknown."""
    rule_ = rule(rule_id)
    changes = next(c for r, c in FIRING if r == rule_id)
    for need in rule_.needs:
        single = Rule(**{**rule_.__dict__, "needs": (need,),
                         "blank_ok": tuple(n for n in rule_.blank_ok if n == need)})
        estate = _without(changes, single)
        found = evaluate(Context(estate, ReadinessParams()), (rule_,))
        assert found["status"].tolist() == ["unknown"], (rule_id, need)
        assert need.split("|")[0] in found["detail"].iloc[0]
        assert found["settled_by"].iloc[0] != ""


def test_every_rule_declares_needs():
    assert all(r.needs for r in RULES)
