"""RVTools sheet and column names, 3.x and 4.x, mapped to the canonical estate columns.

Headers are matched after :func:`normalise_header` (case, spacing and the MB/MiB spelling
do not matter), so one alias covers "Provisioned MB", "Provisioned MiB" and
"provisioned  mib ". Columns whose name starts with ``_`` are helpers that feed a
canonical column or an id and do not appear in the tables themselves.
"""

from __future__ import annotations

import re

#: Canonical dtypes of helper columns (canonical columns take theirs from the schema).
HELPER_DTYPES = {
    "_object_id": "string",
    "_vcenter_uuid": "string",
    "_vcenter": "string",
    "_ht_active": "boolean",
    "_free_pct": "float64",
    "_rule_kinds": "string",
    "_rule_names": "string",
}

#: Columns that identify the VM a row belongs to, on every per-VM sheet.
VM_KEY = {
    "name": ("VM", "VM Name", "Virtual Machine"),
    "moref": ("VM ID", "VM Moref", "MoRef"),
    "instance_uuid": ("VM UUID", "Instance UUID"),
    "vcenter": ("VI SDK Server", "vCenter", "vCenter Server"),
    "vcenter_uuid": ("VI SDK UUID", "vCenter UUID"),
}

#: Boolean columns where an empty cell means "setting absent", i.e. False (vInfo advanced settings).
EMPTY_MEANS_FALSE = {"cbt_enabled", "disk_enable_uuid"}

#: The guest OS readings every per-VM sheet repeats (detail sheets fill vInfo's blanks with them).
_OS_READINGS = {
    "guest_os_config": ("OS according to the configuration file",),
    "guest_os_tools": ("OS according to the VMware Tools",),
}

#: Per sheet: (canonical table it feeds, canonical or helper column -> header aliases).
SHEETS: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "vInfo": ("vms", {
        **VM_KEY,
        "power_state": ("Powerstate", "Power state"),
        "template": ("Template",),
        "srm_placeholder": ("SRM Placeholder",),
        "connection_state": ("Connection state",),
        "hostname": ("DNS Name",),
        "consolidation_needed": ("Consolidation Needed",),
        "powered_on_at": ("PowerOn", "Power On"),
        "created_at": ("Creation date",),
        "vcpus": ("CPUs", "vCPUs"),
        "memory_mib": ("Memory", "Memory MB"),
        "latency_sensitivity": ("Latency Sensitivity",),
        "fixed_passthru_hotplug": ("Fixed Passthru HotPlug",),
        "disk_enable_uuid": ("EnableUUID", "disk.EnableUUID"),
        "cbt_enabled": ("CBT", "ctkEnabled"),
        "primary_ip": ("Primary IP Address",),
        "resource_pool": ("Resource pool",),
        "folder": ("Folder",),
        "vapp": ("vApp",),
        "ft_state": ("FT State",),
        "ha_restart_priority": ("HA Restart Priority",),
        "provisioned_mib": ("Provisioned MB",),
        "in_use_mib": ("In Use MB",),
        "secure_boot": ("EFI Secure boot",),
        "firmware": ("Firmware",),
        "hw_version": ("HW version", "Hardware version"),
        "annotation": ("Annotation",),
        "datacenter": ("Datacenter",),
        "cluster": ("Cluster",),
        "host": ("Host",),
        "guest_os_config": ("OS according to the configuration file",),
        "guest_os_tools": ("OS according to the VMware Tools",),
        "bios_uuid": ("SMBIOS UUID", "BIOS UUID"),
        "_rule_kinds": ("Cluster rule(s)",),
        "_rule_names": ("Cluster rule name(s)",),
    }),
    "vCPU": ("vms", {**VM_KEY, "vcpus": ("CPUs",), "cores_per_socket": ("Cores p/s", "Cores per socket"),
                     "cpu_hot_add": ("Hot Add",), "folder": ("Folder",), **_OS_READINGS}),
    "vMemory": ("vms", {**VM_KEY, "memory_mib": ("Size MB",), "memory_hot_add": ("Hot Add",),
                        "memory_reservation_mib": ("Reservation",), "folder": ("Folder",),
                        **_OS_READINGS}),
    "vTools": ("vms", {**VM_KEY, "tools_status": ("Tools", "Tools status"),
                       "tools_version": ("Tools Version",)}),
    "vDisk": ("disks", {
        **VM_KEY,
        "disk_key": ("Disk Key",),
        "label": ("Disk",),
        "capacity_mib": ("Capacity MB",),
        "file": ("Path", "Disk File"),
        "thin": ("Thin",),
        "eager_scrub": ("Eagerly Scrub", "Eager Scrub"),
        "disk_mode": ("Disk Mode",),
        "sharing": ("Sharing mode",),
        "raw": ("Raw",),
        "rdm_mode": ("Raw Comp. Mode", "Raw Com. Mode"),
        "controller": ("Controller",),
        "controller_key": ("Label",),
        "bus_sharing": ("Shared Bus",),
        "unit_number": ("Unit #",),
        "disk_uuid": ("Disk UUID",),
    }),
    "vPartition": ("partitions", {
        **VM_KEY,
        "mount": ("Disk",),
        "disk_key": ("Disk Key",),
        "capacity_mib": ("Capacity MB",),
        "free_mib": ("Free MB",),
        "_free_pct": ("Free %",),
    }),
    "vNetwork": ("nics", {
        **VM_KEY,
        "label": ("NIC label", "Network adapter", "NIC"),
        "adapter": ("Adapter",),
        "network": ("Network", "Port Group"),
        "switch": ("Switch",),
        "connected": ("Connected",),
        "mac": ("Mac Address", "MAC"),
        "ipv4": ("IPv4 Address", "IP Address"),
        "ipv6": ("IPv6 Address",),
        "direct_path_io": ("Direct Path IO", "DirectPath IO"),
    }),
    "vSnapshot": ("snapshots", {
        **VM_KEY,
        "snapshot": ("Name", "Snapshot"),
        "description": ("Description",),
        "created_at": ("Date / time", "Date/time", "Date"),
        "size_mib": ("Size MB (total)", "Size MB"),
        "quiesced": ("Quiesced",),
        "state": ("State",),
    }),
    "vUSB": ("devices", {**VM_KEY, "label": ("Device Node",), "detail": ("Device Type",),
                         "connected": ("Connected",)}),
    "vCD": ("devices", {**VM_KEY, "label": ("Device Node",), "detail": ("Device Type",),
                        "connected": ("Connected",)}),
    "vHost": ("hosts", {
        "name": ("Host",),
        "datacenter": ("Datacenter",),
        "cluster": ("Cluster",),
        "cpu_model": ("CPU Model",),
        "cpu_mhz": ("Speed",),
        "sockets": ("# CPU",),
        "cores": ("# Cores",),
        "_ht_active": ("HT Active",),
        "memory_mib": ("# Memory",),
        "esx_version": ("ESX Version",),
        "vendor": ("Vendor",),
        "model": ("Model",),
        "maintenance": ("in Maintenance Mode", "Maintenance Mode"),
        "_object_id": ("Object ID",),
        "_vcenter": VM_KEY["vcenter"],
        "_vcenter_uuid": VM_KEY["vcenter_uuid"],
    }),
    "vCluster": ("clusters", {
        "name": ("Name", "Cluster"),
        "hosts": ("NumHosts", "# Hosts"),
        "cores": ("NumCpuCores",),
        "cpu_mhz_total": ("TotalCpu",),
        "memory_mib": ("TotalMemory",),
        "ha_enabled": ("HA enabled",),
        "drs_enabled": ("DRS enabled",),
        "drs_behavior": ("DRS default VM behavior", "DRS default VM behaviour"),
        "dpm_enabled": ("DPM enabled",),
        "_object_id": ("Object ID",),
        "_vcenter": VM_KEY["vcenter"],
        "_vcenter_uuid": VM_KEY["vcenter_uuid"],
    }),
    "vDatastore": ("datastores", {
        "name": ("Name", "Datastore"),
        "type": ("Type",),
        "capacity_mib": ("Capacity MB",),
        "free_mib": ("Free MB",),
        "provisioned_mib": ("Provisioned MB",),
        "accessible": ("Accessible",),
        "sioc_enabled": ("SIOC enabled",),
        "hosts": ("Hosts",),
        "url": ("URL",),
        "_object_id": ("Object ID",),
        "_vcenter": VM_KEY["vcenter"],
        "_vcenter_uuid": VM_KEY["vcenter_uuid"],
    }),
    "vPort": ("networks", {
        "name": ("Port Group", "Portgroup"),
        "switch": ("Switch",),
        "vlan": ("VLAN",),
        "_vcenter": VM_KEY["vcenter"],
        "_vcenter_uuid": VM_KEY["vcenter_uuid"],
    }),
    "dvPort": ("networks", {
        "name": ("Port", "Portgroup", "Port Group"),
        "switch": ("Switch",),
        "vlan": ("VLAN",),
        "_object_id": ("Object ID",),
        "_vcenter": VM_KEY["vcenter"],
        "_vcenter_uuid": VM_KEY["vcenter_uuid"],
    }),
    "vSource": ("", {
        "version": ("Version",),
        "fullname": ("Fullname", "Full name"),
        "api_version": ("API version",),
        "server": VM_KEY["vcenter"],
        "uuid": VM_KEY["vcenter_uuid"],
    }),
    "vMetaData": ("", {
        "version": ("RVTools version",),
        "created": ("xlsx creation datetime", "csv creation datetime", "creation datetime"),
        "server": ("Server",),
    }),
}

#: What the estate does not know when a sheet is absent (goes into warnings and provenance).
SHEET_MEANING = {
    "vCPU": "cores per socket and CPU hot-add",
    "vMemory": "memory hot-add",
    "vTools": "VMware Tools status and version",
    "vDisk": "virtual disks (RDM, shared, independent disks)",
    "vPartition": "guest file systems",
    "vNetwork": "network adapters",
    "vSnapshot": "snapshots",
    "vUSB": "USB devices",
    "vCD": "CD/DVD drives",
    "vHost": "hosts",
    "vCluster": "clusters",
    "vDatastore": "datastores",
    "vPort": "standard port groups",
    "dvPort": "distributed port groups",
    "vSource": "the vCenter version",
    "vMetaData": "the RVTools version",
}

#: Sheets RVTools writes that the estate does not read (they still mark a workbook as RVTools').
KNOWN_UNUSED = frozenset(
    s.lower() for s in ("vRP", "vHBA", "vNIC", "vSwitch", "dvSwitch", "vSC_VMK", "vMultiPath",
                        "vLicense", "vFileInfo", "vHealth", "vFloppy")
)

_UNIT = re.compile(r"\b(mib|kib|gib)\b")
_SPACE = re.compile(r"\s+")


def normalise_header(header: object) -> str:
    """Return the matching form of a header: trimmed, lower case, single spaces, MiB -> mb."""
    text = _SPACE.sub(" ", str(header).strip().lower())
    return _UNIT.sub(lambda m: m.group(1)[0] + "b", text)
