"""Pack every VM onto worker nodes: best of several heuristics, bounded, improved by CP-SAT.

Dimensions per VM: CPU cores (the larger of vCPUs / cpu_overcommit and the pod CPU request),
pod memory (guest request + KubeVirt overhead, divided by the memory overcommit) and one VM
slot. Node capacity: cores (or threads) and memory minus system and kube reserved, times the
target utilisation; VM slots = max_vms. Then HA spares are added.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from assess.sizing.bounds import lower_bound
from assess.sizing.cpsat import improve
from assess.sizing.heuristics import HEURISTICS, empty_lightest_nodes, relabel
from assess.sizing.params import NodeProfile, Packing

CPU_SCALE = 1000  # millicores
#: Above this many items :func:`pack` packs interleaved chunks of at most this many (each a
#: sample of the whole size mix) and joins them: the heuristics cost O(items x nodes), so one
#: 100,000-item run takes minutes, while each chunk lands at or next to its own bound.
CHUNK_ITEMS = 10_000
DIMENSIONS = ("cpu_cores", "memory_mib", "vms")


@dataclass
class PackOutcome:
    """A packing of integer demand onto identical nodes, with its bound and how it was found."""

    assign: np.ndarray
    bound: dict
    runs: list[dict] = field(default_factory=list)
    method: str = ""
    optimal: bool = False

    @property
    def nodes(self) -> int:
        """Nodes used."""
        return int(self.assign.max()) + 1 if len(self.assign) else 0

    @property
    def gap(self) -> int:
        """Nodes above the lower bound."""
        return self.nodes - self.bound["bound"]


def pack(
    demand: np.ndarray,
    capacity: np.ndarray,
    groups: Sequence[Sequence[int]] = (),
    time_limit: float = 10.0,
    seed: int = 0,
    improve_with_cpsat: bool = True,
    chunk_items: int = CHUNK_ITEMS,
) -> PackOutcome:
    """Best packing of integer ``demand`` (items x dims) into nodes of integer ``capacity``.

    Runs every heuristic in :data:`HEURISTICS`, keeps the best, empties light nodes by local
    search, then, when still above the lower bound, improves with CP-SAT for ``time_limit`` s.
    More than ``chunk_items`` items are packed in chunks (:func:`_pack_chunks`). Every item
    must fit an empty node on its own.
    """
    demand = np.asarray(demand, dtype=np.int64)
    capacity = np.asarray(capacity, dtype=np.int64)
    too_big = np.flatnonzero((demand > capacity).any(axis=1))
    if len(too_big):
        raise ValueError(f"items {too_big[:5].tolist()} are larger than an empty node {capacity.tolist()}")
    bound = lower_bound(demand, capacity, groups)
    outcome = PackOutcome(np.zeros(0, dtype=np.int64), bound)
    if not len(demand):
        outcome.optimal = True
        return outcome
    if len(demand) > chunk_items:
        return _pack_chunks(demand, capacity, groups, bound, time_limit, seed, improve_with_cpsat,
                            chunk_items)
    best = None
    for name, heuristic in HEURISTICS.items():
        start = time.perf_counter()
        assign = relabel(heuristic(demand, capacity, groups))
        outcome.runs.append({"method": name, "nodes": int(assign.max()) + 1,
                             "seconds": time.perf_counter() - start})
        if best is None or assign.max() < best[1].max():
            best = (name, assign)
    name, assign = best
    start = time.perf_counter()
    if assign.max() + 1 > bound["bound"]:
        searched = empty_lightest_nodes(demand, capacity, assign, groups)
        if searched.max() < assign.max():
            name, assign = f"{name}+local_search", searched
    optimal = assign.max() + 1 <= bound["bound"]
    if not optimal and improve_with_cpsat:
        improved, optimal = improve(demand, capacity, assign, bound["bound"], groups, time_limit, seed)
        if improved.max() < assign.max():
            name, assign = f"{name}+cp_sat", improved
    outcome.runs.append({"method": "final", "nodes": int(assign.max()) + 1,
                         "seconds": time.perf_counter() - start + sum(r["seconds"] for r in outcome.runs)})
    outcome.assign, outcome.method, outcome.optimal = assign, name, bool(optimal)
    return outcome


def _pack_chunks(demand: np.ndarray, capacity: np.ndarray, groups: Sequence[Sequence[int]], bound: dict,
                 time_limit: float, seed: int, improve_with_cpsat: bool, chunk_items: int) -> PackOutcome:
    """:func:`pack` on interleaved chunks (items by size, dealt round-robin), joined by local search.

    Chunks use disjoint nodes, so anti-affinity across chunks holds; CP-SAT shares ``time_limit``
    among them. Each heuristic's run is reported summed over the chunks.
    """
    start = time.perf_counter()
    chunks = interleaved_chunks(demand, capacity, chunk_items)
    assign = np.empty(len(demand), dtype=np.int64)
    runs: dict[str, dict] = {}
    nodes = 0
    for items in chunks:
        part = pack(demand[items], capacity, _restrict(groups, items), time_limit / len(chunks), seed,
                    improve_with_cpsat, chunk_items)
        assign[items] = part.assign + nodes
        nodes += part.nodes
        for run in part.runs:
            total = runs.setdefault(run["method"], {"method": run["method"], "nodes": 0, "seconds": 0.0})
            total["nodes"] += run["nodes"]
            total["seconds"] += run["seconds"]
    joined = empty_lightest_nodes(demand, capacity, assign, groups)
    method = f"{len(chunks)} chunks"
    if joined.max() < assign.max():
        method, assign = f"{method}+local_search", joined
    outcome = PackOutcome(assign, bound, [r for r in runs.values() if r["method"] != "final"], method)
    outcome.runs.append({"method": "final", "nodes": outcome.nodes, "seconds": time.perf_counter() - start})
    outcome.optimal = outcome.nodes <= bound["bound"]
    return outcome


def interleaved_chunks(demand: np.ndarray, capacity: np.ndarray, chunk_items: int = CHUNK_ITEMS
                       ) -> list[np.ndarray]:
    """Item positions in chunks of at most ``chunk_items``, dealt round-robin by size (same mix each)."""
    chunks = max(1, -(-len(demand) // chunk_items))
    order = np.argsort(-(demand / capacity).max(axis=1), kind="stable")
    return [np.sort(order[c::chunks]) for c in range(chunks)]


def node_capacity(profile: NodeProfile, params: Packing) -> np.ndarray:
    """Packable capacity of one node: (cpu_cores, memory_mib, vms) as floats."""
    cores = profile.threads if profile.count_threads else profile.cores
    reserved = params.system_reserved_cpu_cores + params.kube_reserved_cpu_cores
    cpu = (cores - reserved) * params.target_utilization
    memory = (profile.memory_mib - params.system_reserved_memory_mib - params.kube_reserved_memory_mib
              ) * params.target_utilization
    return np.array([cpu, memory, profile.max_vms], dtype=float)


def vm_demand(sized: pd.DataFrame, params: Packing) -> np.ndarray:
    """Per-VM packing demand (cpu_cores, memory_mib, vms) from the sizing columns."""
    cpu = np.maximum(sized["vcpus"].to_numpy(dtype=float) / params.cpu_overcommit,
                     sized["cpu_request_cores"].to_numpy(dtype=float))
    memory = sized["pod_memory_mib"].to_numpy(dtype=float) / params.memory_overcommit
    return np.column_stack([cpu, memory, np.ones(len(sized))])


def to_integers(demand: np.ndarray, capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Demand rounded up and capacity rounded down to whole millicores, MiB and VMs."""
    scale = np.array([CPU_SCALE, 1, 1], dtype=float)
    return (np.ceil(demand * scale - 1e-9).astype(np.int64),
            np.floor(capacity * scale + 1e-9).astype(np.int64))


def spare_nodes(workload_nodes: int, params: Packing) -> int:
    """Failover nodes held on top of the workload nodes (N+k or a share, at least the minimum)."""
    if workload_nodes == 0:
        return 0
    if params.ha_reserve == "percent":
        spare = math.ceil(params.ha_percent * workload_nodes - 1e-9)
    else:
        spare = params.ha_spare_nodes
    return max(spare, params.ha_min_failover_nodes)


def anti_affinity_groups(rules: pd.DataFrame, vm_ids: pd.Series) -> list[list[int]]:
    """Item indices of each enabled DRS anti-affinity rule with two or more packed members."""
    if rules.empty:
        return []
    position = {v: i for i, v in enumerate(vm_ids)}
    anti = rules[rules["kind"].eq("vm_anti_affinity") & rules["enabled"].fillna(True).astype(bool)]
    groups = []
    for _, members in anti.groupby(["cluster", "rule"])["member"]:
        items = sorted({position[m] for m in members if m in position})
        if len(items) > 1:
            groups.append(items)
    return groups


@dataclass
class Placement:
    """Where every VM went: per-VM node, the node table and every packing run."""

    vm_node: pd.DataFrame
    nodes: pd.DataFrame
    runs: pd.DataFrame
    summary: dict


def _restrict(groups: Sequence[Sequence[int]], items: np.ndarray) -> list[list[int]]:
    position = {int(i): p for p, i in enumerate(items)}
    return [loc for g in groups if len(loc := [position[i] for i in g if i in position]) > 1]


def place_vms(
    sized: pd.DataFrame,
    params: Packing,
    node_cost: dict[str, float],
    groups: Sequence[Sequence[int]] = (),
) -> Placement:
    """Pack the VMs of ``sized`` onto the cheapest node profile (or a mix), plus HA spares.

    Every profile is tried as the main one; VMs too big for it go to the cheapest profile that
    holds them. The cheapest combination by a quick first-fit pass is then packed in full
    (:func:`pack`). VMs that fit no profile get no node and a reason.

    Args:
        sized: one row per VM to place: ``vm_id, vcpus, cpu_request_cores, pod_memory_mib``.
        params: packing parameters (node profiles, reserves, overcommit, HA).
        node_cost: profile name -> yearly cost of one node.
        groups: anti-affinity groups as row positions in ``sized``.
    """
    demand = vm_demand(sized, params)
    caps = {p.name: to_integers(demand, node_capacity(p, params)) for p in params.node_profiles}
    parts = _cheapest_split(caps, params.node_profiles, node_cost, groups)
    node_of, profile_of, node_rows, run_rows, totals = _pack_parts(parts, caps, demand, params, groups)
    workload = len(node_rows)
    used = [p for p in params.node_profiles if len(parts[p.name])]
    spares = spare_nodes(workload, params)
    if used:
        biggest = max(used, key=lambda p: (p.memory_mib, p.cores))
        for k in range(spares):
            node_rows.append(_node_row(f"{biggest.name}-spare-{k + 1:02d}", biggest.name, "failover",
                                       np.zeros((0, 3)), node_capacity(biggest, params), params))
    unplaced = ~np.isin(np.arange(len(sized)), np.concatenate([*parts.values(), np.zeros(0, int)]))
    vm_node = pd.DataFrame({
        "vm_id": sized["vm_id"].to_numpy(),
        "node": pd.array(np.where(unplaced, None, node_of), dtype="string"),
        "node_profile": pd.array(np.where(unplaced, None, profile_of), dtype="string"),
        "unplaced_reason": pd.array(np.where(
            unplaced, [f"needs {c:.2f} cores and {m:.0f} MiB: larger than every node profile"
                       for c, m in demand[:, :2]], None), dtype="string"),
    })
    nodes = pd.DataFrame(node_rows)
    summary = {
        "workload_nodes": workload, "failover_nodes": spares if used else 0,
        "nodes_by_profile": nodes.groupby("node_profile").size().to_dict() if len(nodes) else {},
        **totals, "unplaced_vms": int(unplaced.sum()),
    }
    return Placement(vm_node, nodes, pd.DataFrame(run_rows), summary)


def _cheapest_split(caps: dict, profiles: list[NodeProfile], node_cost: dict[str, float],
                    groups: Sequence[Sequence[int]]) -> dict[str, np.ndarray]:
    """Item positions per node profile: each profile tried as the main one, the cheapest by first fit.

    VMs too big for the main profile go to the cheapest profile that holds them; VMs that fit
    none are in no part.
    """
    fits = {name: (d <= c).all(axis=1) for name, (d, c) in caps.items()}
    by_cost = sorted(profiles, key=lambda p: node_cost[p.name])
    items = len(next(iter(caps.values()))[0])

    def split(main: NodeProfile) -> dict[str, np.ndarray]:
        owner = np.full(items, "", dtype=object)
        owner[fits[main.name]] = main.name
        for p in by_cost:
            owner[(owner == "") & fits[p.name]] = p.name
        return {p.name: np.flatnonzero(owner == p.name) for p in profiles}

    def quick_cost(parts: dict[str, np.ndarray]) -> float:
        total = 0.0
        for name, members in parts.items():
            d, c = caps[name]
            for chunk in interleaved_chunks(d[members], c) if len(members) else []:
                assign = HEURISTICS["ffd_max"](d[members[chunk]], c, _restrict(groups, members[chunk]))
                total += (assign.max() + 1) * node_cost[name]
        return total

    candidates = [split(p) for p in profiles]
    return candidates[0] if len(candidates) == 1 else min(candidates, key=quick_cost)


def _pack_parts(parts: dict[str, np.ndarray], caps: dict, demand: np.ndarray, params: Packing,
                groups: Sequence[Sequence[int]]):
    """Pack each profile's part in full; node and profile per item, node rows, run rows, bound totals."""
    node_of = np.full(len(demand), "", dtype=object)
    profile_of = np.full(len(demand), "", dtype=object)
    node_rows, run_rows, bounds, gaps, optimal = [], [], 0, 0, True
    by_name = {p.name: p for p in params.node_profiles}
    for name, items in parts.items():
        if not len(items):
            continue
        d, c = caps[name]
        outcome = pack(d[items], c, _restrict(groups, items), params.cpsat_time_limit_s, params.random_state)
        bounds, gaps = bounds + outcome.bound["bound"], gaps + outcome.gap
        optimal = optimal and outcome.optimal
        for run in outcome.runs:
            run_rows.append({"node_profile": name, "vms": len(items), **run,
                             "lower_bound": outcome.bound["bound"], "chosen": run["method"] == "final",
                             "final_method": outcome.method})
        labels = np.array([f"{name}-{k + 1:03d}" for k in range(outcome.nodes)], dtype=object)
        node_of[items], profile_of[items] = labels[outcome.assign], name
        for k, label in enumerate(labels):
            members = items[outcome.assign == k]
            node_rows.append(_node_row(label, name, "workload", demand[members],
                                       node_capacity(by_name[name], params), params))
    totals = {"lower_bound": bounds, "gap_nodes": gaps, "proven_optimal": optimal}
    return node_of, profile_of, node_rows, run_rows, totals


def _node_row(label: str, profile: str, role: str, members: np.ndarray, capacity: np.ndarray,
              params: Packing) -> dict:
    cpu, memory = members[:, 0].sum(), members[:, 1].sum()
    limit = capacity[:2] / params.target_utilization  # allocatable before the fill ceiling
    return {
        "node": label, "node_profile": profile, "role": role, "vms": len(members),
        "cpu_demand_cores": cpu, "cpu_allocatable_cores": limit[0], "cpu_fill": cpu / limit[0],
        "memory_demand_mib": memory, "memory_allocatable_mib": limit[1], "memory_fill": memory / limit[1],
        "max_vms": int(capacity[2]),
    }
