"""Network rules: guest IP, host name, SR-IOV adapters, NIC model change to virtio."""

from __future__ import annotations

import pandas as pd

from assess.readiness.base import Context, declare, declared, from_mask, joined, text

DEFAULT_HOSTNAMES = {"localhost", "localhost.localdomain", "localhost.local"}


@declare("vmware.vm_missing_ip.detected", "Warning", "No guest IP address",
         "Static IP preservation reads the guest's addresses through VMware Tools: it needs the VM "
         "powered on with tools running at migration time.",
         "Power the VM on with VMware Tools running before migrating, or record its IP configuration.",
         ("vms.primary_ip|nics.ipv4",), blank_ok=("vms.primary_ip|nics.ipv4",))
def missing_ip(ctx: Context) -> pd.DataFrame:
    """VMs for which neither vCenter nor any NIC reports a guest IP address."""
    nics = ctx.table("nics")
    with_ip = nics[(text(nics["ipv4"]) != "") | (text(nics["ipv6"]) != "")]["vm_id"]
    none = (text(ctx.vm_column("primary_ip")) == "") & ~ctx.vm_index.isin(set(with_ip))
    state = text(ctx.vm_column("power_state")).replace("", "power state not in this source")
    tools = text(ctx.vm_column("tools_status")).replace("", "Tools status not in this source")
    return from_mask(pd.Series(none, index=ctx.vm_index),
                     "no guest IP reported (" + state + ", " + tools + ")")


@declare("vmware.hostname.empty", "Warning", "Empty or default host name",
         "The guest host name is empty or localhost; the migrated VM may be renamed and services "
         "keyed on the name break.",
         "Set a real host name in the guest (with VMware Tools running so vCenter sees it).",
         ("vms.hostname",), blank_ok=("vms.hostname",))
def hostname(ctx: Context) -> pd.DataFrame:
    """VMs with an empty or default guest host name."""
    name = text(ctx.vm_column("hostname"))
    default = name.str.lower().isin(DEFAULT_HOSTNAMES)
    return from_mask((name == "") | default,
                     ("host name is '" + name + "'").where(name != "", "no host name reported"))


@declare("vmware.device.sriov.detected", "Warning", "SR-IOV network adapter",
         "SR-IOV virtual functions belong to the ESXi host NIC; KubeVirt needs the SR-IOV network "
         "operator and a matching VF on the node.",
         "Map the network to an SR-IOV network on KubeVirt, or switch the adapter to vmxnet3 first.",
         ("nics.adapter",))
def sriov(ctx: Context) -> pd.DataFrame:
    """VMs with an SR-IOV network adapter."""
    nics = ctx.table("nics")
    hit = nics[text(nics["adapter"]).str.lower().str.contains("sriov")]
    hit = hit.assign(what=text(hit["label"]) + " on " + text(hit["network"]))
    devices = ctx.table("devices")
    dev = devices[devices["kind"] == "sriov_nic"]
    dev = dev.assign(what=text(dev["label"]))
    both = pd.concat([hit[["vm_id", "what"]], dev[["vm_id", "what"]]], ignore_index=True)
    return from_mask(pd.Series(True, index=pd.Index(both["vm_id"].unique())), joined(both, "what"))


@declare("vmware.nic.model.virtio", "Information", "Network adapter becomes virtio",
         "KubeVirt presents virtio-net adapters; the guest needs the driver and sees a new adapter.",
         "Make virtio-win available to the conversion (Windows) and re-check IP configuration.",
         ("nics.adapter", "vms.guest_os_config|vms.guest_os_tools"))
def nic_model(ctx: Context) -> pd.DataFrame:
    """VMs whose adapters become virtio-net and need a driver (Windows, old Linux)."""
    nics = ctx.table("nics")
    adapters = joined(nics, "adapter", limit=3).reindex(ctx.vm_index).fillna("")
    has = ~ctx.without_rows("nics")
    os = ctx.os
    windows = (os["family"] == "windows") & has
    old_linux = (os["family"] == "linux") & os["tier"].isin(["end_of_life", "unsupported", "32bit"]) & has
    detail = pd.Series("", index=ctx.vm_index)
    detail = detail.mask(windows, "Windows guest: virt-v2v installs the NetKVM driver; static IPs "
                         "bound to the old adapter must be re-applied")
    detail = detail.mask(old_linux, "old Linux kernel: check virtio_net is available")
    return from_mask(windows | old_linux, detail + (" (from: " + adapters + ")").where(adapters != "", ""))


RULES = declared(globals())
