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
    _c("src_name", STRING, "Source server name as recorded (lower case), so it can resolve again later"),
    _c("dst_name", STRING, "Destination server name as recorded (lower case)"),
    _c("src_vlan", STRING, "Source VLAN, where the export records it"),
    _c("dst_vlan", STRING, "Destination VLAN, where the export records it"),
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
    """An empty frame of the estate or result table ``name`` with its declared dtypes."""
    table = TABLES.get(name) or RESULT_TABLES[name]
    return pd.DataFrame({c.name: pd.Series(dtype=c.dtype) for c in table.columns})


# -- Result tables ------------------------------------------------------------------------------
# What the stages write into a run folder (``tables/<name>.parquet``), declared like the estate
# tables. :func:`assess.model.estate.conform` applies them when a stage's result is collected,
# when a run is written and when it is read back. Columns a stage adds without declaring them
# here are kept (after the declared ones) so nothing is lost, but ``tests/test_result_tables.py``
# fails until they are declared.

RESULT_TABLES: dict[str, Table] = {}


def _result(name: str, doc: str, key: tuple[str, ...], *columns: Column, refs=None) -> Table:
    table = Table(name, doc, tuple(columns), key, refs or {})
    RESULT_TABLES[name] = table
    return table


_VM_REF = {"vm_id": "vms"}

_result(
    "readiness",
    "Readiness stage: one row per VM of the estate, in the estate's order.",
    ("vm_id",),
    VM_ID,
    _c("name", STRING, "Display name in vCenter"),
    _c("verdict", STRING,
       "ready, ready_with_warnings, not_ready, unknown (basic inventory missing) or excluded"),
    _c("coverage", STRING, "complete (every rule could be checked) or partial"),
    _c("unverified", STRING, "Rule ids that could not be checked and the source that would settle each"),
    _c("verify_first", STRING, "Critical rule ids that could not be checked"),
    _c("excluded_reason", STRING, "Why the VM is out of scope (template, placeholder, powered off ...)"),
    _c("unknown_reason", STRING, "For verdict unknown: the basic inventory that is missing"),
    _c("method", STRING, "Migration method: cold or warm"),
    _c("method_reason", STRING, "Why this method"),
    _c("strategy", STRING, "rehost, replatform, retire or retain"),
    _c("strategy_reason", STRING, "Why this strategy"),
    _c("effort", INT, "Remediation effort score (0 = none)"),
    _c("target_name", STRING, "DNS-1123 name the VM gets on the target"),
    _c("guest_os_tier", STRING, "Support tier of the guest OS on KubeVirt"),
    _c("firmware", STRING, "bios or efi, as the target VM will boot"),
    _c("secure_boot", BOOL, "EFI secure boot needed on the target"),
    _c("needs_vtpm", BOOL, "The target VM needs a virtual TPM"),
    _c("remediation", STRING, "What to fix before moving, one line per fired concern"),
    _c("rules_version", STRING, "Version of the rule catalogue that produced the row"),
    _c("cluster", STRING, "Source cluster name"),
    _c("os_family", STRING, "Guest OS family (linux, windows, other, unknown)"),
    _c("os_version", STRING, "Guest OS version as derived from the OS name (empty when not stated)"),
    _c("guest_os", STRING, "Guest OS as reported (tools first, else configuration)"),
    _c("os_score", INT, "Guest OS support score (higher is better supported)"),
    _c("disk_score", INT, "Disk layout score (higher is easier to move)"),
    _c("disk_gib", FLOAT, "Disk size, GiB: vDisk capacities, else vInfo provisioned, else in use"),
    _c("storage_source", STRING, "Where disk_gib came from: vDisk, vInfo provisioned, vInfo in use or none"),
    _c("critical", INT, "Critical concerns fired"),
    _c("warnings", INT, "Warning concerns fired"),
    _c("unknowns", INT, "Concerns that could not be checked"),
    refs=_VM_REF,
)

_result(
    "concerns",
    "Readiness stage: one row per VM and rule that fired or could not be checked.",
    ("vm_id", "rule_id"),
    VM_ID,
    _c("rule_id", STRING, "Stable dotted rule id, e.g. vm.disk.rdm_physical"),
    _c("category", STRING, "Critical, Warning or Information"),
    _c("status", STRING, "fired or unknown"),
    _c("label", STRING, "Short rule title"),
    _c("assessment", STRING, "What the finding means for the migration"),
    _c("remediation", STRING, "What to do about it"),
    _c("detail", STRING, "The evidence for this VM"),
    _c("settled_by", STRING, "For status unknown: the source that would settle the rule"),
    _c("rules_version", STRING, "Version of the rule catalogue"),
    refs=_VM_REF,
)

_result(
    "concern_summary",
    "Readiness stage: one row per rule and status with the VMs it concerns.",
    ("rule_id", "status"),
    _c("rule_id", STRING, "Stable dotted rule id"),
    _c("status", STRING, "fired or unknown"),
    _c("category", STRING, "Critical, Warning or Information"),
    _c("label", STRING, "Short rule title"),
    _c("vm_count", INT, "VMs concerned"),
    _c("vms", STRING, "Names of the VMs concerned, '; ' separated"),
    _c("rules_version", STRING, "Version of the rule catalogue"),
)

_result(
    "readiness_groups",
    "Readiness stage: verdict counts per cluster and per OS family.",
    ("group_by", "group"),
    _c("group_by", STRING, "cluster or os_family"),
    _c("group", STRING, "The cluster or OS family"),
    *(_c(v, INT, f"VMs with verdict {v}") for v in ("ready", "ready_with_warnings", "not_ready", "unknown",
                                                     "excluded")),
)

_result(
    "cluster_overcommit",
    "Readiness stage: one row per source cluster (most VMs first), allocations against host capacity.",
    ("cluster",),
    _c("cluster", STRING, "Source cluster name"),
    _c("datacenter", STRING, "Datacenter of the cluster"),
    _c("vms", INT, "VMs in the cluster"),
    _c("powered_on", INT, "Powered-on VMs in the cluster"),
    _c("vcpus", INT, "vCPUs allocated to the cluster's VMs"),
    _c("memory_gib", FLOAT, "Memory allocated to the cluster's VMs, GiB"),
    _c("hosts", INT, "ESXi hosts in the cluster"),
    _c("host_cores", INT, "Physical cores of the cluster's hosts"),
    _c("host_memory_gib", FLOAT, "Physical memory of the cluster's hosts, GiB"),
    _c("cpu_overcommit", FLOAT, "vCPU : physical core ratio"),
    _c("memory_overcommit", FLOAT, "Allocated memory : host memory ratio"),
    _c("ha_enabled", BOOL, "vSphere HA enabled"),
    _c("drs_enabled", BOOL, "DRS enabled"),
    _c("drs_behavior", STRING, "DRS automation level"),
    _c("dpm_enabled", BOOL, "DPM enabled"),
)

_result(
    "disk_tiers",
    "Readiness stage: VM count and storage per disk-size tier.",
    ("disk_score",),
    _c("disk_score", INT, "Tier number (the readiness table's disk_score)"),
    _c("tier", STRING, "Readable tier bounds"),
    _c("vms", INT, "VMs in the tier"),
    _c("total_tib", FLOAT, "Their storage, TiB"),
)

_result(
    "complexity",
    "Readiness stage: VMs per guest OS score (rows) and disk score (columns), as migration-planner shows.",
    ("os_score",),
    _c("os_score", INT, "Guest OS support score"),
    _c("disk_1", INT, "VMs with disk score 1"),
    _c("disk_2", INT, "VMs with disk score 2"),
    _c("disk_3", INT, "VMs with disk score 3"),
    _c("disk_4", INT, "VMs with disk score 4"),
)

_result(
    "datastore_usage",
    "Readiness stage: per datastore, type, capacity, free space, SIOC and the VMs with a disk on it.",
    ("datastore",),
    _c("datastore", STRING, "Datastore name"),
    _c("type", STRING, "VMFS, NFS, vSAN, vVol ..."),
    _c("capacity_gib", FLOAT, "Capacity, GiB"),
    _c("free_gib", FLOAT, "Free space, GiB"),
    _c("free_pct", FLOAT, "Free space, % of capacity"),
    _c("sioc_enabled", BOOL, "Storage I/O control enabled"),
    _c("vms", INT, "VMs with a disk on the datastore"),
)

_result(
    "missing_sources",
    "Readiness stage: per source that would settle unchecked rules, the rules and the VMs left unchecked.",
    ("source",),
    _c("source", STRING, "The source to add (vCenter collection, vTools sheet ...)"),
    _c("rules", STRING, "Rule ids it would settle"),
    _c("critical_rules", STRING, "Critical rule ids among them"),
    _c("vms", INT, "VMs with at least one of those rules unchecked"),
)

_result(
    "sizing",
    "Sizing stage: one row per VM of the estate: right-sized shape, KubeVirt mapping, node.",
    ("vm_id",),
    VM_ID,
    _c("mode", STRING, "How the size was chosen: performance (utilization) or as_is (allocation)"),
    _c("vcpus", INT, "Right-sized vCPUs"),
    _c("memory_mib", FLOAT, "Right-sized memory, MiB"),
    _c("confidence", INT, "Confidence in the size, 1-5 stars"),
    _c("confidence_reason", STRING, "Why that confidence"),
    _c("idle", BOOL, "The VM looks idle (null when there is no evidence either way)"),
    _c("idle_evidence", STRING, "The utilization figures behind the idle verdict"),
    _c("profile", STRING, "Workload profile (steady, bursty, ...)"),
    _c("instancetype", STRING, "common-instancetypes name, empty when shape is custom"),
    _c("preference", STRING, "common-instancetypes preference name"),
    _c("cpu_request_cores", FLOAT, "CPU request of the virt-launcher pod, cores"),
    _c("memory_request_mib", FLOAT, "Memory request of the virt-launcher pod, MiB"),
    _c("overhead_mib", FLOAT, "KubeVirt memory overhead, MiB"),
    _c("pod_memory_mib", FLOAT, "Pod memory: guest memory plus overhead, MiB"),
    _c("storage_gib", FLOAT, "Storage requested for the VM's disks, GiB"),
    _c("node", STRING, "Node the VM is packed onto (empty when not placed)"),
    _c("node_profile", STRING, "Profile of that node"),
    _c("excluded_reason", STRING, "Why the VM is not placed"),
    _c("series", STRING, "Series of the chosen instancetype (empty when shape is custom)"),
    _c("guest_vcpus", INT, "vCPUs the target gives the guest"),
    _c("guest_memory_mib", FLOAT, "Memory the target gives the guest, MiB"),
    _c("instancetype_reason", STRING, "Why this instancetype"),
    _c("preference_reason", STRING, "Why this preference"),
    _c("alloc_vcpus", INT, "vCPUs allocated to the VM today, in the source"),
    _c("alloc_memory_mib", FLOAT, "Memory allocated to the VM today, in the source, MiB"),
    _c("shape", STRING, "instancetype or custom"),
    _c("memory_overshoot_pct", FLOAT, "Guest memory the target shape gives above the right-sized memory, %"),
    _c("memory_source", STRING, "What the memory size rests on (measured counter, or as allocated and why)"),
    _c("sizing_reason", STRING, "How the right-sized vCPUs and memory were reached"),
    _c("disk_kbps_p95", FLOAT, "Disk throughput P95 over the lookback, read + write, KB/s (vCenter's KB: "
       "1024 bytes); empty when not measured"),
refs=_VM_REF,
)

_result(
    "nodes",
    "Sizing stage: one row per target node with its fill.",
    ("node",),
    _c("node", STRING, "Node name"),
    _c("node_profile", STRING, "Node profile"),
    _c("role", STRING, "workload or failover"),
    _c("vms", INT, "VMs packed onto the node"),
    _c("cpu_demand_cores", FLOAT, "CPU requested by its VMs, cores"),
    _c("cpu_allocatable_cores", FLOAT, "Allocatable CPU, cores"),
    _c("cpu_fill", FLOAT, "cpu_demand_cores / cpu_allocatable_cores"),
    _c("memory_demand_mib", FLOAT, "Memory requested by its VMs, MiB"),
    _c("memory_allocatable_mib", FLOAT, "Allocatable memory, MiB"),
    _c("memory_fill", FLOAT, "memory_demand_mib / memory_allocatable_mib"),
    _c("max_vms", INT, "VMs the node may hold at most"),
)

_result(
    "storage",
    "Sizing stage: one row per target storage class and volume mode.",
    ("storage_class", "volume_mode"),
    _c("storage_class", STRING, "Target storage class"),
    _c("volume_mode", STRING, "Block or Filesystem"),
    _c("pvcs", INT, "PVCs in the class"),
    _c("vms", INT, "VMs with a PVC in the class"),
    _c("requested_gib", FLOAT, "Capacity requested, GiB"),
    _c("consumed_gib", FLOAT, "Capacity expected to be consumed, GiB"),
    _c("raw_gib", FLOAT, "Raw capacity after replication, GiB"),
    _c("replication_factor", FLOAT, "Copies the storage keeps"),
    _c("filesystem_overhead", FLOAT, "Share added for file system overhead (Filesystem mode)"),
)

_result(
    "pvcs",
    "Sizing stage: one row per virtual disk with the PVC it becomes.",
    ("vm_id", "disk_key"),
    VM_ID,
    _c("disk_key", STRING, "Device key within the VM"),
    _c("datastore", STRING, "Source datastore"),
    _c("capacity_mib", FLOAT, "Source disk capacity, MiB"),
    _c("thin", BOOL, "Thin provisioned at the source"),
    _c("storage_class", STRING, "Target storage class"),
    _c("volume_mode", STRING, "Block or Filesystem"),
    _c("pvc_bytes", FLOAT, "PVC size requested, bytes"),
    _c("pvc_gib", FLOAT, "PVC size requested, GiB"),
    _c("consumed_gib", FLOAT, "Capacity expected to be consumed, GiB"),
    _c("raw_gib", FLOAT, "Raw capacity after replication, GiB"),
    _c("note", STRING, "Anything odd about the disk"),
    refs=_VM_REF,
)

_result(
    "packing_runs",
    "Sizing stage: each packing heuristic tried per node profile, and the one kept.",
    ("node_profile", "method"),
    _c("node_profile", STRING, "Node profile"),
    _c("vms", INT, "VMs packed"),
    _c("method", STRING, "Heuristic (or final for the kept result)"),
    _c("nodes", INT, "Nodes it needed"),
    _c("seconds", FLOAT, "Time it took, s"),
    _c("lower_bound", INT, "Nodes no packing can go below"),
    _c("chosen", BOOL, "This row is the result kept"),
    _c("final_method", STRING, "Heuristic the kept result came from"),
)

_result(
    "cost",
    "Sizing stage: annual cost today and on the target, line by line.",
    ("side", "item"),
    _c("side", STRING, "current or target"),
    _c("item", STRING, "Cost line (total for the sum)"),
    _c("kind", STRING, "licences, hardware, support or total"),
    _c("quantity", FLOAT, "How many units"),
    _c("unit", STRING, "The unit counted"),
    _c("unit_cost", FLOAT, "Cost per unit per year"),
    _c("annual_cost", FLOAT, "quantity x unit_cost; empty when the price was not given (not counted as 0)"),
    _c("currency", STRING, "Currency of the costs"),
    _c("input", STRING, "Where the price comes from: default, given, not given (or computed for totals)"),
    _c("assumption", STRING, "What the line counts, where its price comes from, what a total omits"),
)

_result(
    "move_groups",
    "Waves stage: one row per VM with the move group it belongs to.",
    ("vm_id",),
    VM_ID,
    _c("group", STRING, "Move group id"),
    _c("group_name", STRING, "Readable group name: the application it most likely is"),
    _c("group_evidence", STRING, "What the group name is based on"),
    _c("group_reason", STRING, "Why the VM is in the group"),
    _c("shared_service", BOOL, "The group is a shared service (many groups depend on it)"),
    refs=_VM_REF,
)

_result(
    "group_links",
    "Waves stage: dependencies between move groups.",
    ("group", "other_group"),
    _c("group", STRING, "Move group id"),
    _c("other_group", STRING, "Move group it talks to"),
    _c("weight", FLOAT, "Link weight (traffic)"),
    _c("ports", STRING, "Ports seen, comma separated"),
)

_result(
    "wave_plan",
    "Waves stage: one row per VM of the estate with its wave (null when held back).",
    ("vm_id",),
    VM_ID,
    _c("group", STRING, "Move group id"),
    _c("wave", INT, "Wave number (1 first), null when not planned"),
    _c("bucket", STRING, "pilot, shared-services, wave, remediate-first or excluded"),
    _c("reason", STRING, "Why the VM is in this wave, from the final plan"),
    _c("name", STRING, "Display name in vCenter"),
    _c("method", STRING, "Migration method: cold or warm"),
    _c("environment", STRING, "Environment (prod, test, dev ...)"),
    _c("environment_source", STRING, "Where the environment comes from"),
    _c("storage_gib", FLOAT, "Storage to move, GiB"),
    _c("transfer_gib", FLOAT, "Data copied inside the window, GiB"),
    _c("transfer_basis", STRING,
       "What transfer_gib rests on: cold full copy, warm measured change rate (disk throughput P95 x the "
       "pre-copy interval), warm assumed delta fraction (rate not measured) or warm full copy (change rate "
       ">= copy rate: may not converge)"),
    _c("precopy_days", FLOAT,
       "Warm pre-copy lead before the VM's window, days: the longer of warm_precopy_days and its first full "
       "copy at one VM's copy rate; 0 when copied whole in the window"),
    refs=_VM_REF,
)

_result(
    "waves",
    "Waves stage: one row per wave with its load, caps and window.",
    ("wave",),
    _c("wave", INT, "Wave number"),
    _c("kind", STRING, "pilot, shared-services or wave"),
    _c("groups", INT, "Move groups in the wave"),
    _c("vms", INT, "VMs in the wave"),
    _c("warm_vms", INT, "VMs moved warm"),
    _c("storage_tib", FLOAT, "Storage moved, TiB"),
    _c("transfer_gib", FLOAT, "Data transferred, GiB"),
    _c("transfer_hours", FLOAT, "Transfer time at the usable bandwidth, hours"),
    _c("max_vms", INT, "Cap on VMs per wave"),
    _c("max_tib", FLOAT, "Cap on storage per wave, TiB"),
    _c("window_hours", FLOAT, "Migration window, hours"),
    _c("within_caps", BOOL, "The wave respects every cap"),
    _c("closed_by", STRING, "Which cap closed the wave"),
    _c("precopy_tib", FLOAT, "Storage of the wave's warm VMs pre-copied ahead of its window, TiB"),
    _c("precopy_days", FLOAT,
       "Warm pre-copy lead, days: the longer of its longest VM's lead and all its pre-copied disks at the "
       "wave's copy rate (they share the link); 0 without warm pre-copy"),
    _c("precopy_basis", STRING,
       "What sets the lead: the warm_precopy_days floor, one VM's first copy, or the shared link"),
    _c("start", TIME, "Window start, UTC"),
    _c("end", TIME, "Window end, UTC"),
    _c("transfer_end", TIME, "When the transfer is expected to end, UTC"),
    _c("precopy_start", TIME,
       "When the wave's warm pre-copy starts (start - precopy_days), UTC; empty without pre-copy"),
    _c("precopy_overlap", BOOL,
       "The pre-copy starts before earlier waves' copies end (their transfer_end; always when the lead "
       "exceeds the gap between windows): it shares the link with them, so the lead is a floor"),
)

_result(
    "wave_metrics",
    "Waves stage: plan quality figures against their targets.",
    ("metric",),
    _c("metric", STRING, "Figure name"),
    _c("value", FLOAT, "Its value"),
    _c("target", STRING, "The target it is held to"),
    _c("ok", BOOL, "The target is met"),
)

_result(
    "timeline",
    "Waves stage: the programme (duration, critical path) and when each cluster and datacenter is empty.",
    ("kind", "item"),
    _c("item", STRING, "programme, a critical-path step, or a cluster / datacenter name"),
    _c("kind", STRING, "programme, critical path, cluster empty or datacenter empty"),
    _c("start", TIME, "Start, UTC (empty when unknown)"),
    _c("end", TIME, "End, UTC; for a cluster its empty date (empty when VMs wait in remediate-first)"),
    _c("days", FLOAT, "end - start, days"),
    _c("detail", STRING, "What the row counts and which limit binds"),
)

_result(
    "dual_running",
    "Waves stage: cost of running both platforms, one row per calendar month of the programme.",
    ("month",),
    _c("month", STRING, "Calendar month, YYYY-MM"),
    _c("clusters_running", INT, "Source clusters not yet empty at the month's end"),
    _c("current_cost", FLOAT, "VMware side for the month (yearly cost x share of cores still running / 12)"),
    _c("target_nodes", INT, "Target nodes in use at the month's end (nodes of VMs whose wave started)"),
    _c("target_cost", FLOAT, "Target side for the month (yearly cost x share of nodes in use / 12)"),
    _c("total_cost", FLOAT, "Both sides"),
)

_result(
    "programme_periods",
    "Waves stage: the programme per calendar month (quarter or year when months exceed 36): load, the "
    "limit that closed most waves, clusters emptied and the cost of running both platforms.",
    ("period",),
    _c("period", STRING, "Calendar month YYYY-MM (or quarter YYYYQn, or year YYYY)"),
    _c("start", TIME, "Start of the period, UTC"),
    _c("end", TIME, "End of the period, UTC"),
    _c("waves", INT, "Waves whose window opens in the period"),
    _c("vms", INT, "VMs in those waves"),
    _c("storage_tib", FLOAT, "Storage they move, TiB"),
    _c("transfer_hours", FLOAT, "Transfer hours those waves use (estimated)"),
    _c("window_hours", FLOAT, "Window hours the calendar offers: windows opening x parallel waves x hours"),
    _c("binding_limit", STRING, "The limit that closed most of the period's waves (from waves.closed_by)"),
    _c("binding_kind", STRING, "Its kind: VMs per window, copy window, storage cap, phase change, "
       "dependencies or pins, pilot size, shared services, last VMs"),
    _c("binding_waves", INT, "Waves of the period that limit closed"),
    _c("clusters_emptied", INT, "Source clusters whose empty date falls in the period"),
    _c("emptied_clusters", STRING, "Their names, '; ' separated, in empty-date order"),
    _c("current_cost", FLOAT, "VMware side over the period (dual_running months summed); null without cost"),
    _c("target_cost", FLOAT, "Target side over the period; null without cost"),
    _c("total_cost", FLOAT, "Both sides over the period; null without cost"),
)

_result(
    "changes",
    "Scheduled runs: what changed since the previous run (assess diff).",
    (),
    _c("change", STRING, "added, removed, renamed, resized, readiness_changed, wave_changed, ..."),
    _c("vm_id", STRING, "VM concerned (empty for figure changes)"),
    _c("name", STRING, "Its name"),
    _c("detail", STRING, "Before -> after"),
)

