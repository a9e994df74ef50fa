"""Device rules: PCI passthrough and vGPU, USB, vTPM."""

from __future__ import annotations

import pandas as pd

from assess.readiness.base import Context, Rule, from_mask, joined, text


def _of_kind(ctx: Context, kinds: set[str]) -> pd.DataFrame:
    devices = ctx.table("devices")
    hit = devices[devices["kind"].isin(kinds)].copy()
    hit["what"] = text(hit["label"]) + (" (" + text(hit["detail"]) + ")").where(text(hit["detail"]) != "", "")
    return hit


def _fired(hit: pd.DataFrame) -> pd.DataFrame:
    return from_mask(pd.Series(True, index=pd.Index(hit["vm_id"].unique())), joined(hit, "what"))


def passthrough(ctx: Context) -> pd.DataFrame:
    """VMs with a PCI passthrough device or a vGPU.

    Where the source cannot list devices, a memory reservation below the configured memory
    proves there is none (vSphere refuses to power on a passthrough VM without a full
    reservation): see :mod:`assess.readiness.evidence`.
    """
    return _fired(_of_kind(ctx, {"pci_passthrough", "vgpu"}))


def usb(ctx: Context) -> pd.DataFrame:
    """VMs with a USB controller or USB device."""
    return _fired(_of_kind(ctx, {"usb_controller", "usb_device"}))


def vtpm(ctx: Context) -> pd.DataFrame:
    """VMs with a virtual TPM."""
    hit = _of_kind(ctx, {"vtpm"})
    hit["what"] = hit["what"].where(hit["what"] != "", "vTPM")
    return _fired(hit)


RULES = [
    Rule("vmware.device.passthrough.detected", "Critical", "PCI passthrough device or vGPU",
         "A host PCI device (or NVIDIA vGPU profile) is tied to the ESXi host; the VM cannot be "
         "migrated until an equivalent device is exposed on a KubeVirt node.",
         "Remove the device before migration, and re-attach a host device or mediated device "
         "(permittedHostDevices) on KubeVirt afterwards.",
         ("devices.pci_passthrough", "devices.vgpu"), passthrough),
    Rule("vmware.usb_controller.detected", "Warning", "USB controller or device",
         "USB devices attached to the ESXi host do not follow the VM; KubeVirt can pass USB only "
         "from the node the VM runs on.",
         "Replace USB dongles with network alternatives (USB-over-IP, license servers) or pin the VM "
         "to a node with the device (hostDevices).",
         ("devices.usb_controller", "devices.usb_device"), usb),
    Rule("vmware.tpm.detected", "Warning", "Virtual TPM",
         "The vTPM state (keys, BitLocker/LUKS sealing) is not transferred; the guest boots with an "
         "empty TPM.",
         "Suspend BitLocker / record recovery keys and re-seal after migration; give the KubeVirt VM "
         "a persistent TPM.",
         ("devices.vtpm",), vtpm),
]
