"""What to ask vCenter for (explicit property paths per type) and how it becomes the VM tables."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyVmomi import vim

from assess.collect.vcenter.devices import NetworkNames, device_rows, disk_rows, nic_rows
from assess.collect.vcenter.properties import ObjectProps

MIB = 1024 * 1024

#: Explicit property paths per managed object type (never a whole ``config``).
PATHS: dict[type, list[str]] = {
    vim.VirtualMachine: [
        "name", "parent", "resourcePool", "parentVApp", "customValue",
        "runtime.host", "runtime.powerState", "runtime.connectionState", "runtime.consolidationNeeded",
        "runtime.faultToleranceState", "runtime.bootTime",
        "config.template", "config.instanceUuid", "config.uuid", "config.version", "config.firmware",
        "config.bootOptions.efiSecureBootEnabled", "config.hardware.numCPU",
        "config.hardware.numCoresPerSocket", "config.hardware.memoryMB", "config.hardware.device",
        "config.cpuHotAddEnabled", "config.memoryHotAddEnabled", "config.cpuAffinity",
        "config.latencySensitivity", "config.guestFullName", "config.guestId",
        "config.changeTrackingEnabled", "config.extraConfig", "config.createDate", "config.annotation",
        "config.managedBy",
        "guest.guestFullName", "guest.guestFamily", "guest.hostName", "guest.ipAddress",
        "guest.toolsStatus", "guest.toolsVersion", "guest.net", "guest.disk",
        "summary.storage.committed", "summary.storage.uncommitted", "snapshot.rootSnapshotList",
    ],
    vim.HostSystem: [
        "name", "parent", "summary.hardware", "summary.config.product.fullName",
        "runtime.inMaintenanceMode", "config.network.portgroup",
    ],
    vim.ComputeResource: ["name", "parent", "summary"],
    vim.ClusterComputeResource: ["configurationEx"],
    vim.Datacenter: ["name", "parent"],
    vim.Folder: ["name", "parent"],
    vim.ResourcePool: ["name", "parent"],
    vim.Datastore: [
        "name", "host", "summary.type", "summary.capacity", "summary.freeSpace",
        "summary.uncommitted", "summary.accessible", "summary.url",
    ],
    vim.Network: ["name"],
    vim.dvs.DistributedVirtualPortgroup: [
        "config.key", "config.defaultPortConfig", "config.distributedVirtualSwitch",
    ],
    vim.OpaqueNetwork: ["summary"],
    vim.DistributedVirtualSwitch: ["name"],
}

SRM_EXTENSION = "com.vmware.vcDr"


@dataclass
class Inventory:
    """The retrieved objects indexed by moref and kind, with the helpers to name and place them."""

    records: list[ObjectProps]
    by_moref: dict[str, ObjectProps] = field(init=False)

    def __post_init__(self) -> None:
        self.by_moref = {r.moref: r for r in self.records}

    def of_kind(self, *kinds: str) -> list[ObjectProps]:
        """Records whose vim type name is one of ``kinds``."""
        return [r for r in self.records if r.kind in kinds]

    def name(self, ref) -> str | None:
        """Name of the object ``ref`` (a managed object or moref string), if retrieved."""
        if ref is None:
            return None
        record = self.by_moref.get(ref if isinstance(ref, str) else ref._moId)
        return record.get("name") if record else None

    def ancestor(self, ref, kinds: tuple[str, ...]) -> ObjectProps | None:
        """The nearest ancestor (or the object itself) of one of ``kinds``."""
        record = self.by_moref.get(ref._moId) if ref is not None else None
        while record is not None and record.kind not in kinds:
            parent = record.get("parent")
            record = self.by_moref.get(parent._moId) if parent is not None else None
        return record

    def path(self, ref) -> str | None:
        """Inventory path of ``ref`` from the root, e.g. ``/DC0/vm/Prod``."""
        names = []
        record = self.by_moref.get(ref._moId) if ref is not None else None
        while record is not None and record.get("parent") is not None:
            names.append(record.get("name") or record.moref)
            record = self.by_moref.get(record.get("parent")._moId)
        return "/" + "/".join(reversed(names)) if names else None

    def network_names(self) -> NetworkNames:
        """Map dvPortgroup key -> (name, switch) and opaque network id -> name."""
        dvpg = {}
        for r in self.of_kind("vim.dvs.DistributedVirtualPortgroup"):
            dvpg[r.get("config.key")] = (r.get("name"), self.name(r.get("config.distributedVirtualSwitch")))
        opaque = {}
        for r in self.of_kind("vim.OpaqueNetwork"):
            summary = r.get("summary")
            if summary is not None:
                opaque[summary.opaqueNetworkId] = r.get("name")
        return NetworkNames(dvpg, opaque)


def _extra(options) -> dict[str, str]:
    return {o.key: str(o.value) for o in options or []}


def _flag(text: str | None) -> bool | None:
    return None if text is None else text.strip().lower() == "true"


def _tools_os(record: ObjectProps) -> str | None:
    return record.get("guest.guestFullName")


def _restart_priorities(inv: Inventory) -> dict[str, str]:
    """VM moref -> HA restart priority (per-VM override, else the cluster default)."""
    out = {}
    for cluster in inv.of_kind("vim.ClusterComputeResource"):
        config = cluster.get("configurationEx")
        das = getattr(config, "dasConfig", None)
        default = getattr(getattr(das, "defaultVmSettings", None), "restartPriority", None)
        out[cluster.moref] = default
        for override in getattr(config, "dasVmConfig", None) or []:
            settings = override.dasSettings
            priority = getattr(settings, "restartPriority", None) or override.restartPriority
            out[override.key._moId] = priority
    return out


def vm_tables(inv: Inventory, vc_uuid: str, vcenter: str, source: str) -> dict[str, list[dict]]:
    """Rows of vms, disks, nics, devices, partitions, snapshots and custom attributes per VM."""
    tables: dict[str, list[dict]] = {t: [] for t in
                                     ("vms", "disks", "nics", "devices", "partitions", "snapshots")}
    priorities = _restart_priorities(inv)
    datastores = {r.moref: r.get("name") for r in inv.of_kind("vim.Datastore")}
    networks = inv.network_names()
    for r in inv.of_kind("vim.VirtualMachine"):
        if r.get("name") is None:
            continue  # deleted while collecting: warned about by the caller
        vm_id = f"{vc_uuid}/{r.moref}"
        host = r.get("runtime.host")
        compute = inv.ancestor(host, ("vim.ClusterComputeResource", "vim.ComputeResource"))
        cluster = compute if compute is not None and compute.kind == "vim.ClusterComputeResource" else None
        datacenter = inv.ancestor(r.get("parent"), ("vim.Datacenter",))
        extra = _extra(r.get("config.extraConfig"))
        managed_by = r.get("config.managedBy")
        affinity = r.get("config.cpuAffinity")
        latency = r.get("config.latencySensitivity")
        committed, uncommitted = r.get("summary.storage.committed"), r.get("summary.storage.uncommitted")
        version = r.get("config.version") or ""
        devices = r.get("config.hardware.device") or []
        tables["vms"].append(dict(
            vm_id=vm_id, name=r.get("name"), vcenter=vcenter, vcenter_uuid=vc_uuid, moref=r.moref,
            instance_uuid=r.get("config.instanceUuid"), bios_uuid=r.get("config.uuid"),
            datacenter=datacenter.get("name") if datacenter else None,
            cluster=cluster.get("name") if cluster else None,
            host=inv.name(host),
            folder=inv.path(r.get("parent")),
            resource_pool=inv.path(r.get("resourcePool")),
            vapp=inv.name(r.get("parentVApp")),
            power_state=r.get("runtime.powerState"),
            connection_state=r.get("runtime.connectionState"),
            template=r.get("config.template"),
            srm_placeholder=bool(managed_by and managed_by.extensionKey == SRM_EXTENSION),
            vcpus=r.get("config.hardware.numCPU"),
            cores_per_socket=r.get("config.hardware.numCoresPerSocket"),
            memory_mib=r.get("config.hardware.memoryMB"),
            firmware=r.get("config.firmware"),
            secure_boot=r.get("config.bootOptions.efiSecureBootEnabled"),
            hw_version=int(version[4:]) if version.startswith("vmx-") and version[4:].isdigit() else None,
            cpu_hot_add=r.get("config.cpuHotAddEnabled"),
            memory_hot_add=r.get("config.memoryHotAddEnabled"),
            cpu_affinity=",".join(str(c) for c in affinity.affinitySet or []) if affinity else "",
            numa_affinity=extra.get("numa.nodeAffinity", ""),
            latency_sensitivity=getattr(latency, "level", None),
            guest_os_config=r.get("config.guestFullName"),
            guest_os_tools=_tools_os(r),
            guest_id=r.get("config.guestId"),
            guest_family=r.get("guest.guestFamily"),
            hostname=r.get("guest.hostName"),
            primary_ip=r.get("guest.ipAddress"),
            tools_status=r.get("guest.toolsStatus"),
            tools_version=r.get("guest.toolsVersion"),
            cbt_enabled=r.get("config.changeTrackingEnabled"),
            disk_enable_uuid=_flag(extra.get("disk.EnableUUID")),
            consolidation_needed=r.get("runtime.consolidationNeeded"),
            ft_state=r.get("runtime.faultToleranceState"),
            ha_restart_priority=priorities.get(r.moref, priorities.get(cluster.moref) if cluster else None),
            provisioned_mib=(committed + (uncommitted or 0)) / MIB if committed is not None else None,
            in_use_mib=committed / MIB if committed is not None else None,
            created_at=r.get("config.createDate"),
            powered_on_at=r.get("runtime.bootTime"),
            annotation=r.get("config.annotation"),
            source=source,
        ))
        tables["disks"] += disk_rows(vm_id, devices, extra, datastores)
        tables["nics"] += nic_rows(vm_id, devices, r.get("guest.net"), networks)
        tables["devices"] += device_rows(vm_id, devices)
        tables["partitions"] += _partition_rows(vm_id, r.get("guest.disk"))
        tables["snapshots"] += _snapshot_rows(vm_id, r.get("snapshot.rootSnapshotList"))
    return tables


def _partition_rows(vm_id: str, disks) -> list[dict]:
    rows = []
    for disk in disks or []:
        keys = [str(m.key) for m in getattr(disk, "mappings", None) or []]
        rows.append(dict(vm_id=vm_id, mount=disk.diskPath, disk_key=",".join(keys) or None,
                         capacity_mib=disk.capacity / MIB if disk.capacity is not None else None,
                         free_mib=disk.freeSpace / MIB if disk.freeSpace is not None else None))
    return rows


def _snapshot_rows(vm_id: str, roots) -> list[dict]:
    rows, stack = [], list(roots or [])
    while stack:
        snap = stack.pop()
        rows.append(dict(vm_id=vm_id, name=snap.name, description=snap.description,
                         created_at=snap.createTime, quiesced=snap.quiesced, state=snap.state))
        stack.extend(snap.childSnapshotList or [])
    return rows


def custom_attribute_rows(inv: Inventory, vc_uuid: str, fields: dict[int, str]) -> list[dict]:
    """Rows of ``attributes`` (kind ``custom``) from each VM's ``customValue``."""
    rows = []
    for r in inv.of_kind("vim.VirtualMachine"):
        for value in r.get("customValue") or []:
            name = fields.get(value.key, f"field-{value.key}")
            rows.append(dict(vm_id=f"{vc_uuid}/{r.moref}", kind="custom", name=name,
                             value=getattr(value, "value", None)))
    return rows
