"""The waves stage: dependency graph -> move groups -> waves -> calendar, every VM explained."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from assess.model import AssessError, Estate
from assess.model.results import StageResult
from assess.waves.calendar import wave_calendar
from assess.waves.graph import dependency_graph, resolve_vms
from assess.waves.groups import hard_components, keep_apart_violations, move_groups, quotient_graph
from assess.waves.improve import improve_waves
from assess.waves.links import HARD, SOFT
from assess.waves.metrics import cross_wave_traffic, group_modularity, wave_lower_bound
from assess.waves.params import WavesParams
from assess.waves.schedule import WaveCaps, assign_waves

READY_NOTE = "readiness not assessed: assumed ready, cold migration"


def vm_facts(estate: Estate, readiness: pd.DataFrame | None, sizing: pd.DataFrame | None,
             params: WavesParams) -> pd.DataFrame:
    """Per VM (index vm_id): name, verdict, method, effort, storage and in-window transfer GiB, status.

    ``status`` is ``plan``, ``remediate`` (not ready or blocked) or ``excluded``, with
    ``status_reason``. Storage: sizing ``storage_gib``, else the disks' capacity, else the
    VM's provisioned storage. Warm VMs copy ``warm_delta_fraction`` of it inside the window.
    """
    vms = estate["vms"].set_index("vm_id")
    out = pd.DataFrame({"name": vms["name"].astype(str)}, index=vms.index)
    if readiness is None:
        out["verdict"], out["method"], out["effort"], out["note"] = "ready", "cold", 1, READY_NOTE
        out["remediation"], out["excluded_reason"] = "", ""
    else:
        r = readiness.drop_duplicates("vm_id").set_index("vm_id").reindex(out.index)
        out["verdict"] = r["verdict"].astype(object).where(r["verdict"].notna(), "unknown")
        out["method"] = r["method"].astype(object).where(r["method"].notna(), "cold")
        out["effort"] = pd.to_numeric(r.get("effort"), errors="coerce") if "effort" in r else np.nan
        out["note"] = np.where(r["verdict"].isna(), "no readiness row for this VM: treated as unknown", "")
        out["remediation"] = r.get("remediation", pd.Series("", index=r.index)).fillna("").astype(str)
        out["excluded_reason"] = r.get("excluded_reason", pd.Series("", index=r.index)).fillna("").astype(str)
    disks = estate["disks"].groupby("vm_id")["capacity_mib"].sum(min_count=1) / 1024.0
    storage = disks.reindex(out.index).fillna(vms["provisioned_mib"] / 1024.0)
    if sizing is not None and "storage_gib" in sizing:
        sized = sizing.drop_duplicates("vm_id").set_index("vm_id")["storage_gib"].reindex(out.index)
        storage = sized.astype(float).fillna(storage)
    out["storage_gib"] = storage.astype(float).fillna(0.0).to_numpy()
    warm = (out["method"] == "warm").to_numpy()
    out["transfer_gib"] = np.where(warm, out["storage_gib"] * params.warm_delta_fraction, out["storage_gib"])
    blocked = (out["verdict"] == "not_ready") | (out["method"] == "blocked")
    out["status"] = np.where(out["verdict"] == "excluded", "excluded", np.where(blocked, "remediate", "plan"))
    return out


def _group_reason(G: nx.Graph, v: str, members: set[str], how: str, params: WavesParams) -> str:
    """Why VM ``v`` is in its group: the hard links, else its strongest soft link in the group."""
    name = G.nodes[v]["name"]
    hard, soft = [], None
    for peer, d in G[v].items():
        if peer not in members:
            continue
        if d.get("link") == HARD:
            for r in d.get("hard_reasons", []):
                hard.append(f"{r} with {G.nodes[peer]['name']}" if r.startswith("database") else r)
        elif d.get("link") == SOFT and (soft is None or d["weight"] > soft[1]["weight"]):
            soft = (peer, d)
    parts = []
    if G.nodes[v].get("shared"):
        parts.append(G.nodes[v]["shared"])
    if hard:
        uniq = list(dict.fromkeys(hard))
        more = f" (+{len(uniq) - 3} more)" if len(uniq) > 3 else ""
        parts.append("hard: " + "; ".join(uniq[:3]) + more)
    if soft is not None and how in ("community", "split"):
        peer, d = soft
        parts.append(f"soft: most traffic with {G.nodes[peer]['name']} ({d.get('port')}, weight "
                     f"{d['weight']:.3g}); Louvain community")
    if how == "split":
        parts.append(f"community split at its weakest links (max_group_vms={params.max_group_vms} or a "
                     "keep-apart rule or pins)")
    if not parts:
        parts.append(f"{name}: no hard or soft links to other VMs; a group of its own")
    return "; ".join(parts)


def _named_groups(G: nx.Graph, facts: pd.DataFrame, params: WavesParams, vm_pins: dict) -> list[tuple]:
    """``(group id, members, how, shared)``: shared-service groups ``s..``, then ``g..`` by size."""
    nodes = [v for v in facts.index[facts["status"] != "excluded"]]
    comps = hard_components(G, nodes)
    shared_comps = [c for c in comps if any(G.nodes[v].get("shared") for v in c)]
    shared_members = set().union(*shared_comps) if shared_comps else set()
    rest = [v for v in nodes if v not in shared_members]
    found = move_groups(G, rest, resolution=params.resolution, max_size=params.max_group_vms,
                        seed=params.seed, pins=vm_pins, resolution_vms=params.resolution_vms)
    def key(members: set[str]) -> tuple:
        return (-len(members), min(G.nodes[v]["name"] for v in members))

    out = [(f"s{i:03d}", c, "hard" if len(c) > 1 else "single", True)
           for i, c in enumerate(sorted(shared_comps, key=key), start=1)]
    out += [(f"g{i:04d}", m, how, False)
            for i, (m, how) in enumerate(sorted(found, key=lambda t: key(t[0])), start=1)]
    return out


def _part_sizes(G: nx.Graph, facts: pd.DataFrame, parts: list[set[str]]) -> pd.DataFrame:
    """Per part (in order): storage and in-window GiB, largest copy, environments, low risk. O(VMs)."""
    vms = [v for part in parts for v in part]
    f = facts.loc[vms]
    f = f[["storage_gib", "transfer_gib"]].assign(
        part=np.repeat(np.arange(len(parts)), [len(p) for p in parts]),
        low_risk=((f["verdict"] == "ready") & (f["effort"].fillna(1) <= 2)).to_numpy(),
        prod=[G.nodes[v]["env"] == "prod" for v in vms],
        nonprod=[G.nodes[v]["env"] == "nonprod" for v in vms])
    return f.groupby("part", sort=True).agg(
        storage_gib=("storage_gib", "sum"), transfer_gib=("transfer_gib", "sum"),
        max_gib=("transfer_gib", "max"), max_storage_gib=("storage_gib", "max"),
        low_risk=("low_risk", "all"), prod=("prod", "any"), nonprod=("nonprod", "all"))


def plan_waves(estate: Estate, readiness: pd.DataFrame | None = None, sizing: pd.DataFrame | None = None,
               params: WavesParams | None = None) -> StageResult:
    """Plan migration waves: tables ``move_groups``, ``wave_plan``, ``waves``, ``wave_metrics``.

    Every VM of ``estate["vms"]`` gets one ``wave_plan`` row: in a wave (bucket
    ``shared-services``, ``pilot`` or ``wave``), or in ``remediate-first`` (not ready, or
    hard-linked to a VM that is) or ``excluded`` with the reason. See :mod:`assess.waves`.
    """
    params = params or WavesParams()
    result = StageResult()
    G = dependency_graph(estate, params)
    facts = vm_facts(estate, readiness, sizing, params)
    vm_pin_keys = [k for k in params.pins if k in set(facts.index) or k in set(facts["name"])]
    pinned_ids = resolve_vms(vm_pin_keys, estate["vms"], "pins")
    vm_pins = dict(zip(pinned_ids, (params.pins[k] for k in vm_pin_keys)))
    groups = _named_groups(G, facts, params, vm_pins)
    group_ids = {gid for gid, *_ in groups}
    unknown = [k for k in params.pins if k not in vm_pin_keys and k not in group_ids]
    if unknown:
        raise AssessError(f"waves parameter pins: {unknown[0]!r} is neither a VM nor a group id "
                          f"(groups are named g0001.., s001..); fix or remove the pin")
    for r, clash in keep_apart_violations(G, [m for _, m, _, _ in groups]):
        result.warn("waves.keep_apart.hard", f"keep_apart[{r}]: VMs {sorted(clash)} are hard-linked "
                    "(same application, disk or affinity rule) and must move together; rule not honoured",
                    table="waves")

    # hold the hard components of not-ready VMs: moving part of one would split a hard link
    status = facts["status"].to_dict()
    held_by: dict[str, str] = {}
    for comp in hard_components(G, [v for v in facts.index if status[v] != "excluded"]):
        blockers = sorted(facts.loc[v, "name"] for v in comp if status[v] == "remediate")
        if blockers:
            for v in comp:
                if status[v] == "plan":
                    held_by[v] = ", ".join(blockers[:3]) + (" ..." if len(blockers) > 3 else "")

    caps = WaveCaps.from_params(params)
    group_of, how_of, parts, part_ids = {}, {}, [], []
    for gid, members, how, shared in groups:
        for v in members:
            group_of[v], how_of[v] = gid, how
        movable = {v for v in members if status[v] == "plan" and v not in held_by}
        if movable:
            parts.append(movable)
            part_ids.append((gid, shared))
    Q = quotient_graph(G, parts, links=(SOFT, HARD))
    Q = nx.relabel_nodes(Q, {i: gid for i, (gid, _) in enumerate(part_ids)})
    apart = {v: r for r, rule in enumerate(G.graph["keep_apart"]) for v in rule}
    for (gid, shared), part, row in zip(part_ids, parts, _part_sizes(G, facts, parts).itertuples()):
        phase = 2 if row.prod else (0 if row.nonprod else 1)
        pins = {vm_pins[v] for v in part if v in vm_pins}
        pins |= {params.pins[gid]} if gid in params.pins else set()
        if len(pins) > 1:
            raise AssessError(f"waves parameter pins: group {gid} holds hard-linked VMs pinned to different "
                              f"waves {sorted(pins)}; pin them to one wave")
        Q.add_node(gid, vms=len(part), tib=row.storage_gib / 1024.0, gib=row.transfer_gib,
                   max_gib=row.max_gib, phase=phase, shared=shared, pin=next(iter(pins), None),
                   apart=frozenset(apart[v] for v in part if v in apart),
                   pilot=bool(row.low_risk and phase != 2 and not shared
                              and len(part) <= params.pilot_max_group_vms
                              and row.max_storage_gib <= params.pilot_max_gib))
    if params.database_links == "soft":
        Q.graph["before"] = sorted({(group_of[d["db_server"]], group_of[b if d["db_server"] == a else a])
                                    for a, b, d in G.edges(data=True)
                                    if d.get("db_server") and a in group_of and b in group_of
                                    and group_of[a] != group_of[b] and group_of[a] in Q and group_of[b] in Q})
    plan = assign_waves(Q, caps, pilot_vms=params.pilot_vms, shared_wave=params.shared_services_wave,
                        start_wave=params.start_wave)
    locked = {g for g in Q if Q.nodes[g]["pin"] is not None or Q.nodes[g]["shared"]
              or plan.reason[g].startswith("pilot")}
    better = improve_waves(Q, plan.wave, caps, locked=locked, seed=params.seed)
    for g, w in better.items():
        if w != plan.wave[g]:
            plan.reason[g] += (f"; moved from wave {plan.wave[g]} to {w} by local search "
                               "(less cross-wave traffic)")
    plan.wave = better
    tables = _tables(G, Q, facts, groups, group_of, how_of, held_by, plan, caps, params)
    tables.warnings = result.warnings
    return tables


def _tables(G, Q, facts, groups, group_of, how_of, held_by, plan, caps, params) -> StageResult:
    members_of = {gid: m for gid, m, _, _ in groups}
    shared_of = {gid: sh for gid, _, _, sh in groups}
    rows_g, rows_p = [], []
    wave_of: dict[str, int] = {}
    for f in facts.itertuples():
        v = f.Index
        gid = group_of.get(v)
        shared = bool(G.nodes[v].get("shared"))
        if gid is None:
            why_group = f"excluded from planning: {f.excluded_reason or 'readiness verdict excluded'}"
        else:
            why_group = _group_reason(G, v, members_of[gid], how_of[v], params)
        rows_g.append((v, gid, why_group, shared))
        note = f"; {f.note}" if f.note else ""
        if f.status == "excluded":
            rows_p.append((v, gid, None, "excluded", why_group + note))
        elif f.status == "remediate":
            step = f.remediation.split("\n")[0] if f.remediation else "see readiness concerns"
            rows_p.append((v, gid, None, "remediate-first",
                           f"not ready ({f.verdict}, method {f.method}): remediate first ({step}), "
                           "then re-plan" + note))
        elif v in held_by:
            rows_p.append((v, gid, None, "remediate-first",
                           f"held: hard-linked to not-ready VM(s) {held_by[v]} in group {gid}; moves when "
                           "they are fixed" + note))
        else:
            w = plan.wave[gid]
            wave_of[v] = w
            bucket = "shared-services" if shared_of[gid] else ("pilot" if w == 1 and plan.reason[gid]
                                                                .startswith("pilot") else "wave")
            how = (f"warm: pre-copied ahead of the window, {f.transfer_gib:.0f} of {f.storage_gib:.0f} GiB "
                   "in the window" if f.method == "warm"
                   else f"cold: {f.storage_gib:.0f} GiB copied in the window")
            rows_p.append((v, gid, w, bucket, f"group {gid} in wave {w}: {plan.reason[gid]}; {how}{note}"))
    move_groups = pd.DataFrame(rows_g, columns=["vm_id", "group", "group_reason", "shared_service"])
    wave_plan = pd.DataFrame(rows_p, columns=["vm_id", "group", "wave", "bucket", "reason"])
    wave_plan["wave"] = wave_plan["wave"].astype("Int64")
    wave_plan = wave_plan.merge(facts[["name", "method", "storage_gib", "transfer_gib"]],
                                left_on="vm_id", right_index=True, how="left")
    move_groups = move_groups.astype({"vm_id": "string", "group": "string", "group_reason": "string",
                                      "shared_service": "boolean"})
    waves = _wave_table(Q, wave_plan, plan, caps, params)
    metrics, summary = _metrics(G, Q, wave_of, wave_plan, waves, caps, groups)
    return StageResult(tables={"move_groups": move_groups, "wave_plan": wave_plan, "waves": waves,
                               "wave_metrics": metrics}, summary=summary,
                       params=params.model_dump(mode="json"))


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
        rows.append(dict(wave=int(w), kind=kind, groups=len(gids), vms=len(part),
                         warm_vms=int((part["method"] == "warm").sum()), storage_tib=tib,
                         transfer_gib=float(part["transfer_gib"].sum()), transfer_hours=hours,
                         max_vms=caps.max_vms, max_tib=caps.max_tib, window_hours=caps.window_hours,
                         within_caps=bool(len(part) <= caps.max_vms and tib <= caps.max_tib + 1e-9
                                          and hours <= caps.window_hours + 1e-9),
                         closed_by=plan.closed_by.get(int(w), "") or ""))
    frame = pd.DataFrame(rows, columns=["wave", "kind", "groups", "vms", "warm_vms", "storage_tib",
                                        "transfer_gib", "transfer_hours", "max_vms", "max_tib",
                                        "window_hours", "within_caps", "closed_by"])
    return wave_calendar(frame, params.start, params.cadence_days, params.window_hours)


def _metrics(G, Q, wave_of, wave_plan, waves, caps, groups) -> tuple[pd.DataFrame, dict]:
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
