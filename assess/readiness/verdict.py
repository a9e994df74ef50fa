"""From concerns to decisions per VM: verdict, migration method, effort, strategy, remediation.

Verdict, from the checks that could be made (first that applies):

- ``excluded``: an exclusion rule fired (template, SRM placeholder, orphaned/inaccessible,
  powered off for long), or no sheet gives the VM a vCPU or memory allocation (it cannot be
  sized); ``excluded_reason`` says which.
- ``not_ready``: a Critical rule fired.
- ``unknown``: the VM's basic inventory is missing: no guest OS in any reading, or no storage
  size (no disk rows, no provisioned or in-use size).
- ``ready_with_warnings``: a Warning fired.
- ``ready``: nothing Critical or Warning fired.

Beside it, ``coverage`` is ``complete`` when every rule could be checked and ``partial``
otherwise; ``unverified`` lists the rules that could not be checked with the source that would
settle each, and ``verify_first`` the Critical ones among them ("verify before migrating").

Method: ``blocked`` for excluded and not-ready VMs; ``warm`` when the VM is powered on with
VMware Tools running, CBT is on for the VM and every disk, and no shared, independent or
physical-mode RDM disk, no pending consolidation and no unsupported OS stands in the way;
otherwise ``cold``, with the failed prerequisites as the reason.

Effort (1-5): the worse of an OS score and a disk score (after migration-planner's OS x
disk-size matrix: RHEL family 1; Windows certified, SLES, old RHEL family 2; community Linux and
old Windows 3; unsupported or unknown OS 4; disk tiers from ``effort_disk_tiers_gib``), plus one
if a Warning fired and one more if a Critical fired, capped at 5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assess.readiness.base import Context, join_groups, joined, text, truthy

TOOLS_RUNNING = {"toolsok", "toolsold", "guesttoolsrunning", "running"}
WARM_BLOCKERS = ("vmware.disk.shared.detected", "vmware.disk_mode.independent",
                 "vmware.consolidation_needed", "vmware.os.unsupported")


def _has(concerns: pd.DataFrame, index: pd.Index, **where) -> pd.Series:
    mask = pd.Series(True, index=concerns.index)
    for column, value in where.items():
        mask &= concerns[column].isin(value if isinstance(value, (set, tuple, list)) else {value})
    return pd.Series(index.isin(set(concerns.loc[mask, "vm_id"])), index=index)


def _labels(concerns: pd.DataFrame, index: pd.Index, column: str = "label", **where) -> pd.Series:
    mask = pd.Series(True, index=concerns.index)
    for col, value in where.items():
        mask &= concerns[col].isin(value if isinstance(value, (set, tuple, list)) else {value})
    sub = concerns[mask]
    if sub.empty:
        return pd.Series("", index=index)
    return join_groups(sub["vm_id"], sub[column], "; ").reindex(index).fillna("")


NO_ALLOCATION = "No allocation: no sheet gives the VM's vCPUs and memory, so it cannot be sized"


def verdicts(ctx: Context, concerns: pd.DataFrame, exclusion_ids: set[str]) -> pd.DataFrame:
    """Per VM: ``verdict``, ``excluded_reason`` and ``unknown_reason``."""
    idx = ctx.vm_index
    by_rule = _has(concerns, idx, rule_id=exclusion_ids, status="fired")
    vcpus, memory = ctx.vm_column("vcpus"), ctx.vm_column("memory_mib")
    unallocated = ~((vcpus > 0) & (memory > 0)).fillna(False).astype(bool)
    crit = _has(concerns, idx, category="Critical", status="fired")
    no_os = ctx.os["tier"] == "unknown"
    no_storage = ctx.facts["storage_source"] == "none"
    warn = _has(concerns, idx, category="Warning", status="fired")
    verdict = np.select([by_rule | unallocated, crit, no_os | no_storage, warn],
                        ["excluded", "not_ready", "unknown", "ready_with_warnings"], "ready")
    reasons = _labels(concerns, idx, "detail", rule_id=exclusion_ids, status="fired")
    labels = _labels(concerns, idx, rule_id=exclusion_ids, status="fired")
    reason = (labels + ": " + reasons).where(by_rule, "")
    reason = reason.mask(unallocated & ~by_rule, NO_ALLOCATION)
    missing = (pd.Series(np.where(no_os, "no guest OS in any reading; ", ""), index=idx)
               + np.where(no_storage, "no disk, provisioned or in-use size", ""))
    return pd.DataFrame({"verdict": verdict, "excluded_reason": reason,
                         "unknown_reason": missing.str.rstrip("; ").where(verdict == "unknown", "")},
                        index=idx)


def coverage(ctx: Context, concerns: pd.DataFrame) -> pd.DataFrame:
    """Per VM: ``coverage``, ``unverified`` and ``verify_first``.

    ``unverified`` lists the rule ids that could not be checked with the source that would
    settle each; ``verify_first`` the Critical ones among them.
    """
    idx = ctx.vm_index
    unknown = concerns[concerns["status"] == "unknown"]
    text_ = unknown["rule_id"] + " (" + unknown["settled_by"] + ")"
    unverified = join_groups(unknown["vm_id"], text_, "; ").reindex(idx).fillna("")
    critical = unknown[unknown["category"] == "Critical"]
    first = join_groups(critical["vm_id"], critical["rule_id"], ", ").reindex(idx).fillna("")
    return pd.DataFrame({"coverage": np.where(unverified == "", "complete", "partial"),
                         "unverified": unverified, "verify_first": first}, index=idx)


def methods(ctx: Context, concerns: pd.DataFrame, verdict: pd.Series) -> pd.DataFrame:
    """Per VM: ``method`` (warm, cold, blocked) and ``method_reason``."""
    idx = ctx.vm_index
    disks = ctx.table("disks")
    physical = disks[truthy(disks["raw"]) & text(disks["rdm_mode"]).str.lower().str.startswith("physical")]
    disk_cbt_off = disks[disks["cbt_enabled"].fillna(True).eq(False)]
    power, tools = text(ctx.vm_column("power_state")).str.lower(), text(ctx.vm_column("tools_status"))
    cbt = ctx.vm_column("cbt_enabled")
    checks = {
        "power state not in this source": power == "",
        "VM powered off": (power != "poweredon") & (power != ""),
        "Tools status not in this source": tools == "",
        "VMware Tools not running": ~tools.str.lower().isin(TOOLS_RUNNING) & (tools != ""),
        "CBT setting not in this source": cbt.isna(),
        "CBT off": cbt.eq(False).fillna(False).astype(bool)
        | pd.Series(idx.isin(set(disk_cbt_off["vm_id"])), index=idx),
        "physical-mode RDM": pd.Series(idx.isin(set(physical["vm_id"])), index=idx),
    }
    for rule_id in WARM_BLOCKERS:
        found = concerns[(concerns["rule_id"] == rule_id) & (concerns["status"] == "fired")]
        label = found["label"].iloc[0] if len(found) else rule_id
        checks[label[0].lower() + label[1:]] = pd.Series(idx.isin(set(found["vm_id"])), index=idx)
    reason = pd.Series("", index=idx)
    for name, failed in checks.items():
        reason = reason + np.where(failed.to_numpy(), name + "; ", "")
    reason = reason.str.rstrip("; ")
    critical = _labels(concerns, idx, category="Critical", status="fired")
    excluded = verdict == "excluded"
    blocked = excluded | (verdict == "not_ready")
    method = np.select([blocked, reason == ""], ["blocked", "warm"], "cold")
    why = ("cold: " + reason).where(reason != "", "warm: CBT on VM and disks, tools running, no "
                                    "shared/independent/physical RDM disk")
    why = why.mask(verdict == "not_ready", "blocked by: " + critical)
    why = why.mask(excluded, "excluded from migration")
    return pd.DataFrame({"method": method, "method_reason": why}, index=idx)


def _os_score(os: pd.DataFrame) -> pd.Series:
    rhel = os["distro"].str.contains("RHEL|CentOS|Oracle Linux|Rocky|Fedora", case=False, regex=True)
    tier = os["tier"]
    score = pd.Series(3, index=os.index)
    score = score.mask(tier.isin(["certified", "vendor"]), 2)
    score = score.mask(rhel & tier.isin(["certified", "vendor", "community"]), 1)
    score = score.mask(rhel & (tier == "end_of_life"), 2)
    return score.mask(tier.isin(["unsupported", "32bit", "unknown"]), 4)


def efforts(ctx: Context, concerns: pd.DataFrame) -> pd.DataFrame:
    """Per VM: ``effort`` (1-5), ``os_score``, ``disk_score``, ``disk_gib``."""
    idx = ctx.vm_index
    gib = ctx.facts["disk_gib"]
    tiers = list(ctx.params.effort_disk_tiers_gib)
    disk_score = pd.Series(np.searchsorted(tiers, gib.fillna(0).to_numpy(), side="left") + 1,
                           index=idx).where(gib.notna())
    os_score = _os_score(ctx.os)
    warn = _has(concerns, idx, category="Warning", status="fired").astype(int)
    crit = _has(concerns, idx, category="Critical", status="fired").astype(int)
    effort = np.clip(np.maximum(os_score, disk_score.fillna(1)) + warn + crit, 1, 5)
    return pd.DataFrame({"effort": effort.astype(int), "os_score": os_score, "disk_score": disk_score,
                         "disk_gib": gib.round(1), "storage_source": ctx.facts["storage_source"]},
                        index=idx)


def strategies(ctx: Context, decided: pd.DataFrame, concerns: pd.DataFrame) -> pd.DataFrame:
    """Per VM: ``strategy`` (rehost, retain, replatform) and ``strategy_reason`` before idle input."""
    idx = ctx.vm_index
    p = ctx.params
    disks = ctx.table("disks").groupby("vm_id").agg(n=("vm_id", "size"), mib=("capacity_mib", "sum"))
    disks = disks.reindex(idx)
    flows = ctx.estate["flows"]
    inbound = flows[flows["dst"].astype(object).isin(set(idx))]
    web = inbound["port"].isin(list(p.web_ports))
    per_vm = inbound.assign(web=web).groupby("dst").agg(all_web=("web", "all"), n=("src", "nunique"))
    per_vm = per_vm.reindex(idx)
    ports = joined(inbound.drop_duplicates(["dst", "port"]).sort_values("port")
                   .assign(port=lambda f: f["port"].astype(str)), "port", by="dst").reindex(idx)
    os = ctx.os
    small = ((disks["n"] == 1) & (disks["mib"] <= p.replatform_max_disk_gib * 1024)
             & (ctx.vm_column("vcpus") <= p.replatform_max_vcpus).fillna(False)
             & (ctx.vm_column("memory_mib") <= p.replatform_max_memory_mib).fillna(False))
    linux = (os["family"] == "linux") & os["tier"].isin(["certified", "vendor", "community"])
    stateless = per_vm["all_web"].fillna(False).astype(bool) & (per_vm["n"].fillna(0) > 0)
    replatform = linux & small.fillna(False) & stateless & decided["method"].ne("blocked")
    evidence = ("Linux (" + os["os_name"] + "), 1 disk of " + (disks["mib"] / 1024).round(1).astype(str)
                + " GiB, " + ctx.vm_column("vcpus").astype(str) + " vCPU, inbound only on web ports "
                + ports.fillna("") + " from " + per_vm["n"].fillna(0).astype(int).astype(str) + " source(s)")
    off_long = _has(concerns, idx, rule_id="vmware.vm.powered_off_long", status="fired")
    critical = _labels(concerns, idx, category="Critical", status="fired")
    strategy = np.select(
        [off_long, decided["verdict"] == "excluded", decided["verdict"] == "not_ready", replatform],
        ["retire", "retain", "retain", "replatform"], "rehost")
    reason = pd.Series("default: rehost onto KubeVirt", index=idx)
    reason = reason.mask(replatform, "stateless web/app tier: " + evidence)
    reason = reason.mask(decided["verdict"] == "not_ready", "retain for now, blocked by: " + critical)
    reason = reason.mask(decided["verdict"] == "excluded", "excluded: " + decided["excluded_reason"])
    reason = reason.mask(off_long, "unused: " + decided["excluded_reason"])
    return pd.DataFrame({"strategy": strategy, "strategy_reason": reason}, index=idx)


def retire_idle(readiness: pd.DataFrame, idle: pd.Series | pd.DataFrame) -> pd.DataFrame:
    """Return ``readiness`` with idle VMs' strategy set to ``retire``, quoting the idle evidence.

    ``idle`` is a boolean Series indexed by ``vm_id``, or a frame with ``vm_id`` and ``idle``
    columns (the sizing stage's ``sizing`` table; its ``idle_evidence`` column, when present,
    becomes the reason). Excluded and blocked VMs keep their strategy.
    """
    if isinstance(idle, pd.DataFrame):
        frame = idle.set_index("vm_id")
        flag = frame["idle"]
        evidence = frame["idle_evidence"] if "idle_evidence" in frame else pd.Series("", index=frame.index)
    else:
        flag, evidence = idle, pd.Series("", index=idle.index)
    ids = readiness["vm_id"]
    is_idle = ids.map(flag.fillna(False).astype(bool)).fillna(False).astype(bool)
    eligible = is_idle & ~readiness["verdict"].isin(["excluded", "not_ready"])
    why = ids.map(evidence.fillna("").astype(str)).fillna("")
    out = readiness.copy()
    out.loc[eligible, "strategy"] = "retire"
    out.loc[eligible, "strategy_reason"] = ("idle (sizing stage): " + why[eligible]).str.rstrip(": ")
    return out


def remediations(ctx: Context, concerns: pd.DataFrame) -> pd.Series:
    """Per VM: numbered remediation steps, Critical first, then Warning, then checks for unknowns."""
    idx = ctx.vm_index
    steps = concerns[concerns["category"].isin(["Critical", "Warning"])
                     | (concerns["status"] == "fired")].copy()
    steps["step"] = steps["remediation"].where(
        steps["status"] == "fired",
        "Check " + steps["label"].str.lower() + " (" + steps["detail"] + ")")
    steps["_unknown"] = steps["status"] == "unknown"
    steps = steps.sort_values("_unknown", kind="stable")
    steps["n"] = steps.groupby("vm_id").cumcount() + 1
    steps["step"] = steps["n"].astype(str) + ". " + steps["step"]
    return join_groups(steps["vm_id"], steps["step"], "\n").reindex(idx).fillna("")
