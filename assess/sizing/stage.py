"""The sizing stage: right-size, map to KubeVirt, pack onto nodes, price — one row per VM.

``size_estate`` is what the pipeline and notebooks call. Every VM of ``estate["vms"]`` gets a
``sizing`` row: VMs excluded by readiness (or, when asked, as idle) keep their right-sized
figures but get ``excluded_reason`` and no node; VMs too big for every node profile get no
node and say why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assess.collect.utilization import DUCKDB_MEMORY_LIMIT
from assess.collect.utilization_stats import file_stats, frame_stats
from assess.model import AssessError, conform
from assess.model.estate import Estate
from assess.model.results import StageResult
from assess.sizing.cost import cost_table, node_cost_per_year
from assess.sizing.features import lookback_window
from assess.sizing.idle import IdleDetector
from assess.sizing.instancetypes import load_instancetypes, smallest_fitting
from assess.sizing.overhead import cpu_request_cores, memory_overhead_mib, memory_request_mib
from assess.sizing.packing import anti_affinity_groups, place_vms
from assess.sizing.params import SizingParams
from assess.sizing.preferences import choose_preferences, load_preferences
from assess.sizing.profiles import WorkloadProfiler
from assess.sizing.rightsize import RightSizer
from assess.sizing.storage import disk_pvcs, storage_totals

SIZING_COLUMNS = [
    "vm_id", "mode", "vcpus", "memory_mib", "confidence", "confidence_reason", "idle", "idle_evidence",
    "profile", "instancetype", "preference", "cpu_request_cores", "memory_request_mib", "overhead_mib",
    "pod_memory_mib", "storage_gib", "node", "node_profile", "excluded_reason",
    # what the VM gets and why
    "series", "guest_vcpus", "guest_memory_mib", "instancetype_reason", "preference_reason",
]
VFIO_KINDS = {"pci_passthrough", "vgpu", "sriov_nic"}


def size_estate(
    estate: Estate, readiness: pd.DataFrame | None = None, params: SizingParams | None = None
) -> StageResult:
    """Size every VM of ``estate`` for KubeVirt and pack the estate onto the cheapest nodes.

    Args:
        estate: the canonical estate (vms, disks, devices, nics, hosts, utilization, affinity_rules).
        readiness: the readiness table; ``verdict == "excluded"`` VMs are not placed, and its
            ``firmware`` / ``needs_vtpm`` columns take precedence over the inventory's.
        params: sizing parameters (defaults when ``None``).

    Returns:
        Tables ``sizing`` (one row per VM), ``nodes``, ``storage`` (per storage class),
        ``pvcs`` (per disk), ``packing_runs`` (each heuristic per node profile) and ``cost``.
    """
    params = params or SizingParams()
    result = StageResult()
    vms = estate["vms"]
    rightsizing = params.rightsizing
    stats, end = _stats(estate, rightsizing.lookback_days, rightsizing.lookback_end)
    if stats.empty and rightsizing.mode == "performance":
        rightsizing = rightsizing.model_copy(update={"mode": "as_is"})
        result.warn("sizing.no_utilization", "no utilization samples in the estate: every VM sized as "
                    "allocated (as_is)", source="sizing", table="utilization")
    sizer = RightSizer.from_params(rightsizing.model_copy(update={"lookback_end": end}))
    sizer = sizer.fit_stats(stats, vms, estate["hosts"])
    for w in sizer.warnings_.to_dict("records"):
        result.warn(w["code"], w["message"], source="sizing", table=w["table"], row=w["row"],
                    column=w["column"])
    sized = vms[["vm_id"]].merge(sizer.sizes_, on="vm_id", how="left")
    if rightsizing.lookback_end is not None:  # idle detection's window ends at the latest sample
        stats = _stats(estate, rightsizing.lookback_days, None)[0]
    idle, features = _idle(vms, stats, params)
    sized = sized.merge(idle, on="vm_id", how="left")
    sized = sized.merge(_profiles(features, sizer.sizes_, params), on="vm_id", how="left")
    sized["excluded_reason"] = _excluded(vms, readiness, sized, params)

    k = params.kubevirt
    prefs = choose_preferences(vms, load_preferences(k.preferences_file), _column(readiness, "firmware"))
    sized = sized.merge(prefs, on="vm_id", how="left")
    want_vcpus = np.maximum(sized["vcpus"].astype(float), sized["pref_min_vcpus"].astype(float))
    want_memory = np.maximum(sized["memory_mib"].astype(float), sized["pref_min_memory_mib"].astype(float))
    sized["series"] = _series(vms, sized["profile"], want_vcpus, want_memory, params)
    fit = smallest_fitting(
        pd.DataFrame({"vm_id": sized["vm_id"], "vcpus": want_vcpus, "memory_mib": want_memory,
                      "series": sized["series"]}),
        load_instancetypes(k.instancetypes_file), k.series_fallbacks,
    )
    sized = sized.merge(fit, on="vm_id", how="left")
    raised = (want_vcpus > sized["vcpus"]) | (want_memory > sized["memory_mib"])
    sized["instancetype_reason"] = sized["instancetype_reason"].where(
        ~raised, sized["instancetype_reason"] + "; raised to the preference's minimum")
    _resources(sized, estate, readiness, want_vcpus, want_memory, params)

    pvcs = disk_pvcs(estate["disks"], vms, k)
    sized["storage_gib"] = sized["vm_id"].map(pvcs.groupby("vm_id")["pvc_gib"].sum()).fillna(0.0)
    placed, nodes, runs, packing_summary = _place(sized, estate, params)
    sized = sized.merge(placed, on="vm_id", how="left")
    sized["excluded_reason"] = sized["excluded_reason"].fillna(sized["unplaced_reason"])
    sizing = conform("sizing", sized[SIZING_COLUMNS])
    kept = sizing.loc[sizing["excluded_reason"].isna(), "vm_id"]
    storage = storage_totals(pvcs[pvcs["vm_id"].isin(kept)], k)
    cost = cost_table(estate["hosts"], nodes, params.packing.node_profiles, params.cost)
    result.tables = {"sizing": sizing, "nodes": nodes, "storage": storage, "pvcs": pvcs,
                     "packing_runs": runs, "cost": cost}
    result.summary = _summary(sizing, nodes, storage, cost, packing_summary)
    result.params = params.model_dump(mode="json")
    return result


def _column(frame: pd.DataFrame | None, name: str) -> pd.Series | None:
    if frame is None or name not in frame:
        return None
    return frame.set_index("vm_id")[name]


def _stats(estate: Estate, lookback_days: float, end) -> tuple[pd.DataFrame, pd.Timestamp | None]:
    """The per-VM stats table over the lookback window, and the window's end.

    Computed once for right-sizing and idle detection: by DuckDB over the estate's
    ``utilization_files`` (out of core), else in pandas from ``estate["utilization"]``.
    """
    if estate.utilization_files:
        if not estate["utilization"].empty:
            raise AssessError("sizing: utilization both in memory and in files; write them into one Parquet "
                              "file first (assess.model.estate.write_utilization)")
        stats = file_stats(estate.utilization_files, lookback_days, end, memory_limit=DUCKDB_MEMORY_LIMIT)
        return stats, end if end is not None else (stats["last"].max() if len(stats) else None)
    utilization = estate["utilization"]
    end = lookback_window(utilization, lookback_days, end)[1]
    return frame_stats(utilization, lookback_days, end), end


def _idle(vms: pd.DataFrame, stats: pd.DataFrame, params: SizingParams
          ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    if stats.empty:
        return pd.DataFrame({"vm_id": vms["vm_id"], "idle": False,
                             "idle_evidence": "no utilization samples: no verdict"}), None
    detector = IdleDetector.from_params(params.idle, params.rightsizing.lookback_days).fit_stats(stats, vms)
    return detector.idle_[["vm_id", "idle", "idle_evidence"]], detector.features_


def _profiles(features: pd.DataFrame | None, sizes: pd.DataFrame, params: SizingParams) -> pd.DataFrame:
    if features is None or features.empty:
        return pd.DataFrame({"vm_id": sizes["vm_id"], "profile": pd.NA}).astype({"profile": "string"})
    profiler = WorkloadProfiler(**params.profiles.model_dump(), series=params.kubevirt)
    return profiler.fit(features, sizes).profiles_[["vm_id", "profile"]]


def _excluded(vms: pd.DataFrame, readiness, sized: pd.DataFrame, params: SizingParams) -> pd.Series:
    reason = pd.Series(pd.NA, index=sized.index, dtype="string")
    if readiness is not None and "verdict" in readiness:
        r = readiness.set_index("vm_id")
        excluded = sized["vm_id"].map(r["verdict"]).eq("excluded").fillna(False)
        why = sized["vm_id"].map(r["excluded_reason"]) if "excluded_reason" in r else None
        text = ("excluded by readiness: " + why.fillna("no reason given")) if why is not None else (
            "excluded by readiness")
        reason = reason.mask(excluded.to_numpy(dtype=bool), text)
    else:
        flags = vms.set_index("vm_id")
        template = sized["vm_id"].map(flags["template"]).fillna(False).astype(bool)
        placeholder = sized["vm_id"].map(flags["srm_placeholder"]).fillna(False).astype(bool)
        reason = reason.mask(template, "template: not a running VM").mask(
            placeholder, "SRM placeholder: the protected VM is sized at its own site")
    if params.idle.exclude_idle:
        idle = sized["idle"].fillna(False).astype(bool) & reason.isna()
        reason = reason.mask(idle, "idle: retire candidate (" + sized["idle_evidence"].fillna("") + ")")
    return reason


def _series(vms: pd.DataFrame, profile: pd.Series, vcpus: pd.Series, memory: pd.Series,
            params: SizingParams) -> pd.Series:
    """Series by policy: latency-sensitive -> cx1; memory-bound (ratio or profile) -> m1; else u1/o1."""
    k = params.kubevirt
    latency = vms["latency_sensitivity"].astype("string").str.lower().eq("high").fillna(False).to_numpy()
    heavy = (memory / 1024 / vcpus.clip(lower=1) >= params.profiles.memory_bound_gib_per_vcpu).to_numpy()
    heavy = heavy | profile.astype("string").eq("memory-bound").fillna(False).to_numpy(dtype=bool)
    default = k.overcommit_series if k.use_overcommit_series else k.default_series
    series = np.where(latency, k.latency_sensitive_series, np.where(heavy, k.memory_heavy_series, default))
    return pd.Series(series, index=vcpus.index, dtype="string")


def _resources(sized, estate, readiness, want_vcpus, want_memory, params: SizingParams) -> None:
    """Guest size, requests and KubeVirt overhead per VM (in place)."""
    k = params.kubevirt
    table = load_instancetypes(k.instancetypes_file).set_index("name")
    known = sized["instancetype"].notna().to_numpy()
    names = sized["instancetype"].fillna("u1.nano")
    dedicated = np.where(known, names.map(table["dedicated_cpu"]).to_numpy(dtype=bool), False)
    isolate = np.where(known, names.map(table["isolate_emulator_thread"]).to_numpy(dtype=bool), False)
    overcommit = np.where(known, names.map(table["memory_overcommit_percent"]).to_numpy(dtype=float), 0)
    sized["guest_vcpus"] = np.where(known, sized["it_vcpus"], np.ceil(want_vcpus))
    sized["guest_memory_mib"] = np.where(known, sized["it_memory_mib"], np.ceil(want_memory))
    devices = estate["devices"]
    vfio_ids = set(devices.loc[devices["kind"].isin(VFIO_KINDS), "vm_id"]) | set(
        estate["nics"].loc[estate["nics"]["adapter"].astype("string").str.lower().eq("sriov").fillna(False),
                           "vm_id"])
    vtpm_ids = set(devices.loc[devices["kind"].eq("vtpm"), "vm_id"])
    needs_vtpm = _column(readiness, "needs_vtpm")
    if needs_vtpm is not None:
        vtpm_ids |= set(needs_vtpm[needs_vtpm.fillna(False).astype(bool)].index)
    request = memory_request_mib(sized["guest_memory_mib"].to_numpy(dtype=float), overcommit)
    sized["memory_request_mib"] = request
    sized["overhead_mib"] = memory_overhead_mib(
        request, sized["guest_vcpus"].to_numpy(dtype=float).astype(int), graphics=k.graphics,
        vfio=sized["vm_id"].isin(vfio_ids).to_numpy(), vtpm=sized["vm_id"].isin(vtpm_ids).to_numpy(),
        dedicated_cpu=dedicated, ratio=k.additional_guest_memory_overhead_ratio,
    )
    sized["pod_memory_mib"] = sized["memory_request_mib"] + sized["overhead_mib"]
    sized["cpu_request_cores"] = cpu_request_cores(
        sized["guest_vcpus"].to_numpy(dtype=float), dedicated_cpu=dedicated, isolate_emulator_thread=isolate,
        cpu_allocation_ratio=k.cpu_allocation_ratio,
    )


def _place(sized: pd.DataFrame, estate: Estate, params: SizingParams):
    p = params.packing
    todo = sized[sized["excluded_reason"].isna()].reset_index(drop=True)
    packable = todo.assign(vcpus=todo["guest_vcpus"])
    groups = anti_affinity_groups(estate["affinity_rules"], todo["vm_id"]) if p.respect_anti_affinity else []
    costs = {prof.name: node_cost_per_year(prof, params.cost) for prof in p.node_profiles}
    placement = place_vms(packable, p, costs, groups)
    return placement.vm_node, placement.nodes, placement.runs, placement.summary


def _summary(sizing, nodes, storage, cost, packing_summary) -> dict:
    placed = sizing["node"].notna()
    workload = nodes[nodes["role"].eq("workload")] if len(nodes) else nodes
    totals = cost[cost["item"].eq("total")].set_index("side")["annual_cost"]
    return {
        "vms": len(sizing),
        "placed": int(placed.sum()),
        "excluded": int(sizing["excluded_reason"].notna().sum()),
        "idle": int(sizing["idle"].fillna(False).sum()),
        "explicit_resources": int((sizing["instancetype"].isna() & sizing["excluded_reason"].isna()).sum()),
        **packing_summary,
        "cpu_fill": float(workload["cpu_fill"].mean()) if len(workload) else 0.0,
        "memory_fill": float(workload["memory_fill"].mean()) if len(workload) else 0.0,
        "storage_requested_gib": float(storage["requested_gib"].sum()),
        "storage_raw_gib": float(storage["raw_gib"].sum()),
        "cost_current_per_year": float(totals.get("current", 0.0)),
        "cost_target_per_year": float(totals.get("target", 0.0)),
    }
