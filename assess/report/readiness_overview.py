"""The report's readiness overview, rendered by the template ``readiness_overview.html.j2``.

Coverage headline, per-cluster overcommitment, disk tiers, complexity, datastores, and "what
would complete the picture".
"""

from __future__ import annotations

import pandas as pd

from assess.model.results import StageResult

#: Overview tables of the readiness stage, with the column titles the report shows.
TITLES: dict[str, dict[str, str]] = {
    "cluster_overcommit": {
        "cluster": "Cluster", "datacenter": "Datacenter", "vms": "VMs", "powered_on": "Powered on",
        "vcpus": "vCPUs", "memory_gib": "vRAM GiB", "hosts": "Hosts", "host_cores": "Host cores",
        "host_memory_gib": "Host RAM GiB", "cpu_overcommit": "vCPU:pCPU",
        "memory_overcommit": "vRAM:pRAM", "ha_enabled": "HA", "drs_enabled": "DRS",
        "drs_behavior": "DRS behaviour", "dpm_enabled": "DPM"},
    "disk_tiers": {"disk_score": "Disk score", "tier": "Total disk per VM", "vms": "VMs",
                   "total_tib": "Total TiB"},
    "complexity": {"os_score": "OS score", "disk_1": "Disk 1", "disk_2": "Disk 2",
                   "disk_3": "Disk 3", "disk_4": "Disk 4"},
    "datastore_usage": {"datastore": "Datastore", "type": "Type", "capacity_gib": "Capacity GiB",
                        "free_gib": "Free GiB", "free_pct": "Free %", "sioc_enabled": "SIOC",
                        "vms": "VMs with disks"},
    "missing_sources": {"source": "Source to add", "rules": "Checks it would settle",
                        "critical_rules": "Critical among them", "vms": "VMs left unchecked"},
}


def coverage_headline(readiness: pd.DataFrame, missing: pd.DataFrame) -> str:
    """One line such as "ready 112 (partial coverage: 3 checks need a vCenter collection)"."""
    ready = int((readiness["verdict"] == "ready").sum())
    partial = int((readiness["coverage"] == "partial").sum())
    if not partial:
        return f"ready {ready} (complete coverage: every check was made)"
    needs = "; ".join(f"{len(r.rules.split(', '))} check(s) need the {r.source}"
                      for r in missing.itertuples(index=False))
    return f"ready {ready} (partial coverage on {partial} VM(s): {needs})"


def readiness_overview(results: dict[str, StageResult]) -> dict | None:
    """What the template shows, or None when no readiness stage ran."""
    stage = next((r for r in results.values() if "readiness" in r.tables), None)
    if stage is None or "cluster_overcommit" not in stage.tables:
        return None
    tables = {name: stage.tables[name].rename(columns=titles) for name, titles in TITLES.items()}
    readiness = stage.tables["readiness"]
    storage = readiness["storage_source"].value_counts().to_dict()
    return {
        "headline": coverage_headline(readiness, stage.tables["missing_sources"]),
        "storage_sources": storage,
        "verify_first": int((readiness["verify_first"].fillna("") != "").sum()),
        "tables": tables,
    }
