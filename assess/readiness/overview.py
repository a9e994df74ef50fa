"""Estate overview tables of the readiness stage: what migration-planner shows, and what is missing.

- :func:`cluster_overcommit`: per cluster, the VMs' vCPUs and memory against the hosts' cores
  and memory (vCPU:pCPU, vRAM:pRAM), with the cluster's HA, DRS and DPM settings.
- :func:`disk_tiers`: VMs and storage per disk-size tier (the tiers of the effort score).
- :func:`complexity`: VMs per OS score x disk score, the matrix the effort score is built on
  (migration-planner's OS x disk-size complexity; ``effort`` adds 1 per fired Warning and
  Critical, capped at 5).
- :func:`datastore_usage`: type, capacity, free space, SIOC and the VMs with disks on each.
- :func:`missing_sources`: "what would complete the picture": each source the estate lacks, the
  rules it would settle and the VMs they could not be checked on.
"""

from __future__ import annotations

import pandas as pd

from assess.model import Estate

CLUSTER_OVERCOMMIT_COLUMNS = [
    "cluster", "datacenter", "vms", "powered_on", "vcpus", "memory_gib", "hosts", "host_cores",
    "host_memory_gib", "cpu_overcommit", "memory_overcommit", "ha_enabled", "drs_enabled",
    "drs_behavior", "dpm_enabled",
]


def cluster_overcommit(estate: Estate, readiness: pd.DataFrame) -> pd.DataFrame:
    """One row per cluster (most VMs first): allocations, host capacity and their ratios.

    VMs excluded by readiness (templates, placeholders) are not counted; ratios are empty where
    the hosts' cores or memory are unknown (no vHost sheet, or hosts outside any cluster).
    """
    vms = estate["vms"].assign(verdict=readiness["verdict"].to_numpy())
    vms = vms[vms["verdict"] != "excluded"]
    cluster = vms["cluster"].fillna("(no cluster)")
    on = vms["power_state"].fillna("").str.lower().eq("poweredon")
    per = pd.DataFrame({"cluster": cluster, "datacenter": vms["datacenter"],
                        "vcpus": vms["vcpus"].astype("float64"), "memory_mib": vms["memory_mib"],
                        "on": on}).groupby("cluster", sort=False).agg(
        datacenter=("datacenter", "first"), vms=("cluster", "size"), powered_on=("on", "sum"),
        vcpus=("vcpus", "sum"), memory_mib=("memory_mib", "sum"))
    hosts = estate["hosts"]
    capacity = hosts.assign(cluster=hosts["cluster"].fillna("(no cluster)")).groupby("cluster").agg(
        hosts=("host_id", "size"), host_cores=("cores", lambda s: s.sum(min_count=1)),
        host_memory_mib=("memory_mib", lambda s: s.sum(min_count=1)))
    out = per.join(capacity, how="outer")
    settings = estate["clusters"].drop_duplicates("name").set_index("name")[
        ["ha_enabled", "drs_enabled", "drs_behavior", "dpm_enabled"]]
    out = out.join(settings, how="left")
    out["memory_gib"] = out["memory_mib"] / 1024
    out["host_memory_gib"] = out["host_memory_mib"] / 1024
    cores = out["host_cores"].astype("float64")
    out["cpu_overcommit"] = (out["vcpus"] / cores.where(cores > 0)).round(2)
    host_memory = out["host_memory_gib"].where(out["host_memory_gib"] > 0)
    out["memory_overcommit"] = (out["memory_gib"] / host_memory).round(2)
    out = out.fillna({"vms": 0, "powered_on": 0, "hosts": 0}).rename_axis("cluster").reset_index()
    out = out.sort_values(["vms", "cluster"], ascending=[False, True], kind="stable")
    types = {"vms": "Int64", "powered_on": "Int64", "vcpus": "Int64", "hosts": "Int64",
             "host_cores": "Int64", "ha_enabled": "boolean", "drs_enabled": "boolean",
             "dpm_enabled": "boolean", "cluster": "string", "datacenter": "string",
             "drs_behavior": "string"}
    out["vcpus"] = out["vcpus"].round()
    return out[CLUSTER_OVERCOMMIT_COLUMNS].astype(types).reset_index(drop=True)


def tier_labels(bounds_gib: tuple[float, ...]) -> list[str]:
    """Readable names of the disk-size tiers whose upper bounds are ``bounds_gib``."""
    def size(gib: float) -> str:
        return f"{gib / 1024:g} TiB" if gib >= 1024 else f"{gib:g} GiB"
    edges = [0.0, *bounds_gib]
    labels = [f"{size(a)} - {size(b)}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return [*labels, f"over {size(edges[-1])}"]


def disk_tiers(readiness: pd.DataFrame, bounds_gib: tuple[float, ...]) -> pd.DataFrame:
    """VM count and total storage (TiB) per disk-size tier; ``disk_score`` is the tier's number."""
    labels = tier_labels(bounds_gib)
    score = readiness["disk_score"]
    gib = readiness["disk_gib"]
    rows = [{"disk_score": i + 1, "tier": label, "vms": int((score == i + 1).sum()),
             "total_tib": round(float(gib[score == i + 1].sum()) / 1024, 2)}
            for i, label in enumerate(labels)]
    unknown = int(score.isna().sum())
    if unknown:
        rows.append({"disk_score": pd.NA, "tier": "size unknown", "vms": unknown, "total_tib": 0.0})
    return pd.DataFrame(rows).astype({"disk_score": "Int64", "tier": "string", "vms": "Int64"})


def complexity(readiness: pd.DataFrame) -> pd.DataFrame:
    """VMs per OS score (rows) and disk score (columns ``disk_1`` ... ``disk_4``)."""
    table = pd.crosstab(readiness["os_score"], readiness["disk_score"]).reindex(
        index=range(1, 5), columns=range(1, 5), fill_value=0)
    table.columns = [f"disk_{c}" for c in table.columns]
    return table.rename_axis("os_score").reset_index().astype("Int64")


def datastore_usage(estate: Estate) -> pd.DataFrame:
    """Per datastore: type, capacity, free space and %, SIOC, and the VMs with a disk on it."""
    stores = estate["datastores"]
    disks = estate["disks"]
    on = disks.dropna(subset=["datastore"]).groupby("datastore")["vm_id"].nunique()
    capacity = stores["capacity_mib"].where(stores["capacity_mib"] > 0)
    out = pd.DataFrame({
        "datastore": stores["name"], "type": stores["type"],
        "capacity_gib": (stores["capacity_mib"] / 1024).round(1),
        "free_gib": (stores["free_mib"] / 1024).round(1),
        "free_pct": (100 * stores["free_mib"] / capacity).round(1),
        "sioc_enabled": stores["sioc_enabled"],
        "vms": stores["name"].map(on).fillna(0),
    })
    return out.astype({"datastore": "string", "type": "string", "vms": "Int64"}).reset_index(drop=True)


def missing_sources(concerns: pd.DataFrame) -> pd.DataFrame:
    """Per source that would settle unchecked rules: the rules and the VMs left unchecked."""
    unknown = concerns[concerns["status"] == "unknown"]
    if unknown.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in (
            ("source", "string"), ("rules", "string"), ("critical_rules", "string"),
            ("vms", "Int64"))})
    unknown = unknown.assign(source=unknown["settled_by"].str.split(" or ").str[0])
    out = unknown.groupby("source", sort=False).agg(
        rules=("rule_id", lambda s: ", ".join(dict.fromkeys(s))), vms=("vm_id", "nunique"))
    critical = unknown[unknown["category"] == "Critical"]
    out["critical_rules"] = ""
    if len(critical):
        out["critical_rules"] = critical.groupby("source")["rule_id"].agg(
            lambda s: ", ".join(dict.fromkeys(s))).reindex(out.index).fillna("")
    out = out.reset_index().sort_values(["vms", "source"], ascending=[False, True])
    return out[["source", "rules", "critical_rules", "vms"]].astype(
        {"source": "string", "rules": "string", "critical_rules": "string", "vms": "Int64"}
    ).reset_index(drop=True)


def overview_tables(estate: Estate, readiness: pd.DataFrame, concerns: pd.DataFrame,
                    bounds_gib: tuple[float, ...]) -> dict[str, pd.DataFrame]:
    """All overview tables, by result-table name."""
    return {
        "cluster_overcommit": cluster_overcommit(estate, readiness),
        "disk_tiers": disk_tiers(readiness, bounds_gib),
        "complexity": complexity(readiness),
        "datastore_usage": datastore_usage(estate),
        "missing_sources": missing_sources(concerns),
    }

