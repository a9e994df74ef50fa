"""The waves stage: dependency graph -> move groups -> waves -> calendar, every VM explained."""

from __future__ import annotations

import copy

import networkx as nx
import numpy as np
import pandas as pd

from assess.collect.flows import resolve_flows
from assess.model import AssessError, Estate
from assess.model.results import StageResult
from assess.waves.facts import vm_facts
from assess.waves.graph import dependency_graph, vm_refs
from assess.waves.groups import hard_components, keep_apart_violations, move_groups, quotient_graph
from assess.waves.improve import improve_waves
from assess.waves.links import HARD, SOFT
from assess.waves.params import WavesParams
from assess.waves.schedule import WaveCaps, assign_waves
from assess.waves.stability import carry_over
from assess.waves.tables import Planned, build_tables

NONPROD = ("sandbox", "dev", "test")
__all__ = ["plan_waves", "vm_facts"]


def plan_waves(estate: Estate, readiness: pd.DataFrame | None = None, sizing: pd.DataFrame | None = None,
               params: WavesParams | None = None, previous: pd.DataFrame | None = None) -> StageResult:
    """Plan migration waves: ``move_groups``, ``group_links``, ``wave_plan``, ``waves``, ``wave_metrics``.

    Every VM of ``estate["vms"]`` gets one ``wave_plan`` row: in a wave (bucket
    ``shared-services``, ``pilot`` or ``wave``), or in ``remediate-first`` (not ready, or
    hard-linked to a VM that is) or ``excluded`` (readiness, retire/retain) with the reason.
    ``previous`` (an earlier run's ``wave_plan``) keeps unchanged groups in their ids and waves.
    Flows are resolved against this estate's inventory first (:func:`resolve_flows`). Pure:
    ``estate`` is not changed. See :mod:`assess.waves`.
    """
    params = params or WavesParams()
    result = StageResult()
    estate = _with_resolved_flows(estate, result)
    G = dependency_graph(estate, params)
    facts = vm_facts(estate, readiness, sizing, params)
    vm_pins = _vm_pins(estate, facts, params)
    groups, keep, changed = carry_over(_numbered_groups(G, facts, params, vm_pins), previous)
    _check_rules(G, groups, vm_pins, params, result)
    held_by = _held(G, facts)
    Q, group_of, how_of = _group_graph(G, facts, groups, held_by, vm_pins, params)
    caps = WaveCaps.from_params(params)
    plan = assign_waves(Q, caps, pilot_vms=params.pilot_vms, shared_wave=params.shared_services_wave,
                        start_wave=params.start_wave, keep=keep)
    greedy = dict(plan.wave)
    locked = {g for g in Q if Q.nodes[g]["pin"] is not None or Q.nodes[g]["shared"]
              or plan.basis[g] in ("pilot", "kept")}
    plan.wave = improve_waves(Q, plan.wave, caps, locked=locked, seed=params.seed)
    tables = build_tables(Planned(G=G, Q=Q, facts=facts, groups=groups, group_of=group_of, how_of=how_of,
                                  held_by=held_by, plan=plan, greedy=greedy, caps=caps, params=params,
                                  changed=changed))
    tables.warnings = result.warnings + tables.warnings
    return tables


def _with_resolved_flows(estate: Estate, result: StageResult) -> Estate:
    """A shallow copy of ``estate`` whose flows are resolved against its inventory now."""
    flows, notes = resolve_flows(estate["flows"], estate)
    for note in notes:
        result.warn(note["code"], note["message"], table="flows")
    out = copy.copy(estate)
    out.tables = {**estate.tables, "flows": flows}
    return out


def _vm_pins(estate: Estate, facts: pd.DataFrame, params: WavesParams) -> dict[str, int]:
    ids, names = set(facts.index), set(facts["name"])
    keys = [k for k in params.pins if k in ids or k in names]
    return dict(zip(vm_refs(keys, estate, "pins"), (params.pins[k] for k in keys)))


def _numbered_groups(G: nx.Graph, facts: pd.DataFrame, params: WavesParams, vm_pins: dict) -> list[tuple]:
    """``(group id, members, how, shared)``: shared-service groups ``s..``, then ``g..`` by size."""
    nodes = list(facts.index[facts["status"] != "excluded"])
    comps = hard_components(G, nodes)
    shared_comps = [c for c in comps if any(G.nodes[v].get("shared") for v in c)]
    shared_members = set().union(*shared_comps) if shared_comps else set()
    rest = [v for v in nodes if v not in shared_members]
    found = move_groups(G, rest, resolution=params.resolution, max_size=params.max_group_vms,
                        evidence_weights=params.evidence_weights, seed=params.seed, pins=vm_pins,
                        resolution_vms=params.resolution_vms)

    def key(members: set[str]) -> tuple:
        return (-len(members), min(G.nodes[v]["name"] for v in members))

    out = [(f"s{i:03d}", c, "hard" if len(c) > 1 else "single", True)
           for i, c in enumerate(sorted(shared_comps, key=key), start=1)]
    out += [(f"g{i:04d}", m, how, False)
            for i, (m, how) in enumerate(sorted(found, key=lambda t: key(t[0])), start=1)]
    return out


def _check_rules(G: nx.Graph, groups: list[tuple], vm_pins: dict, params: WavesParams,
                 result: StageResult) -> None:
    """Unknown pins raise; keep-apart rules that hard links defeat are warnings."""
    known = {gid for gid, *_ in groups} | set(vm_pins) | {G.nodes[v]["name"] for v in vm_pins}
    unknown = [k for k in params.pins if k not in known]
    if unknown:
        raise AssessError(f"waves parameter pins: {unknown[0]!r} is neither a VM nor a group id "
                          f"(groups are named g0001.., s001..); fix or remove the pin")
    for r, clash in keep_apart_violations(G, [m for _, m, _, _ in groups]):
        result.warn("waves.keep_apart.hard", f"keep_apart[{r}]: VMs {sorted(clash)} are hard-linked "
                    "(same application, disk or affinity rule) and must move together; rule not honoured",
                    table="waves")


def _held(G: nx.Graph, facts: pd.DataFrame) -> dict[str, str]:
    """VMs held back because a hard-linked VM is not ready: moving part of a hard component splits it."""
    status = facts["status"].to_dict()
    held_by: dict[str, str] = {}
    for comp in hard_components(G, [v for v in facts.index if status[v] != "excluded"]):
        blockers = sorted(facts.loc[v, "name"] for v in comp if status[v] == "remediate")
        if blockers:
            for v in comp:
                if status[v] == "plan":
                    held_by[v] = ", ".join(blockers[:3]) + (" ..." if len(blockers) > 3 else "")
    return held_by


def _part_sizes(G: nx.Graph, facts: pd.DataFrame, parts: list[set[str]]) -> pd.DataFrame:
    """Per part (in order): storage and in-window GiB, largest copy, environments, low risk. O(VMs)."""
    vms = [v for part in parts for v in part]
    f = facts.loc[vms]
    f = f[["storage_gib", "transfer_gib"]].assign(
        part=np.repeat(np.arange(len(parts)), [len(p) for p in parts]),
        low_risk=((f["verdict"] == "ready") & (f["effort"].fillna(1) <= 2)).to_numpy(),
        prod=[G.nodes[v]["env"] == "prod" for v in vms],
        nonprod=[G.nodes[v]["env"] in NONPROD for v in vms])
    return f.groupby("part", sort=True).agg(
        storage_gib=("storage_gib", "sum"), transfer_gib=("transfer_gib", "sum"),
        max_gib=("transfer_gib", "max"), max_storage_gib=("storage_gib", "max"),
        low_risk=("low_risk", "all"), prod=("prod", "any"), nonprod=("nonprod", "all"))


def _group_graph(G: nx.Graph, facts: pd.DataFrame, groups: list[tuple], held_by: dict, vm_pins: dict,
                 params: WavesParams) -> tuple[nx.Graph, dict, dict]:
    """The group graph the scheduler orders (see :mod:`assess.waves.schedule`), group and how per VM."""
    status = facts["status"].to_dict()
    group_of, how_of, parts, part_ids = {}, {}, [], []
    for gid, members, how, shared in groups:
        for v in members:
            group_of[v], how_of[v] = gid, how
        movable = {v for v in members if status[v] == "plan" and v not in held_by}
        if movable:
            parts.append(movable)
            part_ids.append((gid, shared))
    Q = nx.relabel_nodes(quotient_graph(G, parts, links=(SOFT, HARD)),
                         {i: gid for i, (gid, _) in enumerate(part_ids)})
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
    return Q, group_of, how_of
