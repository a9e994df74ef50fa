"""Firmware rules: BIOS vs the EFI-preferring KubeVirt preference, secure boot, required vTPM."""

from __future__ import annotations

from assess.readiness.base import Context, declare, declared, from_mask, text, truthy


def firmware(ctx: Context):
    """Per VM: ``bios``, ``efi`` or '' (not reported)."""
    return text(ctx.vm_column("firmware")).str.lower()


@declare("vmware.firmware.bios.efi_preference", "Information", "BIOS VM, EFI-preferring preference",
         "KubeVirt's preference for this OS prefers EFI; a BIOS-installed guest does not boot with "
         "EFI, so the VM must keep BIOS firmware explicitly.",
         "Keep spec.domain.firmware.bootloader.bios in the VM (the sizing stage says so), or convert "
         "the guest to EFI (mbr2gpt on Windows) first.",
         ("vms.firmware", "vms.guest_os_config|vms.guest_os_tools"))
def bios_on_efi_preference(ctx: Context):
    """BIOS VMs whose OS's KubeVirt preference prefers EFI (the VM must keep BIOS explicitly)."""
    fw = firmware(ctx)
    hit = (fw == "bios") & ctx.os["efi_preferred"]
    return from_mask(hit, ctx.os["os_name"] + ": preference prefers EFI, VM boots with BIOS")


@declare("vmware.firmware.secure_boot", "Information", "EFI secure boot",
         "Secure boot on KubeVirt needs EFI with secureBoot and the SMM feature; the guest's shim and "
         "signed drivers must match the OVMF keys.",
         "Use a preference with preferredEfi.secureBoot and preferredSmm (rhel.9, windows.2k19, ...).",
         ("vms.firmware",))
def secure_boot(ctx: Context):
    """EFI VMs with secure boot on: the KubeVirt VM needs secure boot and SMM.

    A BIOS VM has no secure boot, so only the firmware is needed; the setting is read where
    reported (a null setting does not fire).
    """
    return from_mask(truthy(ctx.vm_column("secure_boot")) & (firmware(ctx) != "bios"),
                     "EFI secure boot enabled")


@declare("vmware.firmware.vtpm.required", "Information", "OS needs a persistent vTPM",
         "Windows 11 and Windows Server 2022/2025 preferences add a persistent TPM and EFI; the "
         "cluster needs a VM state storage class for it.",
         "Set vmStateStorageClass in the KubeVirt CR and use the windows.11 / windows.2k22 / "
         "windows.2k25 preference.",
         ("vms.guest_os_config|vms.guest_os_tools",))
def vtpm_required(ctx: Context):
    """Windows 11 / Server 2022 / 2025 guests: their preference adds a persistent vTPM."""
    return from_mask(ctx.os["needs_vtpm"],
                     ctx.os["os_name"] + ": preference requires a persistent vTPM and EFI")


RULES = declared(globals())
