"""Placement and cluster rules: VM-host affinity, and DRS, DPM and HA settings that do not carry over."""

from __future__ import annotations

import pandas as pd

from assess.readiness.base import Context, declare, declared, from_mask, joined, text, truthy


def _cluster_flag(ctx: Context, column: str) -> pd.Series:
    """Per VM: the cluster's ``column`` (matched on vCenter and name, else on name alone)."""
    clusters = ctx.estate["clusters"]
    flag = truthy(clusters[column])
    both = dict(zip(text(clusters["vcenter"]) + "/" + text(clusters["name"]), flag))
    by_name = dict(zip(text(clusters["name"]), flag))
    vcenter, cluster = text(ctx.vm_column("vcenter")), text(ctx.vm_column("cluster"))
    exact = (vcenter + "/" + cluster).map(both).astype("boolean")
    return exact.fillna(cluster.map(by_name).astype("boolean")).fillna(False).astype(bool) & (cluster != "")


@declare("vmware.host_affinity.detected", "Warning", "VM-host affinity rule",
         "DRS rules tying the VM to ESXi hosts do not carry over; KubeVirt places VMs with node "
         "affinity instead.",
         "Translate the rule into nodeSelector / node affinity on labelled KubeVirt nodes.",
         ("affinity_rules",))
def host_affinity(ctx: Context) -> pd.DataFrame:
    """VMs bound to ESXi hosts by an enabled VM-host DRS rule."""
    rules = ctx.estate["affinity_rules"]
    hit = rules[(rules["kind"] == "vm_host") & rules["enabled"].fillna(True).astype(bool)]
    hit = hit.assign(vm_id=hit["member"],
                     what=hit["rule"] + truthy(hit["mandatory"]).map({True: " (must)", False: " (should)"}))
    hit = hit[hit["vm_id"].astype(object).isin(set(ctx.vm_index))]
    return from_mask(pd.Series(True, index=pd.Index(hit["vm_id"].unique())), joined(hit, "what"))


@declare("vmware.drs.enabled", "Information", "DRS settings do not carry over",
         "DRS balancing and rules are replaced by the Kubernetes scheduler and the descheduler.",
         "Review VM-VM rules: the waves stage keeps affinity groups together.",
         ("clusters.drs_enabled",))
def drs(ctx: Context) -> pd.DataFrame:
    """VMs in a DRS-enabled cluster."""
    return from_mask(_cluster_flag(ctx, "drs_enabled"), "cluster " + text(ctx.vm_column("cluster")))


@declare("vmware.dpm.enabled", "Information", "DPM settings do not carry over",
         "Distributed Power Management has no KubeVirt equivalent.",
         "None needed; plan node power management separately.",
         ("clusters.dpm_enabled",))
def dpm(ctx: Context) -> pd.DataFrame:
    """VMs in a DPM-enabled cluster."""
    return from_mask(_cluster_flag(ctx, "dpm_enabled"), "cluster " + text(ctx.vm_column("cluster")))


@declare("vmware.ha.enabled", "Information", "HA settings do not carry over",
         "vSphere HA restart priority and isolation response are replaced by runStrategy and "
         "Kubernetes node failure handling.",
         "Set runStrategy: Always and a PriorityClass reflecting the restart priority.",
         ("clusters.ha_enabled",))
def ha(ctx: Context) -> pd.DataFrame:
    """VMs in a vSphere HA cluster (restart priority does not carry over)."""
    priority = text(ctx.vm_column("ha_restart_priority")).replace("", "cluster default")
    return from_mask(_cluster_flag(ctx, "ha_enabled"),
                     "cluster " + text(ctx.vm_column("cluster")) + ", restart priority " + priority)


RULES = declared(globals())
