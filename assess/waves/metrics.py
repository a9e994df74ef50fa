"""How good a wave plan is: split hard links, traffic crossing waves, waves vs their lower bound."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from assess.waves.links import HARD, SOFT
from assess.waves.schedule import WaveCaps


def cross_wave_traffic(G: nx.Graph, wave_of: dict, weight: str = "weight") -> dict:
    """Flow weight between VMs that crosses waves, and hard links split by the plan.

    Counts VM-VM ``soft`` and ``hard`` edges (shared-service and external traffic crosses
    waves by design and is reported on its own). A hard edge is split when its ends are in
    different waves or only one end is in a wave. O(edges).

    Returns:
        ``total`` and ``crossing`` weight, ``share`` (crossing / total), ``weighted``
        (sum of weight x waves crossed), ``hard_split`` (count), ``shared_weight``.
    """
    total = crossing = weighted = shared = 0.0
    hard_split = 0
    for a, b, d in G.edges(data=True):
        link, w = d.get("link"), float(d.get(weight) or 0.0)
        wa, wb = wave_of.get(a), wave_of.get(b)
        if link == HARD and (wa is not None or wb is not None) and wa != wb:
            hard_split += 1
        if link not in (HARD, SOFT):
            shared += w if link == "shared" else 0.0
            continue
        if wa is None or wb is None:
            continue
        total += w
        if wa != wb:
            crossing += w
            weighted += w * abs(wa - wb)
    return {"total": total, "crossing": crossing, "share": crossing / total if total else 0.0,
            "weighted": weighted, "hard_split": hard_split, "shared_weight": shared}


def wave_lower_bound(vms: int, tib: float, gib: float, caps: WaveCaps) -> int:
    """Fewest waves the caps allow for ``vms`` VMs, ``tib`` TiB and ``gib`` GiB copied in windows."""
    if vms == 0:
        return 0
    hours = caps.hours(gib, 0.0)
    return max(math.ceil(vms / caps.max_vms), math.ceil(tib / caps.max_tib - 1e-9),
               math.ceil(hours / caps.window_hours - 1e-9), 1)


def group_modularity(G: nx.Graph, groups: list[set], weight: str = "weight") -> float:
    """Modularity of the move groups over VM-VM flow links (higher: fewer links between groups).

    ``sum over groups of (inside / m - (degree / 2m)^2)`` with ``m`` the weight of the links
    among the groups' VMs, computed from one pass over the edges (no second graph). O(edges).
    """
    group_of = {n: i for i, g in enumerate(groups) for n in g}
    ends = [(group_of[a], group_of[b], w) for a, b, d in G.edges(data=True)
            if d.get("link") in (HARD, SOFT) and (w := float(d.get(weight) or 0.0)) > 0
            and a in group_of and b in group_of]
    if not ends:
        return 0.0
    ga, gb, w = (np.array(x) for x in zip(*ends))
    m = w.sum()
    inside = w[ga == gb].sum()
    degree = np.bincount(ga, w, minlength=len(groups)) + np.bincount(gb, w, minlength=len(groups))
    return float(inside / m - ((degree / (2 * m)) ** 2).sum())
