"""The waves stage's result tables, written from the final plan."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import networkx as nx
import pandas as pd

from assess.model import Estate
from assess.model.results import StageResult
from assess.waves.calendar import first_window, wave_calendar
from assess.waves.dual_running import dual_running_cost
from assess.waves.explain import group_labels, vm_group_reason, wave_reasons
from assess.waves.facts import PRECOPIED, copy_days
from assess.waves.links import HARD, SOFT
from assess.waves.metrics import cross_wave_traffic, group_modularity, wave_lower_bound
from assess.waves.params import WavesParams
from assess.waves.periods import programme_periods
from assess.waves.schedule import WaveAssignment, WaveCaps
from assess.waves.timeline import listing, programme_timeline

WAVE_COLUMNS = ["wave", "kind", "groups", "vms", "warm_vms", "storage_tib", "transfer_gib", "transfer_hours",
                "max_vms", "max_tib", "window_hours", "within_caps", "closed_by",
                "precopy_tib", "precopy_days", "precopy_basis"]
PLAN_FACTS = ["name", "method", "storage_gib", "transfer_gib", "transfer_basis", "precopy_days"]


@dataclass
class Planned:
    """Everything the planner decided, for writing the tables."""

    G: nx.Graph
    Q: nx.Graph
    facts: pd.DataFrame
    groups: list
    group_of: dict
    how_of: dict
    held_by: dict
    plan: WaveAssignment
    greedy: dict
    caps: WaveCaps
    params: WavesParams
    changed: dict
    estate: Estate
    sizing: pd.DataFrame | None = None
    cost: pd.DataFrame | None = None


def build_tables(p: Planned) -> StageResult:
    """``move_groups``, ``group_links``, ``wave_plan``, ``waves``, ``wave_metrics`` and the summary."""
    labels = group_labels(p.G, p.groups)
    reasons = wave_reasons(p.Q, p.plan, p.greedy, labels)
    for gid, text in p.changed.items():
        if gid in reasons:
            reasons[gid] = f"{text}; {reasons[gid]}"
    move_groups = _move_groups(p, labels)
    wave_plan = _wave_plan(p, labels, reasons)
    waves = _wave_table(p.Q, wave_plan, p.plan, p.caps, p.params)
    wave_of = {v: w for v, w in zip(wave_plan["vm_id"], wave_plan["wave"]) if pd.notna(w)}
    metrics, summary = _metrics(p.G, wave_of, wave_plan, waves, p.caps, p.groups)
    timeline, summary["programme"] = programme_timeline(waves, wave_plan, p.estate["vms"], p.params, p.caps)
    dual, summary["dual_running"] = dual_running_cost(timeline, waves, wave_plan, p.sizing, p.estate["hosts"],
                                                      p.cost)
    tables = {"move_groups": move_groups, "group_links": group_links(p.G, p.group_of), "wave_plan": wave_plan,
              "waves": waves, "wave_metrics": metrics, "timeline": timeline, "dual_running": dual}
    tables["programme_periods"], summary["periods"] = programme_periods(waves, timeline, dual, p.params)
    result = StageResult(tables=tables, summary=summary, params=p.params.model_dump(mode="json"))
    _warn_precopy(result, waves, p.params)
    return result


def _warn_precopy(result: StageResult, waves: pd.DataFrame, params: WavesParams) -> None:
    """Waves whose pre-copy starts while earlier waves still copy: they share the link."""
    over = waves[waves["precopy_overlap"]]
    if len(over):
        listed = listing([f"{int(w)} ({d:.1f} d)" for w, d in zip(over["wave"], over["precopy_days"])])
        result.warn("waves.precopy.overlap",
                    f"{len(over)} wave(s) start their warm pre-copy before the earlier waves' copies end "
                    f"(windows {params.cadence_days:g} days apart): {listed}; they share the link, so "
                    "those leads are a floor (raise the bandwidth, lengthen the cadence or cap the warm "
                    "storage per wave)", table="waves")


def _move_groups(p: Planned, labels: dict) -> pd.DataFrame:
    members_of = {gid: m for gid, m, _, _ in p.groups}
    rows = []
    for f in p.facts.itertuples():
        v, gid = f.Index, p.group_of.get(f.Index)
        if gid is None:
            rows.append((v, None, None, None, f.status_reason or "excluded from planning", False))
            continue
        why = vm_group_reason(p.G, v, members_of[gid], p.how_of[v], p.params)
        rows.append((v, gid, labels[gid][0], labels[gid][1], why, bool(p.G.nodes[v].get("shared"))))
    return pd.DataFrame(rows, columns=["vm_id", "group", "group_name", "group_evidence", "group_reason",
                                       "shared_service"]).astype(
        {"vm_id": "string", "group": "string", "group_name": "string", "group_evidence": "string",
         "group_reason": "string", "shared_service": "boolean"})


def _placement(p: Planned, f, gid: str | None, labels: dict, reasons: dict) -> tuple:
    """``(wave, bucket, reason)`` of one VM (a facts row) in the final plan."""
    note = f"; {f.note}" if f.note else ""
    if f.status == "excluded":
        return None, "excluded", f.status_reason + note
    if f.status == "remediate":
        step = f.remediation.split("\n")[0] if f.remediation else "see readiness concerns"
        why = f.status_reason or f"not ready ({f.verdict}, method {f.method})"
        return None, "remediate-first", f"{why}: remediate first ({step}), then re-plan{note}"
    if f.Index in p.held_by:
        return None, "remediate-first", (f"held: hard-linked to not-ready VM(s) {p.held_by[f.Index]} in "
                                         f"group {gid}; moves when they are fixed{note}")
    w = p.plan.wave[gid]
    bucket = ("shared-services" if p.Q.nodes[gid]["shared"]
              else "pilot" if p.plan.basis[gid] == "pilot" else "wave")
    return w, bucket, f"group {gid} '{labels[gid][0]}' in wave {w}: {reasons[gid]}; {f.transfer_note}{note}"


def _wave_plan(p: Planned, labels: dict, reasons: dict) -> pd.DataFrame:
    rows = []
    for f in p.facts.itertuples():
        gid = p.group_of.get(f.Index)
        node = p.G.nodes[f.Index]
        rows.append((f.Index, gid, *_placement(p, f, gid, labels, reasons), node.get("env") or "unknown",
                     node.get("env_source") or ""))
    plan = pd.DataFrame(rows, columns=["vm_id", "group", "wave", "bucket", "reason", "environment",
                                       "environment_source"])
    plan["wave"] = plan["wave"].astype("Int64")
    return plan.merge(p.facts[PLAN_FACTS], left_on="vm_id", right_index=True, how="left")


def group_links(G: nx.Graph, group_of: dict) -> pd.DataFrame:
    """Links between move groups: ``group, other_group`` (sorted pair), summed ``weight``, top ``ports``.

    Counts VM-VM flows (soft, hard and those touching a shared service) whose ends are in
    different groups: the dependency map's edges. O(edges).
    """
    weight: dict = defaultdict(float)
    ports: dict = defaultdict(lambda: defaultdict(float))
    for a, b, d in G.edges(data=True):
        ga, gb = group_of.get(a), group_of.get(b)
        if ga is None or gb is None or ga == gb or d.get("link") not in (SOFT, HARD, "shared"):
            continue
        key = (ga, gb) if ga < gb else (gb, ga)
        w = float(d.get("weight") or 0.0)
        weight[key] += w
        if d.get("port"):
            ports[key][d["port"]] += w
    rows = [(a, b, w, ", ".join(p for p, _ in sorted(ports[(a, b)].items(), key=lambda t: -t[1])[:3]))
            for (a, b), w in sorted(weight.items())]
    return pd.DataFrame(rows, columns=["group", "other_group", "weight", "ports"]).astype(
        {"group": "string", "other_group": "string", "weight": "float64", "ports": "string"})


def _wave_table(Q, wave_plan, plan, caps, params) -> pd.DataFrame:
    waved = wave_plan[wave_plan["wave"].notna()]
    rows = []
    for w, part in waved.groupby("wave", sort=True):
        gids = sorted(set(part["group"]))
        phases = {Q.nodes[g]["phase"] for g in gids}
        kind = ("shared-services" if (part["bucket"] == "shared-services").all() else
                "pilot" if (part["bucket"] == "pilot").all() else
                {frozenset({0}): "dev/test", frozenset({2}): "production"}.get(frozenset(phases), "standard"))
        hours = caps.hours(part["transfer_gib"].sum(), part["transfer_gib"].max())
        tib = part["storage_gib"].sum() / 1024.0
        over = caps.fits(len(part), tib, part["transfer_gib"].sum(), part["transfer_gib"].max())
        rows.append(dict(wave=int(w), kind=kind, groups=len(gids), vms=len(part),
                         warm_vms=int((part["method"] == "warm").sum()), storage_tib=tib,
                         transfer_gib=float(part["transfer_gib"].sum()), transfer_hours=hours,
                         max_vms=caps.max_vms, max_tib=caps.max_tib if math.isfinite(caps.max_tib) else None,
                         window_hours=caps.window_hours,
                         within_caps=over is None, closed_by=plan.closed_by.get(int(w), "") or "",
                         **_precopy(part, caps, params)))
    frame = pd.DataFrame(rows, columns=WAVE_COLUMNS)
    frame = wave_calendar(frame, first_window(params), params.cadence_days, params.window_hours,
                          params.parallel_waves)
    return _precopy_calendar(frame)


def _precopy(part: pd.DataFrame, caps: WaveCaps, params: WavesParams) -> dict:
    """A wave's warm pre-copy: TiB, lead days and what sets the lead (see :mod:`assess.waves.facts`).

    Lead = the longer of its longest VM's lead (``precopy_days``: the ``warm_precopy_days``
    floor or that VM's first full copy at one VM's copy rate) and all its pre-copied disks at
    the wave's copy rate (``caps.aggregate_gbps``: they share the link). 0 without warm VMs.
    """
    warm = part[part["transfer_basis"].isin(PRECOPIED)]
    if warm.empty:
        return dict(precopy_tib=0.0, precopy_days=0.0, precopy_basis="no warm VM pre-copies")
    gib = float(warm["storage_gib"].sum())
    shared = copy_days(gib, caps.aggregate_gbps)
    top = warm.loc[warm["storage_gib"].idxmax()]
    first = copy_days(top["storage_gib"], caps.per_vm_gbps)
    vm = f"VM '{top['name']}': first full copy of {top['storage_gib']:.0f} GiB at {caps.per_vm_gbps:g} Gbit/s"
    if shared > max(first, params.warm_precopy_days):
        basis = (f"{len(warm)} warm VMs' {gib / 1024:.2f} TiB share the wave's copy rate "
                 f"{caps.aggregate_gbps:g} Gbit/s (largest: {vm}, {first:.2f} day(s))")
    elif first > params.warm_precopy_days:
        basis = vm
    else:
        basis = (f"warm_precopy_days floor {params.warm_precopy_days:g} (largest: {vm}, {first:.2f} day(s); "
                 f"all {len(warm)} at the wave's {caps.aggregate_gbps:g} Gbit/s: {shared:.2f} day(s))")
    return dict(precopy_tib=gib / 1024, precopy_days=max(params.warm_precopy_days, first, shared),
                precopy_basis=basis)


def _precopy_calendar(waves: pd.DataFrame) -> pd.DataFrame:
    """``waves`` with ``precopy_start`` (empty without pre-copy) and ``precopy_overlap``.

    ``precopy_overlap``: the pre-copy starts before the copies of earlier windows end (their
    ``transfer_end``; a lead longer than the gap between windows always does), so it shares the
    link with them and its lead is a floor. Waves of one window already share the link through
    their copy rate.
    """
    out = waves.copy()
    if out.empty:
        return out.assign(precopy_start=pd.Series(dtype="datetime64[ns, UTC]"),
                          precopy_overlap=pd.Series(dtype=bool))
    lead = pd.to_timedelta(out["precopy_days"].astype(float), unit="D")
    out["precopy_start"] = (out["start"] - lead).where(out["precopy_days"] > 0)
    busy = out.groupby("start")["transfer_end"].max().sort_index().cummax().shift(1)
    earlier = pd.to_datetime(out["start"].map(busy), utc=True)
    out["precopy_overlap"] = (out["precopy_start"] < earlier).fillna(False).astype(bool)
    return out


def _metrics(G, wave_of, wave_plan, waves, caps, groups) -> tuple[pd.DataFrame, dict]:
    traffic = cross_wave_traffic(G, wave_of)
    waved = wave_plan[wave_plan["wave"].notna()]
    core = waved[waved["bucket"] != "shared-services"]
    bound = wave_lower_bound(len(core), core["storage_gib"].sum() / 1024.0, core["transfer_gib"].sum(), caps)
    bound += int((waved["bucket"] == "shared-services").any())
    modularity = group_modularity(G, [m for _, m, _, sh in groups if not sh])
    rows = [
        ("hard_links_split", traffic["hard_split"], "== 0", traffic["hard_split"] == 0),
        ("cross_wave_share", traffic["share"], "lower is better", True),
        ("cross_wave_weighted", traffic["weighted"], "lower is better", True),
        ("waves_used", len(waves), f">= lower bound {bound}", len(waves) >= bound),
        ("waves_lower_bound", bound, "from the caps", True),
        ("waves_over_cap", int((~waves["within_caps"]).sum()) if len(waves) else 0, "== 0",
         bool(waves["within_caps"].all()) if len(waves) else True),
        ("modularity", modularity, "higher is better", True),
        ("move_groups", len(groups), "", True),
    ]
    metrics = pd.DataFrame(rows, columns=["metric", "value", "target", "ok"]).astype(
        {"metric": "string", "value": "float64", "target": "string", "ok": "boolean"})
    counts = wave_plan["bucket"].value_counts().to_dict()
    summary = {"vms": len(wave_plan), "buckets": {k: int(v) for k, v in counts.items()},
               "waves": len(waves), "waves_lower_bound": bound, "move_groups": len(groups),
               "shared_services": sorted(G.nodes[n]["name"] for n in G.graph["shared_services"] if n in G),
               "hard_links_split": traffic["hard_split"], "cross_wave_share": traffic["share"],
               "cross_wave_weighted": traffic["weighted"], "modularity": modularity,
               "first_wave_start": str(waves["start"].min()) if len(waves) else None,
               "last_wave_end": str(waves["end"].max()) if len(waves) else None}
    return metrics, summary
