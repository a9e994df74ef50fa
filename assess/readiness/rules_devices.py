"""Device rules: PCI passthrough and vGPU, USB, vTPM."""

from __future__ import annotations

import pandas as pd

from assess.readiness.base import Context, Rule, combine, from_mask, joined, text


def _of_kind(ctx: Context, kinds: set[str]) -> pd.DataFrame:
    devices = ctx.table("devices")
    hit = devices[devices["kind"].isin(kinds)].copy()
    hit["what"] = text(hit["label"]) + (" (" + text(hit["detail"]) + ")").where(text(hit["detail"]) != "", "")
    return hit


def _fired(hit: pd.DataFrame) -> pd.DataFrame:
    return from_mask(pd.Series(True, index=pd.Index(hit["vm_id"].unique())), joined(hit, "what"))


def passthrough(ctx: Context) -> pd.DataFrame:
    """VMs with a PCI passthrough device or a vGPU.

    Where the source cannot show devices, a memory reservation below the configured memory
    proves there is none (vSphere refuses to power on a passthrough VM without a full
    reservation); otherwise the finding is unknown.
    """
    hit = _of_kind(ctx, {"pci_passthrough", "vgpu"})
    blind = ctx.lacking("devices.pci_passthrough") | ctx.lacking("devices.vgpu")
    reservation, memory = ctx.vm_column("memory_reservation_mib"), ctx.vm_column("memory_mib")
    impossible = (reservation < memory).fillna(False).astype(bool)
    likely = blind & ~impossible & ctx.vm_column("fixed_passthru_hotplug").fillna(False).astype(bool)
    return combine(_fired(hit), from_mask(
        likely, "passthrough hot-plug enabled with a full memory reservation: a PCI device is configured"),
        from_mask(
        blind & ~impossible,
        "the source does not list PCI devices and the memory reservation is full or not reported",
        "unknown"))


def usb(ctx: Context) -> pd.DataFrame:
    """VMs with a USB controller or USB device."""
    hit = _of_kind(ctx, {"usb_controller", "usb_device"})
    blind = ctx.lacking("devices.usb_controller") | ctx.lacking("devices.usb_device")
    return combine(_fired(hit), from_mask(blind, "the source does not list USB devices", "unknown"))


def vtpm(ctx: Context) -> pd.DataFrame:
    """VMs with a virtual TPM."""
    hit = _of_kind(ctx, {"vtpm"})
    hit["what"] = hit["what"].where(hit["what"] != "", "vTPM")
    return combine(_fired(hit), from_mask(ctx.lacking("devices.vtpm"),
                                          "the source does not list vTPM devices", "unknown"))


RULES = [
    Rule("vmware.device.passthrough.detected", "Critical", "PCI passthrough device or vGPU",
         "A host PCI device (or NVIDIA vGPU profile) is tied to the ESXi host; the VM cannot be "
         "migrated until an equivalent device is exposed on a KubeVirt node.",
         "Remove the device before migration, and re-attach a host device or mediated device "
         "(permittedHostDevices) on KubeVirt afterwards.",
         ("devices.kind", "vms.memory_reservation_mib", "vms.memory_mib", "vms.fixed_passthru_hotplug"),
         passthrough),
    Rule("vmware.usb_controller.detected", "Warning", "USB controller or device",
         "USB devices attached to the ESXi host do not follow the VM; KubeVirt can pass USB only "
         "from the node the VM runs on.",
         "Replace USB dongles with network alternatives (USB-over-IP, license servers) or pin the VM "
         "to a node with the device (hostDevices).",
         ("devices.kind",), usb),
    Rule("vmware.tpm.detected", "Warning", "Virtual TPM",
         "The vTPM state (keys, BitLocker/LUKS sealing) is not transferred; the guest boots with an "
         "empty TPM.",
         "Suspend BitLocker / record recovery keys and re-seal after migration; give the KubeVirt VM "
         "a persistent TPM.",
         ("devices.kind",), vtpm),
]
