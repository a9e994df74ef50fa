"""Disk rules: datastore, capacity, RDM, sharing, independent mode, count, CBT, serials, bus."""

from __future__ import annotations

import pandas as pd

from assess.readiness.base import Context, declare, declared, from_mask, joined, text, truthy

_ON_DATASTORE = r"^\s*\[[^\]]+\]"


def _disks(ctx: Context) -> pd.DataFrame:
    disks = ctx.table("disks").copy()
    disks["what"] = text(disks["label"]).where(text(disks["label"]) != "", "disk " + text(disks["disk_key"]))
    return disks


@declare("vmware.datastore.missing", "Critical", "Disk not on a datastore",
         "Forklift copies disks from datastores; a disk whose backing is on no datastore cannot be "
         "transferred and the VM cannot be migrated.",
         "Move the disk onto a datastore (Storage vMotion) or detach it.",
         ("disks.datastore|disks.file",))
def datastore_missing(ctx: Context) -> pd.DataFrame:
    """VMs with a disk whose backing is on no datastore."""
    disks = _disks(ctx)
    on_ds = (text(disks["datastore"]) != "") | text(disks["file"]).str.contains(_ON_DATASTORE)
    known = disks["datastore"].notna() | disks["file"].notna()
    bad = disks[~on_ds & known]
    return from_mask(pd.Series(True, index=pd.Index(bad["vm_id"].unique())), joined(bad, "what"))


@declare("vmware.disk.capacity.invalid", "Critical", "Invalid disk capacity",
         "A disk with zero or negative capacity cannot be sized as a PersistentVolumeClaim.",
         "Fix or remove the disk in vSphere (check the VMX and descriptor files).",
         ("disks.capacity_mib",))
def capacity_invalid(ctx: Context) -> pd.DataFrame:
    """VMs with a disk of zero or negative capacity."""
    disks = _disks(ctx)
    bad = disks[disks["capacity_mib"] <= 0]
    bad = bad.assign(what=bad["what"] + " (" + bad["capacity_mib"].astype(str) + " MiB)")
    return from_mask(pd.Series(True, index=pd.Index(bad["vm_id"].unique())), joined(bad, "what"))


@declare("vmware.disk.rdm.detected", "Warning", "Raw device mapping (RDM) disk",
         "Virtual-mode RDMs are copied through VDDK as ordinary disks (warm needs CBT on the RDM); "
         "physical-mode RDMs cannot be snapshotted or read through VDDK at all.",
         "Convert virtual-mode RDMs to VMDKs, or present the LUN to the Kubernetes cluster and "
         "attach it as a block PVC after migration.",
         ("disks.raw",))
def rdm(ctx: Context) -> pd.DataFrame:
    """VMs with a raw device mapping, physical or virtual mode."""
    disks = _disks(ctx)
    raw = disks[truthy(disks["raw"])]
    raw = raw.assign(what=raw["what"] + " (" + text(raw["rdm_mode"]).replace("", "mode not reported") + ")")
    return from_mask(pd.Series(True, index=pd.Index(raw["vm_id"].unique())), joined(raw, "what"))


@declare("vmware.disk.rdm.physical", "Critical", "Physical-mode RDM disk",
         "A physical-mode RDM passes SCSI commands to the LUN: it cannot be snapshotted or read "
         "through VDDK, so Forklift cannot copy it and the VM is left out of the migration plan.",
         "Present the LUN to the Kubernetes cluster and attach it as a block PVC after moving the "
         "rest of the VM, or convert it to a VMDK (needs downtime); until then keep the VM on vSphere.",
         ("disks.raw",))
def rdm_physical(ctx: Context) -> pd.DataFrame:
    """VMs with a physical-mode raw device mapping (VDDK can neither snapshot nor read it)."""
    disks = _disks(ctx)
    raw = disks[truthy(disks["raw"]) & text(disks["rdm_mode"]).str.lower().str.startswith("physical")]
    return from_mask(pd.Series(True, index=pd.Index(raw["vm_id"].unique())),
                     joined(raw.assign(what=raw["what"] + " (physicalMode)"), "what"))


@declare("vmware.disk.shared.detected", "Warning", "Shared disk (multi-writer or shared SCSI bus)",
         "Shared disks need ReadWriteMany block storage on KubeVirt and can only move cold; every "
         "VM sharing the disk must be in the same migration.",
         "Plan all sharers in one wave, migrate them cold, and map the disk to RWX block storage.",
         ("disks.sharing|disks.bus_sharing",))
def shared(ctx: Context) -> pd.DataFrame:
    """VMs with a multi-writer disk or a shared SCSI bus, naming the VMs sharing the file."""
    disks = _disks(ctx)
    multi = text(disks["sharing"]).str.lower().str.contains("multiwriter")
    bus = text(disks["bus_sharing"]).str.lower().isin({"virtualsharing", "physicalsharing"})
    hit = disks[multi | bus].copy()
    names = pd.Series(ctx.vms["name"].to_numpy(), index=ctx.vm_index)
    hit["vm_name"] = hit["vm_id"].map(names)
    key = text(hit["file"]).where(text(hit["file"]) != "", hit["vm_id"] + "/" + text(hit["disk_key"]))
    hit["file_key"] = key
    sharers = joined(hit, "vm_name", by="file_key", limit=20)
    hit["sharers"] = hit["file_key"].map(sharers)
    hit["what"] = (hit["what"] + " (" + text(hit["sharing"]).where(multi[hit.index], "")
                   + text(hit["bus_sharing"]).where(bus[hit.index] & ~multi[hit.index], "")
                   + "; VMs on this disk: " + hit["sharers"] + ")")
    return from_mask(pd.Series(True, index=pd.Index(hit["vm_id"].unique())), joined(hit, "what"))


@declare("vmware.disk_mode.independent", "Warning", "Independent disk",
         "Independent disks are skipped by snapshots, so VDDK cannot copy them consistently.",
         "Switch the disks to dependent mode in vSphere before migrating (needs power-off).",
         ("disks.disk_mode",))
def independent(ctx: Context) -> pd.DataFrame:
    """VMs with a disk in independent (persistent or non-persistent) mode."""
    disks = _disks(ctx)
    hit = disks[text(disks["disk_mode"]).str.lower().str.startswith("independent")]
    hit = hit.assign(what=hit["what"] + " (" + text(hit["disk_mode"]) + ")")
    return from_mask(pd.Series(True, index=pd.Index(hit["vm_id"].unique())), joined(hit, "what"))


@declare("vmware.disk.count", "Warning", "Too many disks",
         "A VM can have at most 165 disks on the migration path (vSphere and Forklift limits).",
         "Consolidate disks inside the guest before migration.",
         ("disks",))
def disk_count(ctx: Context) -> pd.DataFrame:
    """VMs with more disks than KubeVirt and Forklift handle."""
    counts = ctx.table("disks").groupby("vm_id").size()
    over = counts[counts > ctx.params.max_disks]
    return from_mask(pd.Series(True, index=over.index),
                     over.astype(str) + f" disks (limit {ctx.params.max_disks})")


@declare("vmware.changed_block_tracking.disabled", "Warning", "Changed block tracking (CBT) disabled",
         "Warm migration copies changed blocks only; without CBT on the VM and every disk only a cold "
         "migration is possible.",
         "Enable CBT (ctkEnabled and scsiX:Y.ctkEnabled), then power-cycle or take and delete a snapshot.",
         ("vms.cbt_enabled",))
def cbt_disabled(ctx: Context) -> pd.DataFrame:
    """VMs with changed block tracking off on the VM or on a disk."""
    vm_cbt = ctx.vm_column("cbt_enabled")
    disks = _disks(ctx)
    off_disks = disks[disks["cbt_enabled"].fillna(True).eq(False)]
    disk_text = joined(off_disks, "what").reindex(ctx.vm_index)
    vm_off = vm_cbt.fillna(True).eq(False)
    detail = pd.Series("", index=ctx.vm_index).mask(vm_off, "CBT off on the VM")
    detail = detail.where(disk_text.isna(), (detail + "; CBT off on " + disk_text).str.lstrip("; "))
    return from_mask(vm_off | disk_text.notna(), detail)


@declare("vmware.disk.serial.truncated", "Information", "Disk serials truncated (disk.EnableUUID)",
         "With disk.EnableUUID the guest sees VMware disk UUIDs as serials; KubeVirt truncates disk "
         "serials, so mounts or tools keyed on the full serial break.",
         "Mount by file-system UUID or label rather than by disk serial before migrating.",
         ("vms.disk_enable_uuid", "disks"))
def serial_truncated(ctx: Context) -> pd.DataFrame:
    """VMs with ``disk.EnableUUID`` set: SCSI disk serials are cut short on KubeVirt."""
    return from_mask(truthy(ctx.vm_column("disk_enable_uuid")),
                     "disk.EnableUUID=TRUE: guests reading disk serials see them truncated")


@declare("vmware.disk.bus.virtio", "Information", "Disk controller becomes virtio",
         "KubeVirt presents disks on virtio; the guest needs virtio storage drivers to boot.",
         "Make virtio-win available to the conversion (Windows); rebuild the initramfs with virtio "
         "modules on old Linux guests.",
         ("disks", "vms.guest_os_config|vms.guest_os_tools"))
def bus_change(ctx: Context) -> pd.DataFrame:
    """VMs whose disks move from pvscsi/LSI/SATA/IDE to virtio and need a driver in the guest."""
    disks = _disks(ctx)
    ctrl = joined(disks, "controller", limit=3).reindex(ctx.vm_index).fillna("")
    os = ctx.os
    windows = (os["family"] == "windows") & ~ctx.without_rows("disks")
    old_linux = (os["family"] == "linux") & os["tier"].isin(["end_of_life", "unsupported", "32bit"])
    old_linux &= ~ctx.without_rows("disks")
    detail = pd.Series("", index=ctx.vm_index)
    detail = detail.mask(windows, "Windows guest: virt-v2v installs VirtIO storage drivers "
                         "(virtio-win must be available to the conversion)")
    detail = detail.mask(old_linux, "old Linux kernel: check virtio_blk/virtio_scsi are in the initramfs")
    detail = detail + (" (from: " + ctrl + ")").where(ctrl != "", "")
    return from_mask(windows | old_linux, detail)


RULES = declared(globals())
