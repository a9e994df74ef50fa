"""Hand-built estates for the readiness tests: one healthy VM, changed one fact at a time."""

from __future__ import annotations

import pandas as pd

from assess.model import Estate

VM = dict(
    vm_id="vc/vm-1", name="app-01", vcenter="vc1", cluster="c1", power_state="poweredOn",
    connection_state="connected", template=False, srm_placeholder=False, vcpus=2, memory_mib=4096.0,
    memory_reservation_mib=0.0, firmware="bios", secure_boot=False, cpu_hot_add=False,
    memory_hot_add=False, cpu_affinity="", numa_affinity="",
    guest_os_config="Red Hat Enterprise Linux 8 (64-bit)",
    guest_os_tools="Red Hat Enterprise Linux 8 (64-bit)", hostname="app-01.corp",
    primary_ip="10.0.0.5", tools_status="toolsOk", cbt_enabled=True, disk_enable_uuid=False,
    consolidation_needed=False, ft_state="notConfigured", provisioned_mib=40960.0,
    powered_on_at="2025-11-20T00:00:00Z", source="vcenter-1",
)
DISK = dict(disk_key="2000", label="Hard disk 1", capacity_mib=40960.0, datastore="ds1",
            file="[ds1] app/app.vmdk", disk_mode="persistent", sharing="sharingNone", raw=False,
            controller="VMware paravirtual SCSI", bus_sharing="noSharing", cbt_enabled=True)
PARTITIONS = [dict(mount="/", free_mib=5000.0, capacity_mib=20000.0),
              dict(mount="/boot", free_mib=500.0, capacity_mib=1000.0)]
NIC = dict(label="Network adapter 1", adapter="vmxnet3", network="pg-app", ipv4="10.0.0.5")
PROVENANCE = [{"id": "vcenter-1", "kind": "vcenter", "read_at": "2025-12-01T00:00:00+00:00"}]


def build(vms=None, disks=None, partitions=None, nics=None, devices=None, snapshots=None,
          clusters=None, affinity_rules=None, flows=None, provenance=None) -> Estate:
    """An estate from lists of row dicts; a VM row only needs the fields that differ from VM."""
    vms = [{**VM, **v} for v in (vms or [{}])]
    ids = [v["vm_id"] for v in vms]

    def per_vm(rows, default):
        if rows is None:
            return [{**r, "vm_id": i} for i in ids for r in default]
        return rows

    tables = {"vms": pd.DataFrame(vms)}
    for name, rows, default in (("disks", disks, [DISK]), ("partitions", partitions, PARTITIONS),
                                ("nics", nics, [NIC])):
        rows = per_vm(rows, default)
        if rows:
            tables[name] = pd.DataFrame(rows)
    for name, rows in (("devices", devices), ("snapshots", snapshots), ("clusters", clusters),
                       ("affinity_rules", affinity_rules), ("flows", flows)):
        if rows:
            tables[name] = pd.DataFrame(rows)
    return Estate(tables, provenance if provenance is not None else list(PROVENANCE))
