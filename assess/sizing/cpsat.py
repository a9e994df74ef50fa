"""Exact and large-neighbourhood improvement of a packing with OR-Tools CP-SAT.

Small instances are solved whole, asking "does it fit in one node fewer?" until CP-SAT proves
it does not. Large ones are improved by repacking the items of the k least-filled nodes into
k - 1 nodes, which keeps each model small; both stop at the lower bound or the time limit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from ortools.sat.python import cp_model

from assess.sizing.heuristics import relabel

#: Largest items x nodes model solved whole.
FULL_MODEL_LIMIT = 20_000


def solve_bins(
    demand: np.ndarray,
    capacity: np.ndarray,
    max_nodes: int,
    groups: Sequence[Sequence[int]] = (),
    time_limit: float = 10.0,
    seed: int = 0,
    lower: int = 0,
) -> tuple[np.ndarray | None, str]:
    """Pack ``demand`` into at most ``max_nodes`` nodes (and at least ``lower``), minimising nodes.

    Symmetry is broken by ordering items by size (item i may only use nodes 0..i) and using
    nodes in order. With ``lower == max_nodes`` it is a feasibility question, which CP-SAT
    answers much faster. Returns the assignment (``None`` when none was found) and the status:
    ``optimal``, ``feasible``, ``infeasible`` (proven: fewer nodes than ``lower`` impossible too)
    or ``unknown`` (time ran out).
    """
    n, d = demand.shape
    order = np.argsort(-(demand / capacity).max(axis=1), kind="stable")
    model = cp_model.CpModel()
    used = [model.new_bool_var(f"y{b}") for b in range(max_nodes)]
    x = {}
    for rank, i in enumerate(order):
        for b in range(min(rank + 1, max_nodes)):
            x[i, b] = model.new_bool_var(f"x{i}_{b}")
    for i in range(n):
        model.add_exactly_one(x[i, b] for b in range(max_nodes) if (i, b) in x)
    for b in range(max_nodes):
        members = [i for i in range(n) if (i, b) in x]
        for k in range(d):
            model.add(sum(int(demand[i, k]) * x[i, b] for i in members) <= int(capacity[k]) * used[b])
        if b:
            model.add_implication(used[b], used[b - 1])
        for group in groups:
            in_bin = [x[i, b] for i in set(group) if (i, b) in x]
            if len(in_bin) > 1:
                model.add_at_most_one(in_bin)
    model.add(sum(used) >= lower)
    model.minimize(sum(used))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.random_seed = int(seed)
    solver.parameters.num_workers = 2
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        return None, "infeasible"
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, "unknown"
    assign = np.array([next(b for b in range(max_nodes) if (i, b) in x and solver.value(x[i, b]))
                       for i in range(n)])
    return relabel(assign), "optimal" if status == cp_model.OPTIMAL else "feasible"


def improve(
    demand: np.ndarray,
    capacity: np.ndarray,
    assign: np.ndarray,
    bound: int,
    groups: Sequence[Sequence[int]] = (),
    time_limit: float = 10.0,
    seed: int = 0,
) -> tuple[np.ndarray, bool]:
    """Improve ``assign`` towards ``bound`` within ``time_limit`` seconds.

    Returns the (possibly) better assignment and whether it is proven optimal.
    """
    nodes = int(assign.max()) + 1
    if nodes <= bound:
        return assign, True
    if len(assign) * nodes > FULL_MODEL_LIMIT:
        return _large_neighbourhood(demand, capacity, assign, bound, groups, time_limit, seed), False
    # Ask "does it fit in one node fewer?" until the answer is no (optimal) or time runs out.
    deadline = time.monotonic() + time_limit
    while nodes > bound:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return assign, False
        target = nodes - 1
        found, status = solve_bins(demand, capacity, target, groups, remaining, seed, lower=target)
        if status == "infeasible":
            return assign, True
        if found is None:
            return assign, False
        assign, nodes = found, int(found.max()) + 1
    return assign, True


def _large_neighbourhood(demand, capacity, assign, bound, groups, time_limit, seed) -> np.ndarray:
    rng = np.random.default_rng(seed)
    deadline = time.monotonic() + time_limit
    fill = (demand / capacity).max(axis=1)
    k, stale = 2, 0
    while time.monotonic() < deadline and assign.max() + 1 > bound and stale < 40:
        nodes = int(assign.max()) + 1
        load = np.bincount(assign, weights=fill, minlength=nodes)
        lightest = np.argsort(load)[: max(1, k - 1)]
        others = np.setdiff1d(np.arange(nodes), lightest)
        chosen = np.concatenate([lightest, rng.choice(others, size=min(1, len(others)), replace=False)])
        items = np.flatnonzero(np.isin(assign, chosen))
        sub_groups = _restrict(groups, items)
        remaining = deadline - time.monotonic()
        found, _ = solve_bins(demand[items], capacity, len(chosen) - 1, sub_groups,
                              min(remaining, 2.0), int(rng.integers(1 << 30)), lower=len(chosen) - 1)
        if found is not None:
            new = assign.copy()
            new[items] = nodes + found
            assign, stale = relabel(new), 0
        else:
            stale += 1
            k = 2 + stale % 6
    return assign


def _restrict(groups: Sequence[Sequence[int]], items: np.ndarray) -> list[list[int]]:
    position = {int(i): p for p, i in enumerate(items)}
    out = []
    for group in groups:
        local = [position[i] for i in set(group) if i in position]
        if len(local) > 1:
            out.append(local)
    return out
