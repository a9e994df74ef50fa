"""The canonical estate tables: every column, its dtype, unit and meaning, defined once.

Every collector produces these tables and every stage consumes them. Units live in the
column names (``_mib``, ``_mhz``, ``_kbps``, ``_s``); timestamps are UTC. MB-labelled
columns in VMware tools hold MiB, so they map to ``_mib`` columns without conversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

STRING = "string"
INT = "Int64"
FLOAT = "float64"
BOOL = "boolean"
TIME = "datetime64[ns, UTC]"


@dataclass(frozen=True)
class Column:
    """One canonical column: name, pandas dtype and a line saying what it holds."""

    name: str
    dtype: str
    doc: str
    required: bool = False


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns, its key, and the VM reference it carries."""

    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    refs: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Column names in canonical order."""
        return [c.name for c in self.columns]

    @property
    def dtypes(self) -> dict[str, str]:
        """Column name -> pandas dtype."""
        return {c.name: c.dtype for c in self.columns}

    @property
    def required(self) -> list[str]:
        """Columns that must be present and non-null in every row."""
        return [c.name for c in self.columns if c.required]


def _c(name: str, dtype: str, doc: str, required: bool = False) -> Column:
    return Column(name, dtype, doc, required)


VM_ID = _c(
    "vm_id",
    STRING,
    "Stable VM key: '<vCenter instance UUID>/<moref>' where known, else the VM instance "
    "UUID, else '<source>:<name>' (recorded as a warning)",
    True,
)

TABLES: dict[str, Table] = {}


def _table(name: str, doc: str, key: tuple[str, ...], *columns: Column, refs=None) -> Table:
    table = Table(name, doc, tuple(columns), key, refs or {})
    TABLES[name] = table
    return table


_table(
    "vms",
    "One row per virtual machine, template or placeholder.",
    ("vm_id",),
    VM_ID,
    _c("name", STRING, "Display name in vCenter", True),
    _c("vcenter", STRING, "vCenter server name (VI SDK Server)"),
    _c("vcenter_uuid", STRING, "vCenter instance UUID (VI SDK UUID)"),
    _c("moref", STRING, "Managed object id, e.g. vm-218"),
    _c("instance_uuid", STRING, "VM instance UUID (vCenter-unique)"),
    _c("bios_uuid", STRING, "SMBIOS UUID seen by the guest"),
    _c("datacenter", STRING, "Datacenter name"),
    _c("cluster", STRING, "Cluster name (empty for stand-alone hosts)"),
    _c("host", STRING, "ESXi host name"),
    _c("folder", STRING, "VM folder path"),
    _c("resource_pool", STRING, "Resource pool path"),
    _c("vapp", STRING, "vApp name, if any"),
    _c("power_state", STRING, "poweredOn, poweredOff or suspended"),
    _c("connection_state", STRING, "connected, disconnected, orphaned, inaccessible, invalid"),
    _c("template", BOOL, "True for templates"),
    _c("srm_placeholder", BOOL, "True for Site Recovery Manager placeholder VMs"),
    _c("vcpus", INT, "Virtual CPUs"),
    _c("cores_per_socket", INT, "Cores per virtual socket"),
    _c("memory_mib", FLOAT, "Configured memory, MiB"),
    _c("memory_reservation_mib", FLOAT, "Memory reservation, MiB (PCI passthrough needs it full)"),
    _c("fixed_passthru_hotplug", BOOL, "Hot-plug of fixed passthrough devices enabled"),
    _c("firmware", STRING, "bios or efi"),
    _c("secure_boot", BOOL, "EFI secure boot enabled"),
    _c("hw_version", INT, "Virtual hardware version number (vmx-NN)"),
    _c("cpu_hot_add", BOOL, "CPU hot-add enabled"),
    _c("memory_hot_add", BOOL, "Memory hot-add enabled"),
    _c("cpu_affinity", STRING, "Scheduling affinity: pinned CPU set, empty when none"),
    _c("numa_affinity", STRING, "NUMA node affinity, empty when none"),
    _c("latency_sensitivity", STRING, "normal, high, ..."),
    _c("guest_os_config", STRING, "OS according to the configuration file"),
    _c("guest_os_tools", STRING, "OS according to VMware Tools"),
    _c("guest_id", STRING, "vSphere guestId, e.g. rhel9_64Guest"),
    _c("guest_family", STRING, "Guest family from tools: linuxGuest, windowsGuest, ..."),
    _c("hostname", STRING, "Guest host name (DNS Name)"),
    _c("primary_ip", STRING, "Primary guest IP address"),
    _c("tools_status", STRING, "toolsOk, toolsOld, toolsNotRunning, toolsNotInstalled"),
    _c("tools_version", STRING, "VMware Tools version"),
    _c("cbt_enabled", BOOL, "Changed block tracking enabled on the VM"),
    _c("disk_enable_uuid", BOOL, "disk.EnableUUID set"),
    _c("consolidation_needed", BOOL, "Disks need snapshot consolidation"),
    _c("ft_state", STRING, "Fault tolerance state (notConfigured when off)"),
    _c("ha_restart_priority", STRING, "HA restart priority"),
    _c("provisioned_mib", FLOAT, "Storage provisioned (committed + uncommitted), MiB"),
    _c("in_use_mib", FLOAT, "Storage committed, MiB"),
    _c("created_at", TIME, "VM creation time"),
    _c("powered_on_at", TIME, "Last power-on time"),
    _c("annotation", STRING, "Notes field (user-controlled text)"),
    _c("source", STRING, "Provenance id of the source that supplied this row"),
)

_table(
    "attributes",
    "Custom attributes and vSphere tags, long form: one row per VM and name.",
    ("vm_id", "kind", "name"),
    VM_ID,
    _c("kind", STRING, "custom (custom attribute) or tag (vSphere tag; name is the category)", True),
    _c("name", STRING, "Attribute name or tag category", True),
    _c("value", STRING, "Attribute value or tag name"),
    refs={"vm_id": "vms"},
)

_table(
    "disks",
    "Virtual disks, one row per disk.",
    ("vm_id", "disk_key"),
    VM_ID,
    _c("disk_key", STRING, "Device key within the VM, e.g. 2000", True),
    _c("label", STRING, "Hard disk 1, ..."),
    _c("capacity_mib", FLOAT, "Capacity, MiB"),
    _c("datastore", STRING, "Datastore holding the backing file (empty when none)"),
    _c("file", STRING, "Backing file path, [datastore] folder/file.vmdk"),
    _c("thin", BOOL, "Thin provisioned"),
    _c("eager_scrub", BOOL, "Eager-zeroed thick"),
    _c("disk_mode", STRING, "persistent, independent_persistent, independent_nonpersistent"),
    _c("sharing", STRING, "sharingNone or sharingMultiWriter"),
    _c("raw", BOOL, "Raw device mapping"),
    _c("rdm_mode", STRING, "physicalMode or virtualMode for RDMs"),
    _c("controller", STRING, "Controller type, e.g. VMware paravirtual SCSI"),
    _c("controller_key", STRING, "Controller label, e.g. SCSI controller 0"),
    _c("bus_sharing", STRING, "noSharing, virtualSharing or physicalSharing"),
    _c("unit_number", INT, "Unit number on the controller"),
    _c("cbt_enabled", BOOL, "Changed block tracking on this disk"),
    _c("disk_uuid", STRING, "Disk UUID"),
    refs={"vm_id": "vms"},
)

_table(
    "nics",
    "Virtual network adapters.",
    ("vm_id", "label"),
    VM_ID,
    _c("label", STRING, "Network adapter 1, ...", True),
    _c("adapter", STRING, "vmxnet3, e1000e, sriov, ..."),
    _c("network", STRING, "Port group or dvPortgroup name"),
    _c("switch", STRING, "vSwitch or dvSwitch name"),
    _c("connected", BOOL, "Connected now"),
    _c("mac", STRING, "MAC address"),
    _c("ipv4", STRING, "Guest IPv4 addresses, comma separated"),
    _c("ipv6", STRING, "Guest IPv6 addresses, comma separated"),
    _c("direct_path_io", BOOL, "DirectPath I/O allowed"),
    refs={"vm_id": "vms"},
)

_table(
    "partitions",
    "Guest file systems as VMware Tools reports them.",
    ("vm_id", "mount"),
    VM_ID,
    _c("mount", STRING, "Mount point or drive, e.g. / or C:\\", True),
    _c("disk_key", STRING, "Disk key, where the source links it"),
    _c("capacity_mib", FLOAT, "File system capacity, MiB"),
    _c("free_mib", FLOAT, "Free space, MiB"),
    refs={"vm_id": "vms"},
)

_table(
    "snapshots",
    "VM snapshots.",
    ("vm_id", "name", "created_at"),
    VM_ID,
    _c("name", STRING, "Snapshot name"),
    _c("description", STRING, "Snapshot description"),
    _c("created_at", TIME, "When taken"),
    _c("size_mib", FLOAT, "Size on disk, MiB (total)"),
    _c("quiesced", BOOL, "Guest file systems quiesced"),
    _c("state", STRING, "Power state captured"),
    refs={"vm_id": "vms"},
)

_table(
    "devices",
    "Devices that matter for migration other than disks and NICs.",
    ("vm_id", "kind", "label"),
    VM_ID,
    _c(
        "kind",
        STRING,
        "usb_controller, usb_device, pci_passthrough, vgpu, sriov_nic, vtpm, serial, "
        "parallel, cdrom",
        True,
    ),
    _c("label", STRING, "Device label", True),
    _c("detail", STRING, "Backing or model detail"),
    _c("connected", BOOL, "Connected now"),
    refs={"vm_id": "vms"},
)

_table(
    "hosts",
    "ESXi hosts.",
    ("host_id",),
    _c("host_id", STRING, "'<vCenter UUID>/<moref>' where known, else '<vcenter>/<name>'", True),
    _c("name", STRING, "Host name", True),
    _c("vcenter", STRING, "vCenter server name"),
    _c("datacenter", STRING, "Datacenter name"),
    _c("cluster", STRING, "Cluster name"),
    _c("cpu_model", STRING, "CPU model string"),
    _c("cpu_mhz", FLOAT, "Core speed, MHz"),
    _c("sockets", INT, "CPU sockets"),
    _c("cores", INT, "Physical cores in total"),
    _c("threads", INT, "Hardware threads in total"),
    _c("memory_mib", FLOAT, "Physical memory, MiB"),
    _c("esx_version", STRING, "ESXi version string"),
    _c("vendor", STRING, "Server vendor"),
    _c("model", STRING, "Server model"),
    _c("maintenance", BOOL, "In maintenance mode"),
    _c("source", STRING, "Provenance id"),
)

_table(
    "clusters",
    "Compute clusters.",
    ("cluster_id",),
    _c("cluster_id", STRING, "'<vCenter UUID>/<moref>' where known, else '<vcenter>/<name>'", True),
    _c("name", STRING, "Cluster name", True),
    _c("vcenter", STRING, "vCenter server name"),
    _c("datacenter", STRING, "Datacenter name"),
    _c("hosts", INT, "Number of hosts"),
    _c("cores", INT, "Physical cores in total"),
    _c("cpu_mhz_total", FLOAT, "Total CPU capacity, MHz"),
    _c("memory_mib", FLOAT, "Total memory, MiB"),
    _c("ha_enabled", BOOL, "vSphere HA enabled"),
    _c("drs_enabled", BOOL, "DRS enabled"),
    _c("drs_behavior", STRING, "DRS default VM behaviour"),
    _c("dpm_enabled", BOOL, "DPM enabled"),
    _c("source", STRING, "Provenance id"),
)

_table(
    "affinity_rules",
    "DRS rules, long form: one row per rule member.",
    ("cluster", "rule", "member"),
    _c("vcenter", STRING, "vCenter server name"),
    _c("cluster", STRING, "Cluster name", True),
    _c("rule", STRING, "Rule name", True),
    _c("kind", STRING, "vm_affinity, vm_anti_affinity or vm_host", True),
    _c("enabled", BOOL, "Rule enabled"),
    _c("mandatory", BOOL, "Mandatory (must) rather than should"),
    _c("member", STRING, "vm_id of a member VM, or a host name for vm_host rules", True),
)

_table(
    "datastores",
    "Datastores.",
    ("datastore_id",),
    _c("datastore_id", STRING, "'<vCenter UUID>/<moref>' where known, else '<vcenter>/<name>'", True),
    _c("name", STRING, "Datastore name", True),
    _c("vcenter", STRING, "vCenter server name"),
    _c("type", STRING, "VMFS, NFS, vsan, vvol"),
    _c("capacity_mib", FLOAT, "Capacity, MiB"),
    _c("free_mib", FLOAT, "Free space, MiB"),
    _c("provisioned_mib", FLOAT, "Provisioned, MiB"),
    _c("accessible", BOOL, "Accessible"),
    _c("sioc_enabled", BOOL, "Storage I/O Control enabled"),
    _c("hosts", STRING, "Hosts that mount it, comma separated"),
    _c("url", STRING, "Datastore URL"),
    _c("source", STRING, "Provenance id"),
)

_table(
    "networks",
    "Port groups and distributed port groups.",
    ("network_id",),
    _c("network_id", STRING, "'<vCenter UUID>/<moref>' where known, else '<vcenter>/<switch>/<name>'", True),
    _c("name", STRING, "Port group name", True),
    _c("vcenter", STRING, "vCenter server name"),
    _c("switch", STRING, "vSwitch or dvSwitch name"),
    _c("kind", STRING, "standard or distributed"),
    _c("vlan", STRING, "VLAN id, range or trunk spec"),
    _c("source", STRING, "Provenance id"),
)

_table(
    "utilization",
    "Utilization samples, long form.",
    ("vm_id", "metric", "timestamp"),
    VM_ID,
    _c("timestamp", TIME, "Sample time (end of interval), UTC", True),
    _c(
        "metric",
        STRING,
        "cpu_usage_mhz, cpu_usage_pct, cpu_ready_ms, mem_consumed_mib, mem_active_mib, "
        "disk_kbps, net_kbps, disk_iops",
        True,
    ),
    _c("value", FLOAT, "Sample value in the metric's unit"),
    _c("interval_s", INT, "Sampling interval, seconds"),
    refs={"vm_id": "vms"},
)

_table(
    "flows",
    "Network dependencies, aggregated: one row per (src, dst, port, protocol).",
    ("src", "dst", "port", "protocol"),
    _c("src", STRING, "Source node: a vm_id, or 'ext:<ip or name>' for non-VM endpoints", True),
    _c("dst", STRING, "Destination node, same form as src", True),
    _c("src_vm", BOOL, "True when src is a VM of the estate"),
    _c("dst_vm", BOOL, "True when dst is a VM of the estate"),
    _c("src_ip", STRING, "Source IP as recorded"),
    _c("dst_ip", STRING, "Destination IP as recorded"),
    _c("src_process", STRING, "Source process, where known"),
    _c("dst_process", STRING, "Destination process, where known"),
    _c("port", INT, "Destination port"),
    _c("protocol", STRING, "tcp or udp"),
    _c("connections", INT, "Connections (or time slots seen) aggregated into this row"),
    _c("bytes", FLOAT, "Bytes transferred, where known"),
    _c("first_seen", TIME, "First observation, UTC"),
    _c("last_seen", TIME, "Last observation, UTC"),
)

_table(
    "warnings",
    "Recoverable oddities found while reading or checking the inputs.",
    (),
    _c("source", STRING, "Provenance id or file the warning is about"),
    _c("code", STRING, "Stable warning code, e.g. rvtools.column.missing", True),
    _c("table", STRING, "Canonical table or source sheet"),
    _c("row", STRING, "Row number in the source (1-based, header is row 1) or key"),
    _c("column", STRING, "Column concerned"),
    _c("message", STRING, "What was found and what was done about it", True),
)

#: Tables that hang off a VM: rows are replaced per VM when a newer source supplies them.
VM_CHILD_TABLES = ("attributes", "disks", "nics", "partitions", "snapshots", "devices")

#: Metrics the utilization table may hold, with their units.
METRICS = {
    "cpu_usage_mhz": "MHz",
    "cpu_usage_pct": "%",
    "cpu_ready_ms": "ms per interval",
    "mem_consumed_mib": "MiB",
    "mem_active_mib": "MiB",
    "disk_kbps": "KB/s",
    "net_kbps": "KB/s",
    "disk_iops": "IO/s",
}


def empty(name: str) -> pd.DataFrame:
    """An empty frame of the canonical table ``name`` with canonical dtypes."""
    table = TABLES[name]
    return pd.DataFrame({c.name: pd.Series(dtype=c.dtype) for c in table.columns})
