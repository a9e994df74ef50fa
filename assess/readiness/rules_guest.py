"""Guest rules: OS support tier, end of life, 32-bit, configured vs running OS, upgrades, free space."""

from __future__ import annotations

import pandas as pd

from assess.readiness.base import Context, declare, declared, from_mask, joined, text


def _readings(ctx: Context) -> pd.Series:
    os = ctx.os
    conf = "configured '" + os["os_config"] + "' (" + os["tier_config"] + ")"
    tools = "VMware Tools '" + os["os_tools"] + "' (" + os["tier_tools"] + ")"
    both = conf.where(os["os_config"] != "", "") + "; " + tools.where(os["os_tools"] != "", "")
    return both.str.strip("; ")


def _either(ctx: Context, tiers: set[str]) -> pd.Series:
    os = ctx.os
    return os["tier_config"].isin(tiers) | os["tier_tools"].isin(tiers)


@declare("vmware.os.unsupported", "Warning", "Unsupported guest OS",
         "The OS cannot be identified or converted by virt-v2v, so the VM may not boot on KubeVirt "
         "and no vendor supports it there.",
         "Set the VM's guest OS type to the real OS, or rebuild the workload on a supported OS.",
         ("vms.guest_os_config|vms.guest_os_tools",))
def os_unsupported(ctx: Context) -> pd.DataFrame:
    """VMs whose configured or running OS is not identifiable or not convertible."""
    return from_mask(_either(ctx, {"unsupported"}), _readings(ctx))


@declare("vmware.os.end_of_life", "Warning", "End-of-life guest OS",
         "The OS no longer gets fixes from its vendor; conversion may work but is not supported and "
         "virtio drivers may be missing.",
         "Upgrade to a supported release before or after migrating (see the upgrade recommendation).",
         ("vms.guest_os_config|vms.guest_os_tools",))
def os_end_of_life(ctx: Context) -> pd.DataFrame:
    """VMs whose configured or running OS is past its vendor's end of life."""
    return from_mask(_either(ctx, {"end_of_life"}), _readings(ctx))


@declare("vmware.os.32bit", "Warning", "32-bit guest OS",
         "KubeVirt's preferences and certified guests are 64-bit; 32-bit guests are untested.",
         "Reinstall the workload on a 64-bit OS.",
         ("vms.guest_os_config|vms.guest_os_tools",))
def os_32bit(ctx: Context) -> pd.DataFrame:
    """VMs running or configured as a 32-bit OS."""
    os = ctx.os
    bits = os["os_config"].str.contains("32-bit", regex=False) | os["os_tools"].str.contains(
        "32-bit", regex=False)
    return from_mask(bits, _readings(ctx))


@declare("vmware.os.mismatch", "Warning", "Configured OS differs from the running OS",
         "The configured guest OS type drives the conversion and the KubeVirt preference; when it "
         "disagrees with what VMware Tools sees, the VM gets the wrong drivers and preference.",
         "Correct the guest OS type in the VM settings to match the running OS.",
         ("vms.guest_os_config|vms.guest_os_tools",))
def os_mismatch(ctx: Context) -> pd.DataFrame:
    """VMs whose configured OS differs from the OS VMware Tools reports."""
    return from_mask(ctx.os["disagree"], _readings(ctx))


@declare("vmware.os.upgrade.recommendation", "Information", "OS upgrade recommendation",
         "The OS has a path to a release certified or supported on KubeVirt.",
         "Follow the recommended upgrade path.",
         ("vms.guest_os_config|vms.guest_os_tools",))
def os_upgrade(ctx: Context) -> pd.DataFrame:
    """VMs on a community, 32-bit, end-of-life or unsupported OS with an upgrade path."""
    os = ctx.os
    worth = os["tier"].isin(["community", "32bit", "end_of_life", "unsupported"])
    return from_mask((os["upgrade"] != "") & worth, os["os_name"] + ": " + os["upgrade"])


def _required_mib(ctx: Context, mount: pd.Series) -> pd.Series:
    p = ctx.params
    lowered = mount.str.lower().str.rstrip("\\/")
    need = pd.Series(p.min_free_other_mib, index=mount.index)
    need = need.mask(mount == "/", p.min_free_root_mib)
    need = need.mask(lowered == "/boot", p.min_free_boot_mib)
    return need.mask(lowered == "c:", p.min_free_windows_c_mib)


@declare("vmware.guestDisks.freespace", "Critical", "Guest file system too full to convert",
         "virt-v2v writes drivers and a new initramfs into the guest: it needs 100 MiB free on / and "
         "C:, 50 MiB on /boot and 10 MiB on other file systems.",
         "Free space on the listed file systems (or grow them) before migrating.",
         ("partitions.free_mib",))
def free_space(ctx: Context) -> pd.DataFrame:
    """VMs with a guest file system too full for virt-v2v to convert the guest."""
    parts = ctx.table("partitions").copy()
    parts["mount"] = text(parts["mount"])
    parts["need"] = _required_mib(ctx, parts["mount"])
    low = parts[parts["free_mib"] < parts["need"]]
    low = low.assign(what=low["mount"] + ": " + low["free_mib"].round(0).astype(int).astype(str)
                     + " MiB free, needs " + low["need"].round(0).astype(int).astype(str))
    return from_mask(pd.Series(True, index=pd.Index(low["vm_id"].unique())), joined(low, "what"))


RULES = declared(globals())
