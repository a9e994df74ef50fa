"""Virtual hardware and VM state rules: hot-plug, CPU/NUMA affinity, consolidation, snapshots, FT."""

from __future__ import annotations

import pandas as pd

from assess.readiness.base import Context, declare, declared, from_mask, text, truthy


@declare("vmware.cpu_memory.hotplug.enabled", "Warning", "CPU or memory hot-plug enabled",
         "KubeVirt hot-plugs CPU and memory only within maxSockets/maxGuest set at creation and "
         "with live-migratable storage; the vSphere setting does not carry over.",
         "Size the VM for its peak, or set maxSockets / maxGuest in the KubeVirt VM.",
         ("vms.cpu_hot_add|vms.memory_hot_add",))
def hotplug(ctx: Context) -> pd.DataFrame:
    """VMs with CPU or memory hot-add enabled."""
    cpu, mem = ctx.vm_column("cpu_hot_add"), ctx.vm_column("memory_hot_add")
    detail = (truthy(cpu).map({True: "CPU hot-add", False: ""}) + ", "
              + truthy(mem).map({True: "memory hot-add", False: ""})).str.strip(", ")
    return from_mask(truthy(cpu) | truthy(mem), detail)


def _setting(ctx: Context, column: str, what: str) -> pd.DataFrame:
    value = text(ctx.vm_column(column))
    return from_mask(value != "", what + ": " + value)


@declare("vmware.cpu_affinity.detected", "Warning", "CPU affinity",
         "Pinning to ESXi host CPUs does not carry over; KubeVirt pins only with dedicatedCpuPlacement "
         "on nodes with the static CPU manager policy.",
         "Remove the affinity, or request dedicated CPUs on the KubeVirt VM.",
         ("vms.cpu_affinity",))
def cpu_affinity(ctx: Context) -> pd.DataFrame:
    """VMs pinned to host CPUs."""
    return _setting(ctx, "cpu_affinity", "CPU affinity")


@declare("vmware.numa_affinity.detected", "Warning", "NUMA affinity",
         "NUMA node pinning does not carry over; KubeVirt maps guest NUMA only with dedicated CPUs "
         "and hugepages (guestMappingPassthrough).",
         "Remove the affinity, or use dedicated CPUs with hugepages and NUMA passthrough.",
         ("vms.numa_affinity",))
def numa_affinity(ctx: Context) -> pd.DataFrame:
    """VMs pinned to host NUMA nodes."""
    return _setting(ctx, "numa_affinity", "NUMA affinity")


@declare("vmware.consolidation_needed", "Warning", "Disk consolidation needed",
         "A broken snapshot chain makes the VDDK copy read stale or failing delta disks.",
         "Run Snapshot > Consolidate in vSphere before migration.",
         ("vms.consolidation_needed",))
def consolidation(ctx: Context) -> pd.DataFrame:
    """VMs whose snapshot disks need consolidation."""
    needed = ctx.vm_column("consolidation_needed")
    return from_mask(truthy(needed), "vCenter reports: disks need consolidation")


@declare("vmware.snapshot.detected", "Information", "Snapshots",
         "Only the current state migrates; snapshots are not transferred and deep chains slow the copy.",
         "Delete or consolidate snapshots you do not need before migrating.",
         ("snapshots",))
def snapshots(ctx: Context) -> pd.DataFrame:
    """VMs with snapshots: count, total size and the oldest."""
    snaps = ctx.table("snapshots")
    stats = snaps.groupby("vm_id").agg(count=("vm_id", "size"), mib=("size_mib", "sum"),
                                       oldest=("created_at", "min"))
    oldest = stats["oldest"].dt.strftime("%Y-%m-%d").fillna("unknown date")
    detail = (stats["count"].astype(str) + " snapshot(s), "
              + (stats["mib"] / 1024).round(1).astype(str) + " GiB, oldest " + oldest)
    return from_mask(pd.Series(True, index=stats.index), detail)


@declare("vmware.fault_tolerance.enabled", "Information", "Fault tolerance",
         "vSphere FT has no KubeVirt equivalent; protection comes from restart and live migration.",
         "Plan application-level redundancy if FT protected this VM.",
         ("vms.ft_state",))
def fault_tolerance(ctx: Context) -> pd.DataFrame:
    """VMs with vSphere Fault Tolerance configured."""
    state = text(ctx.vm_column("ft_state"))
    return from_mask((state != "") & (state.str.lower() != "notconfigured"), "FT state: " + state)


RULES = declared(globals())
