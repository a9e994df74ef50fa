"""Turn a VM's ``config.hardware.device`` list into rows of the disks, nics and devices tables."""

from __future__ import annotations

from dataclasses import dataclass

from pyVmomi import vim

dev = vim.vm.device

CONTROLLER_NAMES = {
    dev.ParaVirtualSCSIController: "VMware paravirtual SCSI",
    dev.VirtualLsiLogicSASController: "LSI Logic SAS",
    dev.VirtualLsiLogicController: "LSI Logic Parallel",
    dev.VirtualBusLogicController: "BusLogic Parallel",
    dev.VirtualNVMEController: "NVMe",
    dev.VirtualAHCIController: "SATA (AHCI)",
    dev.VirtualIDEController: "IDE",
}

ADAPTER_NAMES = {
    dev.VirtualVmxnet3Vrdma: "vrdma",
    dev.VirtualVmxnet3: "vmxnet3",
    dev.VirtualVmxnet2: "vmxnet2",
    dev.VirtualE1000e: "e1000e",
    dev.VirtualE1000: "e1000",
    dev.VirtualPCNet32: "pcnet32",
    dev.VirtualSriovEthernetCard: "sriov",
}


@dataclass(frozen=True)
class NetworkNames:
    """Lookups a NIC backing needs: dvPortgroup key -> (name, switch), opaque id -> name."""

    dvportgroups: dict[str, tuple[str, str]]
    opaque: dict[str, str]


def _name_of(value: object, table: dict[type, str], default: str) -> str:
    for cls, name in table.items():
        if isinstance(value, cls):
            return name
    return default


def _label(device) -> str:
    info = device.deviceInfo
    return info.label if info is not None and info.label else f"device {device.key}"


def _controllers(devices) -> dict[int, object]:
    return {d.key: d for d in devices if isinstance(d, dev.VirtualController)}


def _datastore_of(file_name: str | None) -> str:
    if file_name and file_name.startswith("["):
        return file_name[1:].split("]", 1)[0]
    return ""


def disk_rows(vm_id: str, devices, extra: dict[str, str], datastores: dict[str, str]) -> list[dict]:
    """Rows of the ``disks`` table for one VM (``extra`` is its extraConfig as a dict)."""
    controllers = _controllers(devices)
    rows = []
    for disk in devices:
        if not isinstance(disk, dev.VirtualDisk):
            continue
        backing = disk.backing
        controller = controllers.get(disk.controllerKey)
        bus_prefix = _bus_prefix(controller)
        ctk_key = f"{bus_prefix}{controller.busNumber}:{disk.unitNumber}.ctkEnabled" if bus_prefix else ""
        ctk = extra.get(ctk_key) if ctk_key else None
        file_name = getattr(backing, "fileName", None)
        datastore = getattr(backing, "datastore", None)
        raw = isinstance(backing, dev.VirtualDisk.RawDiskMappingVer1BackingInfo)
        capacity_kb = disk.capacityInBytes / 1024 if disk.capacityInBytes else disk.capacityInKB
        rows.append(dict(
            vm_id=vm_id,
            disk_key=str(disk.key),
            label=_label(disk),
            capacity_mib=capacity_kb / 1024 if capacity_kb is not None else None,
            datastore=datastores.get(datastore._moId, "") if datastore is not None
            else _datastore_of(file_name),
            file=file_name,
            thin=getattr(backing, "thinProvisioned", None) if not raw else False,
            eager_scrub=getattr(backing, "eagerlyScrub", None) if not raw else None,
            disk_mode=getattr(backing, "diskMode", None),
            sharing=getattr(backing, "sharing", None) or "sharingNone",
            raw=raw,
            rdm_mode=backing.compatibilityMode if raw else None,
            controller=_name_of(controller, CONTROLLER_NAMES, type(controller).__name__)
            if controller is not None else None,
            controller_key=_label(controller) if controller is not None else None,
            bus_sharing=getattr(controller, "sharedBus", None),
            unit_number=disk.unitNumber,
            cbt_enabled=(ctk.lower() == "true") if ctk is not None
            else (bool(getattr(backing, "changeId", None)) or None),
            disk_uuid=getattr(backing, "uuid", None),
        ))
    return rows


def _bus_prefix(controller) -> str:
    if isinstance(controller, dev.VirtualSCSIController):
        return "scsi"
    if isinstance(controller, dev.VirtualNVMEController):
        return "nvme"
    if isinstance(controller, dev.VirtualSATAController):
        return "sata"
    if isinstance(controller, dev.VirtualIDEController):
        return "ide"
    return ""


def nic_rows(vm_id: str, devices, guest_net, names: NetworkNames) -> list[dict]:
    """Rows of the ``nics`` table for one VM, with guest IPs matched by MAC address."""
    ips: dict[str, list[str]] = {}
    for nic in guest_net or []:
        if nic.macAddress:
            ips.setdefault(nic.macAddress.lower(), []).extend(nic.ipAddress or [])
    rows = []
    for card in devices:
        if not isinstance(card, dev.VirtualEthernetCard):
            continue
        network, switch = _network_of(card.backing, names)
        addresses = ips.get((card.macAddress or "").lower(), [])
        rows.append(dict(
            vm_id=vm_id,
            label=_label(card),
            adapter=_name_of(card, ADAPTER_NAMES, type(card).__name__),
            network=network,
            switch=switch,
            connected=card.connectable.connected if card.connectable is not None else None,
            mac=card.macAddress,
            ipv4=",".join(a for a in addresses if ":" not in a),
            ipv6=",".join(a for a in addresses if ":" in a),
            direct_path_io=isinstance(card, dev.VirtualSriovEthernetCard)
            or bool(getattr(card, "uptCompatibilityEnabled", False)),
        ))
    return rows


def _network_of(backing, names: NetworkNames) -> tuple[str | None, str | None]:
    if isinstance(backing, dev.VirtualEthernetCard.DistributedVirtualPortBackingInfo):
        key = backing.port.portgroupKey if backing.port is not None else None
        return names.dvportgroups.get(key, (key, None))
    if isinstance(backing, dev.VirtualEthernetCard.OpaqueNetworkBackingInfo):
        return names.opaque.get(backing.opaqueNetworkId, backing.opaqueNetworkId), None
    if isinstance(backing, dev.VirtualEthernetCard.NetworkBackingInfo):
        return backing.deviceName, None
    return None, None


def device_rows(vm_id: str, devices) -> list[dict]:
    """Rows of the ``devices`` table: USB, PCI passthrough, vGPU, SR-IOV, vTPM, serial, parallel, CD-ROM."""
    rows = []
    for item in devices:
        kind, detail = _device_kind(item)
        if kind is None:
            continue
        connectable = item.connectable
        rows.append(dict(
            vm_id=vm_id, kind=kind, label=_label(item), detail=detail,
            connected=connectable.connected if connectable is not None else None,
        ))
    return rows


def _device_kind(item) -> tuple[str | None, str | None]:
    backing = item.backing
    if isinstance(item, dev.VirtualUSBController | dev.VirtualUSBXHCIController):
        return "usb_controller", type(item).__name__
    if isinstance(item, dev.VirtualUSB):
        return "usb_device", getattr(backing, "deviceName", None)
    if isinstance(item, dev.VirtualPCIPassthrough):
        if isinstance(backing, dev.VirtualPCIPassthrough.VmiopBackingInfo):
            return "vgpu", backing.vgpu
        return "pci_passthrough", getattr(backing, "deviceName", None) or type(backing).__name__
    if isinstance(item, dev.VirtualSriovEthernetCard):
        info = item.sriovBacking.physicalFunctionBacking if item.sriovBacking else None
        return "sriov_nic", getattr(info, "id", None)
    if isinstance(item, dev.VirtualTPM):
        return "vtpm", None
    if isinstance(item, dev.VirtualSerialPort):
        return "serial", getattr(backing, "deviceName", None) or getattr(backing, "fileName", None)
    if isinstance(item, dev.VirtualParallelPort):
        return "parallel", getattr(backing, "deviceName", None) or getattr(backing, "fileName", None)
    if isinstance(item, dev.VirtualCdrom):
        return "cdrom", getattr(backing, "fileName", None) or getattr(backing, "deviceName", None)
    return None, None
