"""The sizing stage: right-size, map to KubeVirt, pack onto nodes, price — one row per VM.

``size_estate`` is what the pipeline and notebooks call. Every VM of ``estate["vms"]`` gets a
``sizing`` row with its allocation (``alloc_vcpus``, ``alloc_memory_mib``), its right-sized
size (``vcpus``, ``memory_mib``, ``memory_source``) and its target (``shape``: an
``instancetype`` or ``custom`` explicit resources; ``guest_vcpus``, ``guest_memory_mib``,
``memory_overshoot_pct``). VMs that do not migrate as they are (readiness ``excluded`` or
``not_ready``, strategy ``retire`` or ``retain``, idle) keep their figures but get
``excluded_reason`` and no node unless ``packing.include_unmigrated`` is set; VMs too big for
every node profile get no node and say why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assess.model import AssessError, conform
from assess.model.estate import Estate
from assess.model.results import StageResult
from assess.sizing.cost import cost_table, node_cost_per_year
from assess.sizing.idle import IdleDetector
from assess.sizing.instancetypes import load_instancetypes
from assess.sizing.overhead import cpu_request_cores, memory_overhead_mib, memory_request_mib
from assess.sizing.packing import anti_affinity_groups, place_vms
from assess.sizing.params import SizingParams
from assess.sizing.preferences import choose_preferences, load_preferences
from assess.sizing.profiles import WorkloadProfiler
from assess.sizing.rightsize import RightSizer
from assess.sizing.shapes import capacity_cost, choose_shapes
from assess.sizing.storage import disk_pvcs, storage_totals
from assess.sizing.utilization_stats import file_stats, frame_stats

SIZING_COLUMNS = [
    "vm_id", "mode", "vcpus", "memory_mib", "confidence", "confidence_reason", "idle", "idle_evidence",
    "profile", "instancetype", "preference", "cpu_request_cores", "memory_request_mib", "overhead_mib",
    "pod_memory_mib", "storage_gib", "node", "node_profile", "excluded_reason",
    # what the VM gets and why
    "series", "guest_vcpus", "guest_memory_mib", "instancetype_reason", "preference_reason",
    # allocated today -> right-sized -> target
    "alloc_vcpus", "alloc_memory_mib", "shape", "memory_overshoot_pct", "memory_source", "sizing_reason",
    # measured disk throughput: the waves stage's bound on a warm VM's change rate
    "disk_kbps_p95",
]
#: Readiness verdicts and strategies whose VMs are not packed unless ``include_unmigrated``.
NOT_MIGRATED_VERDICTS = ("not_ready",)
NOT_MIGRATED_STRATEGIES = ("retire", "retain")
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
    stats = _stats(estate, rightsizing)
    if stats.empty and rightsizing.mode == "performance":
        rightsizing = rightsizing.model_copy(update={"mode": "as_is"})
        result.warn("sizing.no_utilization", "no utilization samples in the estate: every VM sized as "
                    "allocated (as_is)", source="sizing", table="utilization")
    sizer = RightSizer.from_params(rightsizing).fit_stats(stats, vms, estate["hosts"])
    for w in sizer.warnings_.to_dict("records"):
        result.warn(w["code"], w["message"], source="sizing", table=w["table"], row=w["row"],
                    column=w["column"])
    sized = vms[["vm_id"]].merge(sizer.sizes_, on="vm_id", how="left")
    idle, features = _idle(vms, stats, sizer.sizes_, params)
    sized = sized.merge(idle, on="vm_id", how="left")
    disk = features["disk_p95"] if features is not None else pd.Series(dtype="float64")
    sized["disk_kbps_p95"] = sized["vm_id"].astype("string").map(disk).astype("float64")
    sized = sized.merge(_profiles(features, sizer.sizes_, params), on="vm_id", how="left")
    sized["excluded_reason"], categories = _excluded(vms, readiness, sized, params)
    sized = _target(sized, vms, readiness, params)
    _resources(sized, estate, readiness, params)

    k = params.kubevirt
    pvcs = disk_pvcs(estate["disks"], vms, k)
    sized["storage_gib"] = sized["vm_id"].map(pvcs.groupby("vm_id")["pvc_gib"].sum()).fillna(0.0)
    placed, nodes, runs, packing_summary = _place(sized, estate, params)
    sized = sized.merge(placed, on="vm_id", how="left")
    too_big = sized["excluded_reason"].isna() & sized["unplaced_reason"].notna()
    categories = categories.mask(too_big.to_numpy(), "too_big")
    sized["excluded_reason"] = sized["excluded_reason"].fillna(sized["unplaced_reason"])
    sizing = conform("sizing", sized[SIZING_COLUMNS])
    kept = sizing.loc[sizing["excluded_reason"].isna(), "vm_id"]
    storage = storage_totals(pvcs[pvcs["vm_id"].isin(kept)], k)
    cost = cost_table(estate["hosts"], nodes, params.packing.node_profiles, params.cost,
                      profiles_given="node_profiles" in params.packing.model_fields_set)
    result.tables = {"sizing": sizing, "nodes": nodes, "storage": storage, "pvcs": pvcs,
                     "packing_runs": runs, "cost": cost}
    result.summary = _summary(sizing, nodes, storage, cost, packing_summary, categories, rightsizing.mode)
    result.params = params.model_dump(mode="json")
    return result


def _column(frame: pd.DataFrame | None, name: str) -> pd.Series | None:
    if frame is None or name not in frame:
        return None
    return frame.set_index("vm_id")[name]


def _stats(estate: Estate, p) -> pd.DataFrame:
    """The per-VM stats table over each VM's lookback window, computed once for sizing and idle.

    By DuckDB over the estate's ``utilization_files`` (out of core, within
    ``p.stats_memory_limit``), else in pandas from ``estate["utilization"]``.
    """
    if estate.utilization_files:
        if not estate["utilization"].empty:
            raise AssessError("sizing: utilization both in memory and in files; write them into one Parquet "
                              "file first (assess.model.estate.write_utilization)")
        return file_stats(estate.utilization_files, p.lookback_days, p.lookback_end,
                          memory_limit=p.stats_memory_limit)
    return frame_stats(estate["utilization"], p.lookback_days, p.lookback_end)


def _idle(vms: pd.DataFrame, stats: pd.DataFrame, sizes: pd.DataFrame, params: SizingParams
          ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    if stats.empty:
        return pd.DataFrame({"vm_id": vms["vm_id"], "idle": False,
                             "idle_evidence": "no utilization samples: no verdict"}), None
    capacity = sizes.set_index("vm_id")
    capacity = capacity["allocated_vcpus"].astype("float64") * capacity["core_mhz"]
    detector = IdleDetector.from_params(params.idle).fit_stats(stats, vms, capacity)
    return detector.idle_[["vm_id", "idle", "idle_evidence"]], detector.features_


def _profiles(features: pd.DataFrame | None, sizes: pd.DataFrame, params: SizingParams) -> pd.DataFrame:
    if features is None or features.empty:
        return pd.DataFrame({"vm_id": sizes["vm_id"], "profile": pd.NA}).astype({"profile": "string"})
    profiler = WorkloadProfiler(**params.profiles.model_dump())
    return profiler.fit(features, sizes).profiles_[["vm_id", "profile"]]


def _excluded(vms: pd.DataFrame, readiness, sized: pd.DataFrame, params: SizingParams
              ) -> tuple[pd.Series, pd.Series]:
    """Why each VM is not packed (NA when it is), and its category for the summary counts.

    Readiness ``excluded`` VMs (templates, placeholders...) are never packed; ``not_ready``,
    ``retire``/``retain`` and idle VMs are left out unless ``packing.include_unmigrated``.
    """
    reason = pd.Series(pd.NA, index=sized.index, dtype="string")
    category = pd.Series(pd.NA, index=sized.index, dtype="string")

    def mark(where, text, name) -> None:
        where = pd.Series(where, index=sized.index).fillna(False).astype(bool) & reason.isna()
        reason[where] = text[where] if isinstance(text, pd.Series) else text
        category[where] = name

    if readiness is not None and "verdict" in readiness:
        r = readiness.set_index("vm_id")
        verdict = sized["vm_id"].map(r["verdict"])
        why = sized["vm_id"].map(r["excluded_reason"]).fillna("no reason given") if "excluded_reason" in r \
            else pd.Series("no reason given", index=sized.index)
        mark(verdict.eq("excluded"), "excluded by readiness: " + why.astype("string"), "excluded")
        if not params.packing.include_unmigrated:
            mark(verdict.isin(NOT_MIGRATED_VERDICTS), "not ready (readiness): not packed until its blockers "
                 "are fixed", "not_ready")
            strategy = sized["vm_id"].map(r["strategy"]) if "strategy" in r else pd.Series(
                pd.NA, index=sized.index)
            for name in NOT_MIGRATED_STRATEGIES:
                mark(strategy.eq(name), f"strategy {name} (readiness): not packed", name)
    else:
        flags = vms.set_index("vm_id")
        mark(sized["vm_id"].map(flags["template"]), "template: not a running VM", "excluded")
        mark(sized["vm_id"].map(flags["srm_placeholder"]),
             "SRM placeholder: the protected VM is sized at its own site", "excluded")
    if params.idle.exclude_idle and not params.packing.include_unmigrated:
        mark(sized["idle"], "idle: retire candidate (" + sized["idle_evidence"].fillna("") + ")", "retire")
    return reason, category


def _target(sized: pd.DataFrame, vms: pd.DataFrame, readiness, params: SizingParams) -> pd.DataFrame:
    """Preference, then the target shape (instancetype or custom) of each VM."""
    k = params.kubevirt
    prefs = choose_preferences(vms, load_preferences(k.preferences_file), _column(readiness, "firmware"))
    sized = sized.merge(prefs, on="vm_id", how="left")
    want_vcpus = np.maximum(sized["vcpus"].astype(float), sized["pref_min_vcpus"].astype(float))
    want_memory = np.maximum(sized["memory_mib"].astype(float), sized["pref_min_memory_mib"].astype(float))
    latency = sized["vm_id"].map(vms.set_index("vm_id")["latency_sensitivity"]).astype("string").str.lower()
    series = " ".join(dict.fromkeys([*k.allowed_series, *([k.overcommit_series] if k.use_overcommit_series
                                                            else [])]))
    table = load_instancetypes(k.instancetypes_file)
    node = params.packing.node_profiles[0]
    cost = capacity_cost(table, node.threads if node.count_threads else node.cores, node.memory_mib,
                         params.packing.cpu_overcommit)
    demand = pd.DataFrame({
        "vm_id": sized["vm_id"], "vcpus": want_vcpus, "memory_mib": want_memory,
        "max_vcpus": sized["allocated_vcpus"].astype("float64").fillna(want_vcpus),
        "series": np.where(latency.eq("high").fillna(False), k.latency_sensitive_series, series),
    })
    shapes = choose_shapes(demand, table, cost, k.max_memory_overshoot_pct, k.custom_memory_step_mib)
    sized = sized.merge(shapes, on="vm_id", how="left")
    _raised_by_preference(sized, want_vcpus, want_memory)
    sized["alloc_vcpus"], sized["alloc_memory_mib"] = sized["allocated_vcpus"], sized["allocated_memory_mib"]
    return sized


def _raised_by_preference(sized: pd.DataFrame, want_vcpus: pd.Series, want_memory: pd.Series) -> None:
    """Say where the preference's requirements raised the guest above the right size (in place).

    ``memory_overshoot_pct`` is measured against the right-sized memory, so a 2 GiB VM given 4 GiB
    because its preference requires it shows 100%, with the requirement named in the reason.
    """
    vcpus, memory = sized["vcpus"].astype("float64"), sized["memory_mib"].astype("float64")
    want_v = pd.Series(np.asarray(want_vcpus, dtype=float), index=sized.index)
    want_m = pd.Series(np.asarray(want_memory, dtype=float), index=sized.index)
    raised = (want_v > vcpus) | (want_m > memory)
    named = ("; raised to preference " + sized["preference"].astype("string").fillna("?")
             + "'s requirement of " + want_v.map("{:g} vCPU".format) + " / "
             + (want_m / 1024).map("{:g} GiB".format))
    reason = sized["instancetype_reason"]
    sized["instancetype_reason"] = reason.where(~raised, reason + named)
    guest = sized["guest_memory_mib"].astype("float64")
    sized["memory_overshoot_pct"] = ((guest - memory) / memory.clip(lower=1.0) * 100).round(1)


def _resources(sized, estate, readiness, params: SizingParams) -> None:
    """Requests and KubeVirt overhead per VM from its guest size (in place)."""
    k = params.kubevirt
    table = load_instancetypes(k.instancetypes_file).set_index("name")
    known = sized["instancetype"].notna().to_numpy()
    names = sized["instancetype"].fillna(table.index[0])
    dedicated = np.where(known, names.map(table["dedicated_cpu"]).to_numpy(dtype=bool), False)
    isolate = np.where(known, names.map(table["isolate_emulator_thread"]).to_numpy(dtype=bool), False)
    overcommit = np.where(known, names.map(table["memory_overcommit_percent"]).to_numpy(dtype=float), 0)
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


def _totals(sizing: pd.DataFrame) -> dict:
    """Allocated, right-sized and target vCPU / memory (GiB) over every sized VM and the placed ones."""
    out = {}
    for scope, rows in (("all", sizing), ("placed", sizing[sizing["node"].notna()])):
        for label, v, m in (("allocated", "alloc_vcpus", "alloc_memory_mib"),
                            ("right_sized", "vcpus", "memory_mib"),
                            ("target", "guest_vcpus", "guest_memory_mib")):
            out[f"{scope}_{label}_vcpus"] = int(rows[v].fillna(0).sum())
            out[f"{scope}_{label}_memory_gib"] = round(float(rows[m].fillna(0).sum()) / 1024, 1)
    return out


def _summary(sizing, nodes, storage, cost, packing_summary, categories, mode) -> dict:
    placed = sizing["node"].notna()
    workload = nodes[nodes["role"].eq("workload")] if len(nodes) else nodes
    totals = cost[cost["item"].eq("total")].set_index("side")["annual_cost"]
    not_packed = categories.value_counts().to_dict()
    return {
        "vms": len(sizing),
        "mode": mode,
        "placed": int(placed.sum()),
        "excluded": int(sizing["excluded_reason"].notna().sum()),
        "not_packed": {k: int(not_packed.get(k, 0)) for k in
                       ("excluded", "not_ready", "retire", "retain", "too_big")},
        "idle": int(sizing["idle"].fillna(False).sum()),
        "explicit_resources": int((sizing["shape"].eq("custom") & sizing["excluded_reason"].isna()).sum()),
        "custom_shapes": int(sizing["shape"].eq("custom").sum()),
        **_totals(sizing),
        **packing_summary,
        "cpu_fill": float(workload["cpu_fill"].mean()) if len(workload) else 0.0,
        "memory_fill": float(workload["memory_fill"].mean()) if len(workload) else 0.0,
        "storage_requested_gib": float(storage["requested_gib"].sum()),
        "storage_raw_gib": float(storage["raw_gib"].sum()),
        "cost_current_per_year": float(totals.get("current", np.nan)),
        "cost_target_per_year": float(totals.get("target", np.nan)),
        "cost_not_given": {side: sorted(rows["item"]) for side, rows in
                           cost[cost["input"].eq("not given")].groupby("side")},
    }
