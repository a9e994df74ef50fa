"""The readiness stage: concerns, verdict, method, effort, strategy and target name for every VM."""

from __future__ import annotations

import pandas as pd

from assess.model import AssessError, Estate
from assess.model.results import StageResult
from assess.readiness import verdict as decide
from assess.readiness.base import Context, join_groups
from assess.readiness.catalogue import RULES, RULES_VERSION, evaluate
from assess.readiness.overview import overview_tables
from assess.readiness.params import ReadinessParams

READINESS_COLUMNS = [
    "vm_id", "name", "verdict", "coverage", "unverified", "verify_first", "excluded_reason",
    "unknown_reason", "method", "method_reason", "strategy", "strategy_reason", "effort",
    "target_name", "guest_os_tier", "firmware", "secure_boot", "needs_vtpm", "remediation",
    "rules_version",
    # added: what the decisions were made from
    "cluster", "os_family", "os_version", "guest_os", "os_score", "disk_score", "disk_gib",
    "storage_source", "critical", "warnings", "unknowns",
]
VERDICTS = ("ready", "ready_with_warnings", "not_ready", "unknown", "excluded")


def assess_readiness(estate: Estate, params: ReadinessParams | None = None) -> StageResult:
    """Assess every VM of ``estate`` against the rule catalogue.

    Args:
        estate: the canonical estate.
        params: thresholds; defaults when None.

    Returns:
        Tables ``readiness`` (one row per VM of ``estate["vms"]``, same order), ``concerns``
        (one row per VM and rule that fired or stayed unknown), ``concern_summary`` (one row per
        rule and status with the affected VMs) and ``readiness_groups`` (verdict counts per
        cluster and per OS family); the summary holds the counts.

    Raises:
        AssessError: the estate holds no VMs (a header-only vInfo, a flows-only estate).
    """
    params = params or ReadinessParams()
    if estate["vms"].empty:
        where = ", ".join(str(p.get("path") or p.get("id")) for p in estate.provenance) or "the estate"
        raise AssessError(f"{where}: no VMs to assess (the inventory has no VM rows); give an "
                          "RVTools export whose vInfo lists VMs, or a vCenter collection")
    ctx = Context(estate, params)
    concerns = evaluate(ctx)
    exclusion_ids = {r.id for r in RULES if r.excludes}
    decided = decide.verdicts(ctx, concerns, exclusion_ids)
    decided = decided.join(decide.coverage(ctx, concerns))
    decided = decided.join(decide.methods(ctx, concerns, decided["verdict"]))
    decided = decided.join(decide.efforts(ctx, concerns))
    decided = decided.join(decide.strategies(ctx, decided, concerns))
    readiness = _readiness_table(ctx, concerns, decided)
    summary_table = concern_summary(concerns, readiness)
    groups = readiness_groups(readiness)
    overview = overview_tables(estate, readiness, concerns, ctx.params.effort_disk_tiers_gib)
    return StageResult(
        tables={"readiness": readiness, "concerns": concerns, "concern_summary": summary_table,
                "readiness_groups": groups, **overview},
        summary=readiness_summary(readiness, summary_table),
        params=params.model_dump(mode="json"),
    )


def _readiness_table(ctx: Context, concerns: pd.DataFrame, decided: pd.DataFrame) -> pd.DataFrame:
    idx = ctx.vm_index
    os = ctx.os
    fw = ctx.vm_column("firmware").fillna("").astype(str).str.lower()
    counts = concerns.groupby(["vm_id", "category", "status"]).size().unstack(["category", "status"])

    def count(category: str, status: str) -> pd.Series:
        key = (category, status)
        col = counts[key] if key in counts.columns else pd.Series(dtype=int)
        return col.reindex(idx).fillna(0).astype(int)

    unknowns = sum(count(c, "unknown") for c in ("Critical", "Warning", "Information"))
    frame = pd.DataFrame({
        "vm_id": idx,
        "name": ctx.vm_column("name"),
        **{c: decided[c] for c in ("verdict", "coverage", "unverified", "verify_first",
                                   "excluded_reason", "unknown_reason", "method", "method_reason",
                                   "strategy", "strategy_reason", "effort")},
        "target_name": ctx.target_names,
        "guest_os_tier": os["tier"],
        "firmware": fw.where(fw.isin(["bios", "efi"]), None),
        "secure_boot": ctx.vm_column("secure_boot"),
        "needs_vtpm": os["needs_vtpm"],
        "remediation": decide.remediations(ctx, concerns),
        "rules_version": RULES_VERSION,
        "cluster": ctx.vm_column("cluster"),
        "os_family": ctx.facts["os_family"],
        "os_version": ctx.facts["os_version"],
        "guest_os": os["os_name"],
        **{c: decided[c] for c in ("os_score", "disk_score", "disk_gib", "storage_source")},
        "critical": count("Critical", "fired"),
        "warnings": count("Warning", "fired"),
        "unknowns": unknowns,
    }, index=idx)
    types = {"effort": "Int64", "secure_boot": "boolean", "needs_vtpm": "boolean",
             "os_score": "Int64", "disk_score": "Int64", "disk_gib": "float64", "critical": "Int64",
             "warnings": "Int64", "unknowns": "Int64"}
    frame = frame.astype({c: types.get(c, "string") for c in READINESS_COLUMNS})
    return frame[READINESS_COLUMNS].reset_index(drop=True)


def concern_summary(concerns: pd.DataFrame, readiness: pd.DataFrame) -> pd.DataFrame:
    """One row per (rule, status): category, label, VM count and the affected VM names."""
    names = readiness.set_index("vm_id")["name"]
    frame = concerns.assign(vm_name=concerns["vm_id"].map(names).fillna(concerns["vm_id"]))
    grouped = frame.groupby(["rule_id", "status"], sort=False)
    out = grouped.agg(category=("category", "first"), label=("label", "first"),
                      vm_count=("vm_id", "nunique")).reset_index()
    vms = join_groups(frame["rule_id"] + "|" + frame["status"], frame["vm_name"])
    out["vms"] = (out["rule_id"] + "|" + out["status"]).map(vms)
    rank = out["category"].map({"Critical": 0, "Warning": 1, "Information": 2})
    out = out.assign(_r=rank).sort_values(["status", "_r", "vm_count"], ascending=[True, True, False])
    out["rules_version"] = RULES_VERSION
    return out.drop(columns="_r").astype({"vm_count": "Int64"}).reset_index(drop=True)


def readiness_groups(readiness: pd.DataFrame) -> pd.DataFrame:
    """Verdict counts per cluster and per OS family (columns: group_by, group, one per verdict)."""
    parts = []
    for by in ("cluster", "os_family"):
        keys = readiness[by].fillna("(none)").replace("", "(none)")
        table = pd.crosstab(keys, readiness["verdict"]).reindex(columns=list(VERDICTS), fill_value=0)
        parts.append(table.rename_axis("group").reset_index().assign(group_by=by))
    out = pd.concat(parts, ignore_index=True)
    return out[["group_by", "group", *VERDICTS]].astype({v: "Int64" for v in VERDICTS})


def readiness_summary(readiness: pd.DataFrame, concerns: pd.DataFrame) -> dict:
    """Counts for summary.json: per verdict, method, strategy, cluster, OS family and concern."""
    def counts(column: str, keys=None) -> dict:
        found = readiness[column].fillna("(none)").value_counts().to_dict()
        return {k: int(found.get(k, 0)) for k in keys} if keys else {k: int(v) for k, v in found.items()}

    def by(column: str) -> dict:
        table = pd.crosstab(readiness[column].fillna("(none)"), readiness["verdict"])
        return {str(g): {v: int(n) for v, n in row.items() if n} for g, row in table.iterrows()}

    return {
        "rules_version": RULES_VERSION,
        "vms": len(readiness),
        "verdicts": counts("verdict", VERDICTS),
        "coverage": counts("coverage", ("complete", "partial")),
        "storage_sources": counts("storage_source"),
        "methods": counts("method", ("warm", "cold", "blocked")),
        "strategies": counts("strategy", ("rehost", "replatform", "retire", "retain")),
        "effort": {str(k): int(v) for k, v in readiness["effort"].value_counts().sort_index().items()},
        "per_cluster": by("cluster"),
        "per_os_family": by("os_family"),
        "concerns": {f"{r.rule_id}:{r.status}": int(r.vm_count) for r in concerns.itertuples()},
    }
