"""Local search after the greedy pass: move or swap groups between waves to cut cross-wave traffic."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import networkx as nx
import numpy as np

from assess.waves.schedule import WaveCaps


def improve_waves(Q: nx.Graph, wave: dict, caps: WaveCaps, weight: str = "weight", locked: set | None = None,
                  max_passes: int = 4, swap_targets: int = 3, kicks: int | None = None,
                  seed: int | None = 0) -> dict:
    """``wave`` improved by local search, then kicked out of its local optimum ``kicks`` times.

    The local search (:func:`local_search`) moves and swaps groups and reorders whole waves.
    Each kick swaps two random groups of the same phase between waves (caps still met, no
    precedence or keep-apart group involved) and searches again; the best plan is kept
    (iterated local search, ``seed`` fixed for reproducible plans). By default the kicks
    fit a work budget: ``min(50, 20,000 / (groups + links))``, so small plans are searched
    hard and a 1,000-group plan is searched once. Passes of the local search fit a budget
    too: ``max_passes``, down to one from 20,000 groups (a 100,000-VM plan).

    Returns:
        A new mapping group -> wave.
    """
    passes = min(max_passes, max(1, 40_000 // max(1, len(Q))))  # one pass over 20,000+ groups
    best = local_search(Q, wave, caps, weight, locked, passes, swap_targets)
    if kicks is None:
        kicks = min(50, 20_000 // max(1, len(Q) + Q.number_of_edges()))
    free = [n for n in sorted(best, key=str) if n not in set(locked or ()) and not Q.nodes[n].get("apart")]
    before = {n for pair in Q.graph.get("before", []) for n in pair}
    free = [n for n in free if n not in before]
    if kicks <= 0 or len(free) < 2:
        return best
    rng = random.Random(seed)
    cost = _plan_cost(Q, best, weight)
    held = {best[n] for n in set(locked or ()) if n in best}
    for _ in range(kicks):
        trial = _kicked(Q, best, free, held, caps, rng)
        trial = local_search(Q, trial, caps, weight, locked, max_passes, swap_targets)
        trial_cost = _plan_cost(Q, trial, weight)
        if trial_cost < cost - 1e-9:
            best, cost = trial, trial_cost
    return best


def _plan_cost(Q: nx.Graph, wave: dict, weight: str) -> float:
    return sum(d.get(weight, 0.0) * abs(wave[a] - wave[b]) for a, b, d in Q.edges(data=True))


def _kicked(Q: nx.Graph, wave: dict, free: list, held: set, caps: WaveCaps, rng: random.Random,
            swaps: int = 2) -> dict:
    """``wave`` with up to ``swaps`` random swaps of same-phase groups between waves that keep the caps."""
    wave = dict(wave)
    nodes = Q.nodes
    for _ in range(swaps):
        a, b = rng.sample(free, 2)
        wa, wb = wave[a], wave[b]
        if wa == wb or wa in held or wb in held or nodes[a]["phase"] != nodes[b]["phase"]:
            continue
        trial = {**wave, a: wb, b: wa}
        if all(_wave_fits(Q, [n for n in trial if trial[n] == w], caps) for w in (wa, wb)):
            wave = trial
    return wave


def _wave_fits(Q: nx.Graph, groups: list, caps: WaveCaps) -> bool:
    d = [Q.nodes[n] for n in groups]
    return (sum(x["vms"] for x in d) <= caps.max_vms and sum(x["tib"] for x in d) <= caps.max_tib + 1e-9
            and caps.hours(sum(x["gib"] for x in d), max((x["max_gib"] for x in d), default=0.0))
            <= caps.window_hours + 1e-9)


def local_search(Q: nx.Graph, wave: dict, caps: WaveCaps, weight: str = "weight", locked: set | None = None,
                 max_passes: int = 4, swap_targets: int = 3, max_targets: int = 200,
                 max_trades: int = 20) -> dict:
    """``wave`` improved by single moves, pairwise swaps and neighbouring-wave reorders.

    Each lowers sum(weight x waves crossed). Never adds a wave or empties one; keeps every
    cap a wave met, each phase inside its wave range (so dev/test stays before production),
    precedence pairs ``Q.graph["before"]`` and keep-apart labels. ``locked`` groups (pins,
    shared services, pilot) and their waves stay. A group's cost in every wave is one
    product of its link weights per wave with the wave distance matrix; swaps are tried for
    the ``swap_targets`` best waves only, all partners of a wave scored at once; moves to the
    ``max_targets`` best waves only (a 100,000-VM plan has thousands of waves, and a group that
    fits none of its best 200 rarely fits a worse one); at most ``max_trades`` x waves
    neighbouring-wave trades per pass.
    O(passes x groups x (linked waves x waves + swap_targets x groups per wave x waves)).

    Returns:
        A new mapping group -> wave.
    """
    locked = set(locked or ())
    names = sorted(wave, key=str)
    idx = {n: i for i, n in enumerate(names)}
    numbers = np.array(sorted(set(wave.values())), dtype=float)
    col = {int(w): j for j, w in enumerate(numbers)}
    dist = np.abs(numbers[:, None] - numbers[None, :])
    nodes = Q.nodes
    at = np.array([col[wave[n]] for n in names], dtype=np.int64)
    size = np.array([[nodes[n][k] for k in ("vms", "tib", "gib", "max_gib")] for n in names], dtype=float)
    size = size.reshape(len(names), 4)
    tot = np.zeros((len(numbers), 3))
    np.add.at(tot, at, size[:, :3])
    members: dict[int, set] = defaultdict(set)
    for i, j in enumerate(at):
        members[int(j)].add(i)
    labels = [Counter(nodes[n].get("apart", ())) for n in names]
    apart = defaultdict(Counter)
    for i, j in enumerate(at):
        apart[int(j)] += labels[i]
    locked_cols = {col[wave[n]] for n in locked if n in wave}
    phase = [nodes[n]["phase"] for n in names]
    phase_range: dict[int, tuple[int, int]] = {}
    for i, j in enumerate(at):
        lo, hi = phase_range.get(phase[i], (j, j))
        phase_range[phase[i]] = (min(lo, j), max(hi, j))
    adj: list[dict[int, float]] = [{} for _ in names]
    near = np.zeros((len(names), len(numbers)))  # group x wave: link weight to that wave
    for a, b, d in Q.edges(data=True):
        if a == b or a not in idx or b not in idx:
            continue
        ia, ib, x = idx[a], idx[b], float(d.get(weight, 0.0))
        adj[ia][ib] = adj[ib][ia] = x
        near[ia, at[ib]] += x
        near[ib, at[ia]] += x
    preds, succs = defaultdict(set), defaultdict(set)
    for a, b in Q.graph.get("before", []):
        if a in idx and b in idx:
            preds[idx[b]].add(idx[a])
            succs[idx[a]].add(idx[b])

    top = np.zeros(len(numbers))  # per wave: at least its largest single copy (exact when it matters)
    np.maximum.at(top, at, size[:, 3])

    def fits(j: int, add: int, drop: int | None) -> bool:
        vms, tib, gib = (tot[j] + size[add, :3] - (size[drop, :3] if drop is not None else 0.0)).tolist()
        if vms > caps.max_vms or tib > caps.max_tib + 1e-9:
            return False
        if caps.hours(gib, max(top[j], size[add, 3])) <= caps.window_hours + 1e-9:
            return True
        biggest = size[list(members[j] - {drop} | {add}), 3].max()
        return caps.hours(gib, biggest) <= caps.window_hours + 1e-9

    def allowed(i: int, j: int, drop: int | None = None) -> bool:
        lo, hi = phase_range[phase[i]]
        if not lo <= j <= hi or j in locked_cols:
            return False
        if any(at[p] > j for p in preds[i]) or any(at[s] < j for s in succs[i]):
            return False
        if not labels[i]:
            return True
        have = apart[j] - labels[drop] if drop is not None else apart[j]
        return not any(have[a] for a in labels[i])

    def move(i: int, j: int) -> None:
        old = int(at[i])
        members[old].discard(i)
        members[j].add(i)
        tot[old] -= size[i, :3]
        tot[j] += size[i, :3]
        top[j] = max(top[j], size[i, 3])
        apart[old] -= labels[i]
        apart[j] += labels[i]
        at[i] = j
        for m, x in adj[i].items():
            near[m, old] -= x
            near[m, j] += x

    def reorder() -> bool:
        """Swap the contents of neighbouring waves while that shortens the links between waves.

        A trade of waves j and j+1 changes the gain of trading only j-1, j and j+1 (for any
        other pair, columns j and j+1 lie on the same side and just exchange values), so the
        gains are computed once and then three at a time. At most ``max_trades`` x waves
        trades (contents can bubble a long way, one neighbour at a time).
        """
        between = np.stack([np.bincount(at, near[:, c], minlength=len(numbers)) for c in range(len(numbers))],
                           axis=1)  # wave x wave link weight

        def gain(j: int) -> float:
            # contents of j and j+1 trade places; their links to each other and inside keep their length
            terms = (between[j] - between[j + 1]) * (dist[j] - dist[j + 1])
            terms[j] = terms[j + 1] = 0.0
            return float(terms.sum())

        gains = np.array([gain(j) for j in range(len(numbers) - 1)])
        changed = False
        for _ in range(max_trades * len(numbers)):
            positive = np.flatnonzero(gains > 1e-9)
            pick = next((j for j in positive[np.argsort(-gains[positive], kind="stable")].tolist()
                         if not {j, j + 1} & locked_cols and block_allowed(j, j + 1)), None)
            if pick is None:
                return changed
            trade(pick, pick + 1, between)
            for j in range(max(0, pick - 1), min(len(gains), pick + 2)):
                gains[j] = gain(j)
            changed = True
        return changed

    def trade(j: int, k: int, between: np.ndarray) -> None:
        """Waves ``j`` and ``k`` exchange their groups (caps hold: each wave keeps its contents)."""
        at[list(members[j])], at[list(members[k])] = k, j
        for table in (tot, top, between, between.T):
            table[[j, k]] = table[[k, j]]
        # only groups linked to j or k have link weight there: swap their two cells, not two columns
        linked = list({m for i in members[j] | members[k] for m in adj[i]})
        near[linked, j], near[linked, k] = near[linked, k], near[linked, j]
        members[j], members[k] = members[k], members[j]
        apart[j], apart[k] = apart[k], apart[j]

    def block_allowed(j: int, k: int) -> bool:
        """Whether waves ``j`` and ``k`` may trade contents: phase ranges and precedence hold."""
        for here, there in ((j, k), (k, j)):
            for i in members[here]:
                lo, hi = phase_range[phase[i]]
                if not lo <= there <= hi or any(at[m] == there for m in succs[i] | preds[i]):
                    return False
        return True

    locked_ids = {idx[n] for n in locked if n in idx}
    for _ in range(max_passes):
        improved = False
        for i in range(len(names)):
            here = int(at[i])
            if i in locked_ids or here in locked_cols or len(members[here]) == 1 or not adj[i]:
                continue
            linked = np.flatnonzero(near[i])  # the waves it has links to: few, of many waves
            cost = near[i, linked] @ dist[linked]
            gains = cost[here] - cost
            best = None
            for rank, j in enumerate(np.argsort(-gains, kind="stable")):
                g, j = float(gains[j]), int(j)
                if g <= 1e-9 or rank >= max_targets or (best is not None and rank >= swap_targets
                                                         and best[0] >= g):
                    break  # later waves gain less: no move there beats the best found
                if allowed(i, j) and fits(j, i, None):
                    if best is None or g > best[0]:
                        best = (g, j, None)
                    continue
                if rank >= swap_targets:
                    continue
                best = _best_swap(i, here, j, g, best, members, near, dist, adj, locked_ids, allowed, fits)
            if best is not None:
                _, j, h = best
                move(i, j)
                if h is not None:
                    move(h, here)
                improved = True
        improved |= reorder()
        if not improved:
            break
    return {n: int(numbers[at[i]]) for i, n in enumerate(names)}


def _best_swap(i, here, j, g, best, members, near, dist, adj, locked_ids, allowed, fits):
    """``best``, or a better swap of group ``i`` (wave ``here``, gain ``g`` in ``j``) with one of ``j``."""
    partners = np.sort(np.fromiter((h for h in members[j] if h not in locked_ids), dtype=np.int64))
    if not len(partners):
        return best
    back = near[partners] @ (dist[:, j] - dist[:, here])  # each partner's gain moving to ``here``
    link = np.array([adj[i].get(h, 0.0) for h in partners.tolist()])
    both = g + back - 2 * link * dist[here, j]  # their shared link keeps its length: counted twice above
    floor = 1e-9 if best is None else best[0]
    for k in np.flatnonzero(both > floor)[np.argsort(-both[both > floor], kind="stable")].tolist():
        h = int(partners[k])
        if allowed(h, here, i) and allowed(i, j, h) and fits(j, i, h) and fits(here, h, i):
            return (float(both[k]), j, h)
    return best
