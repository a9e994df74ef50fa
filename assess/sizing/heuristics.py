"""Vector bin packing heuristics over integer demand (items x dimensions) and node capacity.

Item-centric first-fit decreasing under several size measures, and the bin-centric ("node
first") dot-product and L2 heuristics of Panigrahy, Talwar, Uyeda and Wieder, "Heuristics for
Vector Bin Packing" (Microsoft Research, 2011). Sizes are normalised by capacity to rank items;
fit tests use the exact integers. Each function returns the node index of every item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from assess.sizing.bounds import lower_bound


def _conflict_matrix(n_items: int, groups: Sequence[Sequence[int]]) -> list[np.ndarray]:
    """Item -> indices of its anti-affinity groups."""
    member: list[list[int]] = [[] for _ in range(n_items)]
    for g, items in enumerate(groups):
        for i in set(items):
            member[i].append(g)
    return [np.asarray(m, dtype=np.int64) for m in member]


def size_measures(demand: np.ndarray, capacity: np.ndarray) -> dict[str, np.ndarray]:
    """Scalar sizes used to order items: largest, sum, L2 norm and product of normalised sizes."""
    norm = demand / capacity
    return {
        "max": norm.max(axis=1),
        "sum": norm.sum(axis=1),
        "l2": np.sqrt((norm**2).sum(axis=1)),
        "product": np.prod(norm, axis=1),
    }


def first_fit_decreasing(
    demand: np.ndarray, capacity: np.ndarray, key: np.ndarray, groups: Sequence[Sequence[int]] = ()
) -> np.ndarray:
    """First-fit decreasing: items by ``key`` descending, each into the first node it fits.

    O(n * nodes * d), vectorised over nodes.
    """
    n, d = demand.shape
    residual = np.empty((n, d), dtype=demand.dtype)
    taken = np.zeros((n, max(len(groups), 1)), dtype=bool)
    member = _conflict_matrix(n, groups)
    assign = np.full(n, -1, dtype=np.int64)
    used = 0
    for i in np.argsort(-key, kind="stable"):
        fits = (residual[:used] >= demand[i]).all(axis=1)
        if len(member[i]):
            fits &= ~taken[:used][:, member[i]].any(axis=1)
        hit = np.flatnonzero(fits)
        if len(hit):
            node = hit[0]
        else:
            node = used
            residual[node] = capacity
            used += 1
        residual[node] -= demand[i]
        taken[node, member[i]] = True
        assign[i] = node
    return assign


def _node_first(
    demand: np.ndarray,
    capacity: np.ndarray,
    groups: Sequence[Sequence[int]],
    choose: Callable[[np.ndarray, np.ndarray], int],
) -> np.ndarray:
    # Work on distinct demand vectors with counts (VMs of one instancetype are identical), so a
    # step costs O(types d), not O(n d). Anti-affinity members stay their own type.
    n, _ = demand.shape
    member = _conflict_matrix(n, groups)
    tag = np.array([i if len(member[i]) else -1 for i in range(n)])
    types, inverse, counts = np.unique(np.column_stack([demand, tag]), axis=0, return_inverse=True,
                                       return_counts=True)
    inverse = inverse.ravel()
    sizes = types[:, :-1]
    norm = sizes / capacity
    queue = [list(np.flatnonzero(inverse == t)) for t in range(len(types))]
    type_groups = [member[q[0]] if types[t, -1] >= 0 else np.zeros(0, np.int64) for t, q in enumerate(queue)]
    assign = np.full(n, -1, dtype=np.int64)
    node = -1
    while counts.sum():
        node += 1
        residual = capacity.astype(demand.dtype).copy()
        blocked: set[int] = set()
        while True:
            fits = (counts > 0) & (sizes <= residual).all(axis=1)
            for t in np.flatnonzero(fits & (types[:, -1] >= 0)):
                if blocked.intersection(type_groups[t].tolist()):
                    fits[t] = False
            candidates = np.flatnonzero(fits)
            if not len(candidates):
                break
            t = candidates[choose(norm[candidates], residual / capacity)]
            assign[queue[t].pop()] = node
            counts[t] -= 1
            residual -= sizes[t]
            blocked.update(type_groups[t].tolist())
    return assign


def dot_product_node_first(
    demand: np.ndarray, capacity: np.ndarray, groups: Sequence[Sequence[int]] = ()
) -> np.ndarray:
    """Node-first packing choosing by dot product (Panigrahy et al.), O(n types d).

    Fills one node at a time with the fitting item whose normalised size has the largest dot
    product with the node's normalised residual capacity.
    """
    return _node_first(demand, capacity, groups, lambda items, room: int(np.argmax(items @ room)))


def l2_node_first(
    demand: np.ndarray, capacity: np.ndarray, groups: Sequence[Sequence[int]] = ()
) -> np.ndarray:
    """Node-first packing choosing by L2 distance (Panigrahy et al.), O(n types d).

    Fills one node at a time with the fitting item that leaves the node's normalised residual
    capacity closest (L2) to zero.
    """
    return _node_first(
        demand, capacity, groups, lambda items, room: int(np.argmin(((room - items) ** 2).sum(axis=1)))
    )


def empty_lightest_nodes(
    demand: np.ndarray,
    capacity: np.ndarray,
    assign: np.ndarray,
    groups: Sequence[Sequence[int]] = (),
    max_failures: int = 20,
) -> np.ndarray:
    """Local search: repeatedly try to move every item of the least-filled node into the others.

    Items are moved largest first into the first other node with room (and no anti-affinity
    clash); a node is removed only when all its items moved; the search stops after
    ``max_failures`` nodes could not be emptied. Returns a relabelled assignment.
    """
    assign = assign.copy()
    member = _conflict_matrix(len(assign), groups)
    n_nodes = assign.max() + 1
    residual = np.tile(capacity.astype(demand.dtype), (n_nodes, 1))
    np.subtract.at(residual, assign, demand)
    alive = np.ones(n_nodes, dtype=bool)
    fill = (demand / capacity).max(axis=1)
    load = np.bincount(assign, weights=fill, minlength=n_nodes)
    failed: set[int] = set()
    while True:
        candidates = [b for b in np.argsort(load) if alive[b] and b not in failed]
        if not candidates or alive.sum() <= 1 or len(failed) >= max_failures:
            break
        node = candidates[0]
        items = np.flatnonzero(assign == node)
        items = items[np.argsort(-fill[items])]
        trial_res, trial_assign = residual.copy(), assign.copy()
        ok = True
        for i in items:
            fits = alive & (trial_res >= demand[i]).all(axis=1)
            fits[node] = False
            for target in np.flatnonzero(fits):
                peers = trial_assign == target
                if len(member[i]) and any(
                    len(member[j]) and np.intersect1d(member[i], member[j]).size
                    for j in np.flatnonzero(peers)
                ):
                    continue
                trial_res[target] -= demand[i]
                trial_assign[i] = target
                break
            else:
                ok = False
                break
        if ok:
            residual, assign = trial_res, trial_assign
            alive[node] = False
            load[node] = np.inf
        else:
            failed.add(node)
    return relabel(assign)


def balanced_fit(
    demand: np.ndarray,
    capacity: np.ndarray,
    nodes: int,
    groups: Sequence[Sequence[int]] = (),
    score: str = "dot",
) -> np.ndarray | None:
    """Items largest first onto a fixed number of nodes, each to the fitting node that balances best.

    ``score="dot"`` picks the node whose normalised load has the smallest dot product with the
    item (put memory-heavy VMs where memory is free); ``"max"`` the node whose largest normalised
    load after placement is smallest. Returns ``None`` when an item finds no node. O(n nodes d).
    """
    n, d = demand.shape
    norm = demand / capacity
    member = _conflict_matrix(n, groups)
    load = np.zeros((nodes, d))
    residual = np.tile(capacity.astype(demand.dtype), (nodes, 1))
    taken = np.zeros((nodes, max(len(groups), 1)), dtype=bool)
    assign = np.full(n, -1, dtype=np.int64)
    for i in np.argsort(-norm.max(axis=1), kind="stable"):
        fits = (residual >= demand[i]).all(axis=1)
        if len(member[i]):
            fits &= ~taken[:, member[i]].any(axis=1)
        if not fits.any():
            return None
        value = load @ norm[i] if score == "dot" else (load + norm[i]).max(axis=1)
        node = int(np.argmin(np.where(fits, value, np.inf)))
        assign[i] = node
        residual[node] -= demand[i]
        load[node] += norm[i]
        taken[node, member[i]] = True
    return assign


def fewest_balanced_nodes(
    demand: np.ndarray, capacity: np.ndarray, groups: Sequence[Sequence[int]] = (), score: str = "dot"
) -> np.ndarray:
    """:func:`balanced_fit` with the fewest nodes that works, searched up from the lower bound.

    The node count grows by doubling steps from the bound until a packing is found, then a
    binary search finds the smallest count that works.
    """
    low = max(1, lower_bound(demand, capacity, groups)["bound"])
    step, high, found = 1, low, balanced_fit(demand, capacity, low, groups, score)
    while found is None:
        if high >= len(demand):
            raise ValueError("an item is larger than an empty node: no packing exists")
        low, high = high + 1, min(high + step, len(demand))
        step *= 2
        found = balanced_fit(demand, capacity, high, groups, score)
    best = found
    while low < high:
        mid = (low + high) // 2
        trial = balanced_fit(demand, capacity, mid, groups, score)
        if trial is None:
            low = mid + 1
        else:
            high, best = mid, trial
    return best


def relabel(assign: np.ndarray) -> np.ndarray:
    """Node ids renumbered 0..k-1 in order of first appearance."""
    _, first, inverse = np.unique(assign, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse]


HEURISTICS: dict[str, Callable[..., np.ndarray]] = {
    "ffd_max": lambda dm, cap, g: first_fit_decreasing(dm, cap, size_measures(dm, cap)["max"], g),
    "ffd_sum": lambda dm, cap, g: first_fit_decreasing(dm, cap, size_measures(dm, cap)["sum"], g),
    "ffd_l2": lambda dm, cap, g: first_fit_decreasing(dm, cap, size_measures(dm, cap)["l2"], g),
    "ffd_product": lambda dm, cap, g: first_fit_decreasing(dm, cap, size_measures(dm, cap)["product"], g),
    "dot_product": dot_product_node_first,
    "l2_node_first": l2_node_first,
    "balanced_dot": lambda dm, cap, g: fewest_balanced_nodes(dm, cap, g, "dot"),
    "balanced_max": lambda dm, cap, g: fewest_balanced_nodes(dm, cap, g, "max"),
}
