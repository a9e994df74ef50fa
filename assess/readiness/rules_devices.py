"""Device rules: PCI passthrough and vGPU, USB, vTPM."""

from __future__ import annotations

import pandas as pd

from assess.readiness.base import Context, declare, declared, from_mask, joined, text, truthy


def _of_kind(ctx: Context, kinds: set[str]) -> pd.DataFrame:
    devices = ctx.table("devices")
    hit = devices[devices["kind"].isin(kinds)].copy()
    hit["what"] = text(hit["label"]) + (" (" + text(hit["detail"]) + ")").where(text(hit["detail"]) != "", "")
    return hit


def _fired(hit: pd.DataFrame) -> pd.DataFrame:
    return from_mask(pd.Series(True, index=pd.Index(hit["vm_id"].unique())), joined(hit, "what"))


@declare("vmware.device.passthrough.detected", "Critical", "PCI passthrough device or vGPU",
         "A host PCI device (or NVIDIA vGPU profile) is tied to the ESXi host; the VM cannot be "
         "migrated until an equivalent device is exposed on a KubeVirt node.",
         "Remove the device before migration, and re-attach a host device or mediated device "
         "(permittedHostDevices) on KubeVirt afterwards.",
         ("devices.pci_passthrough", "devices.vgpu"))
def passthrough(ctx: Context) -> pd.DataFrame:
    """VMs with a PCI passthrough device or a vGPU.

    Where the source cannot list devices, a memory reservation below the configured memory
    proves there is none (vSphere refuses to power on a passthrough VM without a full
    reservation): see :mod:`assess.readiness.evidence`.
    """
    return _fired(_of_kind(ctx, {"pci_passthrough", "vgpu"}))


@declare("vmware.device.passthrough.likely", "Critical", "PCI passthrough device likely",
         "The source cannot list PCI devices, but passthrough hot-plug is enabled and the memory is "
         "fully reserved, as vSphere requires for a PCI passthrough device: if one is configured the "
         "VM cannot be migrated until an equivalent device is exposed on a KubeVirt node.",
         "Check the VM's devices in vCenter (or collect from vCenter); remove the device before "
         "migration, or plan a host device (permittedHostDevices) on KubeVirt.",
         ("vms.fixed_passthru_hotplug|devices.pci_passthrough", "vms.memory_reservation_mib",
          "vms.memory_mib"))
def passthrough_likely(ctx: Context) -> pd.DataFrame:
    """VMs of a source blind to PCI devices whose settings are those a passthrough VM must have.

    The finding says "likely": the settings are required by a passthrough device, not proof of one.
    """
    hot = truthy(ctx.vm_column("fixed_passthru_hotplug"))
    full = (ctx.vm_column("memory_reservation_mib") >= ctx.vm_column("memory_mib")).fillna(False)
    return from_mask(ctx.lacking("devices.pci_passthrough") & hot & full.astype(bool),
                     "passthrough hot-plug enabled and memory fully reserved: a PCI device is likely "
                     "(the source cannot list devices; verify in vCenter)")


@declare("vmware.usb_controller.detected", "Warning", "USB controller or device",
         "USB devices attached to the ESXi host do not follow the VM; KubeVirt can pass USB only "
         "from the node the VM runs on.",
         "Replace USB dongles with network alternatives (USB-over-IP, license servers) or pin the VM "
         "to a node with the device (hostDevices).",
         ("devices.usb_controller", "devices.usb_device"))
def usb(ctx: Context) -> pd.DataFrame:
    """VMs with a USB controller or USB device."""
    return _fired(_of_kind(ctx, {"usb_controller", "usb_device"}))


@declare("vmware.tpm.detected", "Warning", "Virtual TPM",
         "The vTPM state (keys, BitLocker/LUKS sealing) is not transferred; the guest boots with an "
         "empty TPM.",
         "Suspend BitLocker / record recovery keys and re-seal after migration; give the KubeVirt VM "
         "a persistent TPM.",
         ("devices.vtpm",))
def vtpm(ctx: Context) -> pd.DataFrame:
    """VMs with a virtual TPM."""
    hit = _of_kind(ctx, {"vtpm"})
    hit["what"] = hit["what"].where(hit["what"] != "", "vTPM")
    return _fired(hit)


RULES = declared(globals())
