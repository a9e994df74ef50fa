"""Lower bounds on the number of nodes a vector bin packing needs.

Every packing reports its distance to these: no packing can use fewer nodes than the largest of
the per-dimension sum bound, the Martello-Toth L2 bound of each dimension, and the size of the
largest anti-affinity group.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

EPS = 1e-9


def sum_bound(sizes, capacity: float) -> int:
    """``ceil(sum(sizes) / capacity)``: the continuous (L1) bound of one dimension."""
    total = float(np.sum(np.asarray(sizes, dtype=np.float64)))
    return max(0, math.ceil(total / capacity - EPS))


def l2_bound(sizes, capacity: float) -> int:
    """Martello-Toth L2 bound of one-dimensional bin packing (Martello & Toth 1990, sec. 8.3.1).

    For every threshold ``a`` in ``{0} U {s : s <= C/2}``, items above ``C - a`` (J1) and items in
    ``(C/2, C - a]`` (J2) each need their own bin; items in ``[a, C/2]`` (J3) can only use the room
    J2 leaves, so ``L(a) = |J1| + |J2| + max(0, ceil((sum J3 - (|J2| C - sum J2)) / C))``. O(n log n).
    """
    s = np.sort(np.asarray(sizes, dtype=np.float64))
    if not len(s):
        return 0
    prefix = np.concatenate([[0.0], np.cumsum(s)])
    half = capacity / 2
    alphas = np.unique(np.concatenate([[0.0], s[s <= half + EPS]]))
    n = len(s)
    hi = np.searchsorted(s, capacity - alphas + EPS, side="right")  # items <= C - a
    mid = np.searchsorted(s, half + EPS, side="right")  # items <= C/2
    lo = np.searchsorted(s, alphas - EPS, side="left")  # items < a
    j1 = n - hi
    j2 = np.maximum(hi - mid, 0)
    j2_sum = prefix[np.maximum(hi, mid)] - prefix[mid]
    j3_sum = prefix[mid] - prefix[np.minimum(lo, mid)]
    spill = np.ceil((j3_sum - (j2 * capacity - j2_sum)) / capacity - EPS)
    return int(np.max(j1 + j2 + np.maximum(0, spill)))


def lower_bound(demand: np.ndarray, capacity: np.ndarray, groups: Iterable[Iterable[int]] = ()) -> dict:
    """Lower bound of a vector bin packing, with its parts.

    Args:
        demand: (items, dimensions) sizes.
        capacity: (dimensions,) capacity of one node.
        groups: anti-affinity groups (item indices), whose members need distinct nodes.

    Returns:
        ``{"sum": int, "l2": int, "anti_affinity": int, "bound": int}``.
    """
    demand = np.atleast_2d(np.asarray(demand, dtype=np.float64))
    if demand.size == 0:
        return {"sum": 0, "l2": 0, "anti_affinity": 0, "bound": 0}
    dims = range(demand.shape[1])
    l1 = max(sum_bound(demand[:, d], capacity[d]) for d in dims)
    l2 = max(l2_bound(demand[:, d], capacity[d]) for d in dims)
    aa = max((len(set(g)) for g in groups), default=0)
    return {"sum": l1, "l2": l2, "anti_affinity": aa, "bound": max(l1, l2, aa)}
