"""Exact wave assignment with OR-Tools CP-SAT, to measure the greedy planner on small cases."""

from __future__ import annotations

import networkx as nx
from ortools.sat.python import cp_model

from assess.waves.schedule import GIB_TO_GBIT, WaveCaps


def optimal_waves(Q: nx.Graph, caps: WaveCaps, weight: str = "weight", max_waves: int | None = None,
                  time_limit_s: float = 10.0, seed: int | None = 0) -> dict:
    """Wave per group minimising (waves used, then weight x waves crossed), under the caps.

    Group attributes as in :mod:`assess.waves.schedule` (``vms``, ``tib``, ``gib``); the
    window is modelled by its aggregate rate (a linear form of :meth:`WaveCaps.hours`).
    Waves are numbered from 1 and used without gaps. Exponential in the worst case: use on
    small graphs (tens of groups). Raises ValueError when no assignment fits the caps.
    """
    nodes = list(Q)
    k = max_waves or len(nodes)
    m = cp_model.CpModel()
    x = {(n, w): m.NewBoolVar(f"x{i}_{w}") for i, n in enumerate(nodes) for w in range(k)}
    used = [m.NewBoolVar(f"used{w}") for w in range(k)]
    wave = {n: m.NewIntVar(0, k - 1, f"wave{i}") for i, n in enumerate(nodes)}
    window_gib = int(caps.window_hours * 3600 * caps.aggregate_gbps / GIB_TO_GBIT)
    for n in nodes:
        m.AddExactlyOne(x[n, w] for w in range(k))
        m.Add(wave[n] == sum(w * x[n, w] for w in range(k)))
    for w in range(k):
        m.Add(sum(Q.nodes[n]["vms"] * x[n, w] for n in nodes) <= caps.max_vms * used[w])
        m.Add(sum(round(Q.nodes[n]["tib"] * 1024) * x[n, w] for n in nodes) <= round(caps.max_tib * 1024))
        m.Add(sum(round(Q.nodes[n]["gib"]) * x[n, w] for n in nodes) <= window_gib)
        if w:
            m.Add(used[w] <= used[w - 1])
    scale = 1000.0 / max((d.get(weight, 0.0) for _, _, d in Q.edges(data=True)), default=1.0)
    terms = []
    for i, (a, b, d) in enumerate(Q.edges(data=True)):
        gap = m.NewIntVar(0, k - 1, f"gap{i}")
        m.AddAbsEquality(gap, wave[a] - wave[b])
        terms.append(round(d.get(weight, 0.0) * scale) * gap)
    big = sum(round(d.get(weight, 0.0) * scale) for _, _, d in Q.edges(data=True)) * k + 1
    m.Minimize(big * sum(used) + sum(terms))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 2
    if seed is not None:
        solver.parameters.random_seed = seed
    status = solver.Solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise ValueError("no wave assignment fits the caps (a group exceeds a cap by itself?)")
    return {n: int(solver.Value(wave[n])) + 1 for n in nodes}
