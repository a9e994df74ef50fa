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
        if all(caps.group_fits([nodes[n] for n in trial if trial[n] == w]) is None for w in (wa, wb)):
            wave = trial
    return wave


def local_search(Q: nx.Graph, wave: dict, caps: WaveCaps, weight: str = "weight", locked: set | None = None,
                 max_passes: int = 4, swap_targets: int = 3, max_targets: int = 200,
                 max_trades: int = 20) -> dict:
    """``wave`` improved by single moves, pairwise swaps and neighbouring-wave reorders.

    Each lowers sum(weight x waves crossed). Never adds a wave or empties one; keeps every
    cap a wave met, each phase inside its wave range (so dev/test stays before production),
    precedence pairs ``Q.graph["before"]`` and keep-apart labels. ``locked`` groups (pins,
    shared services, pilot, kept from a previous plan) and their waves stay. A group's cost in
    every wave is one product of its link weights per wave with the wave distance matrix;
    swaps are tried for the ``swap_targets`` best waves only, all partners of a wave scored at
    once; moves to the ``max_targets`` best waves only (a 100,000-VM plan has thousands of
    waves, and a group that fits none of its best 200 rarely fits a worse one); at most
    ``max_trades`` x waves neighbouring-wave trades per pass.
    O(passes x groups x (linked waves x waves + swap_targets x groups per wave x waves)).

    Returns:
        A new mapping group -> wave.
    """
    if len(set(wave.values())) < 2:
        return dict(wave)  # nothing to move between (no waves, or every group in one wave)
    search = _Search(Q, wave, caps, weight, set(locked or ()))
    for _ in range(max_passes):
        improved = search.moves(swap_targets, max_targets)
        improved |= search.reorder(max_trades)
        if not improved:
            break
    return search.result()


class _Search:
    """Arrays of one local search: wave per group, wave totals, link weight per group and wave."""

    def __init__(self, Q: nx.Graph, wave: dict, caps: WaveCaps, weight: str, locked: set) -> None:
        self.caps = caps
        self.names = names = sorted(wave, key=str)
        idx = {n: i for i, n in enumerate(names)}
        self.numbers = numbers = np.array(sorted(set(wave.values())), dtype=float)
        col = {int(w): j for j, w in enumerate(numbers)}
        self.dist = np.abs(numbers[:, None] - numbers[None, :])
        nodes = Q.nodes
        self.at = at = np.array([col[wave[n]] for n in names], dtype=np.int64)
        size = np.array([[nodes[n][k] for k in ("vms", "tib", "gib", "max_gib")] for n in names], dtype=float)
        self.size = size = size.reshape(len(names), 4)
        self.tot = np.zeros((len(numbers), 3))
        np.add.at(self.tot, at, size[:, :3])
        self.top = np.zeros(len(numbers))  # per wave: its largest copy (kept exact by move)
        np.maximum.at(self.top, at, size[:, 3])
        self._partners: dict[int, np.ndarray] = {}  # per wave: its unlocked groups, sorted (cache)
        self.members: dict[int, set] = defaultdict(set)
        self.labels = [Counter(nodes[n].get("apart", ())) for n in names]
        self.apart: dict = defaultdict(Counter)
        for i, j in enumerate(at):
            self.members[int(j)].add(i)
            self.apart[int(j)] += self.labels[i]
        self.locked_cols = {col[wave[n]] for n in locked if n in wave}
        self.locked_ids = {idx[n] for n in locked if n in idx}
        self.phase = [nodes[n]["phase"] for n in names]
        self.phase_range: dict[int, tuple[int, int]] = {}
        for i, j in enumerate(at):
            lo, hi = self.phase_range.get(self.phase[i], (j, j))
            self.phase_range[self.phase[i]] = (min(lo, j), max(hi, j))
        self._links(Q, weight, idx)

    def _links(self, Q: nx.Graph, weight: str, idx: dict) -> None:
        self.adj: list[dict[int, float]] = [{} for _ in self.names]
        self.near = np.zeros((len(self.names), len(self.numbers)))  # group x wave: link weight to that wave
        for a, b, d in Q.edges(data=True):
            if a == b or a not in idx or b not in idx:
                continue
            ia, ib, x = idx[a], idx[b], float(d.get(weight, 0.0))
            self.adj[ia][ib] = self.adj[ib][ia] = x
            self.near[ia, self.at[ib]] += x
            self.near[ib, self.at[ia]] += x
        self.preds, self.succs = defaultdict(set), defaultdict(set)
        for a, b in Q.graph.get("before", []):
            if a in idx and b in idx:
                self.preds[idx[b]].add(idx[a])
                self.succs[idx[a]].add(idx[b])

    def result(self) -> dict:
        return {n: int(self.numbers[self.at[i]]) for i, n in enumerate(self.names)}

    def fits(self, j: int, add: int, drop: int | None) -> bool:
        """Whether wave ``j`` keeps its caps with group ``add`` in (and ``drop`` out).

        O(1) but when ``drop`` holds the wave's largest copy (then O(groups in the wave)): a
        swap tries every group of a wave of thousands as a partner.
        """
        size = self.size
        vms, tib, gib = (self.tot[j] + size[add, :3] - (size[drop, :3] if drop is not None else 0.0)).tolist()
        top = self.top[j]
        if drop is not None and size[drop, 3] >= top:
            top = self._largest(j, without=drop)
        return self.caps.fits(vms, tib, gib, max(top, size[add, 3])) is None

    def swap_fits(self, i: int, here: int, j: int, partners: np.ndarray) -> np.ndarray:
        """For each partner ``h`` of wave ``j``: do both waves keep their caps when ``i`` and ``h`` trade?"""
        size, caps = self.size, self.caps
        into = self.tot[j] + size[i, :3] - size[partners, :3]  # wave j with i in, h out
        top = np.full(len(partners), self.top[j])
        largest = size[partners, 3] >= self.top[j]
        top[largest] = [self._largest(j, without=h) for h in partners[largest].tolist()]
        ok = caps.fits_mask(into[:, 0], into[:, 1], into[:, 2], np.maximum(top, size[i, 3]))
        back = self.tot[here] - size[i, :3] + size[partners, :3]  # wave here with h in, i out
        top_here = self._largest(here, without=i) if size[i, 3] >= self.top[here] else self.top[here]
        top_back = np.maximum(top_here, size[partners, 3])
        return ok & caps.fits_mask(back[:, 0], back[:, 1], back[:, 2], top_back)

    def _largest(self, j: int, without: int | None = None) -> float:
        """The largest copy of wave ``j``'s groups other than ``without``."""
        return max((self.size[m, 3] for m in self.members[j] if m != without), default=0.0)

    def partners(self, j: int) -> np.ndarray:
        """Wave ``j``'s unlocked groups, sorted (cached until a move changes the wave)."""
        if j not in self._partners:
            free = (h for h in self.members[j] if h not in self.locked_ids)
            self._partners[j] = np.sort(np.fromiter(free, dtype=np.int64))
        return self._partners[j]

    def allowed(self, i: int, j: int, drop: int | None = None) -> bool:
        """Whether group ``i`` may sit in wave ``j``: phase range, unlocked, precedence, keep-apart."""
        lo, hi = self.phase_range[self.phase[i]]
        if not lo <= j <= hi or j in self.locked_cols:
            return False
        at = self.at
        if any(at[p] > j for p in self.preds[i]) or any(at[s] < j for s in self.succs[i]):
            return False
        if not self.labels[i]:
            return True
        have = self.apart[j] - self.labels[drop] if drop is not None else self.apart[j]
        return not any(have[a] for a in self.labels[i])

    def move(self, i: int, j: int) -> None:
        old = int(self.at[i])
        self.members[old].discard(i)
        self.members[j].add(i)
        self.tot[old] -= self.size[i, :3]
        self.tot[j] += self.size[i, :3]
        self.top[j] = max(self.top[j], self.size[i, 3])
        if self.size[i, 3] >= self.top[old]:
            self.top[old] = self._largest(old)
        self._partners.pop(old, None)
        self._partners.pop(j, None)
        self.apart[old] -= self.labels[i]
        self.apart[j] += self.labels[i]
        self.at[i] = j
        for m, x in self.adj[i].items():
            self.near[m, old] -= x
            self.near[m, j] += x

    def moves(self, swap_targets: int, max_targets: int) -> bool:
        """One pass of single moves and pairwise swaps; True when anything moved."""
        improved = False
        for i in range(len(self.names)):
            here = int(self.at[i])
            if (i in self.locked_ids or here in self.locked_cols or len(self.members[here]) == 1
                    or not self.adj[i]):
                continue
            linked = np.flatnonzero(self.near[i])  # the waves it has links to: few, of many waves
            gains = (self.near[i, linked] @ self.dist[linked])
            gains = gains[here] - gains
            best = None
            for rank, j in enumerate(np.argsort(-gains, kind="stable")):
                g, j = float(gains[j]), int(j)
                if g <= 1e-9 or rank >= max_targets or (best is not None and rank >= swap_targets
                                                         and best[0] >= g):
                    break  # later waves gain less: no move there beats the best found
                if self.allowed(i, j) and self.fits(j, i, None):
                    if best is None or g > best[0]:
                        best = (g, j, None)
                    continue
                if rank < swap_targets:
                    best = self.best_swap(i, here, j, g, best)
            if best is not None:
                _, j, h = best
                self.move(i, j)
                if h is not None:
                    self.move(h, here)
                improved = True
        return improved

    def best_swap(self, i: int, here: int, j: int, g: float, best):
        """``best``, or a better swap of group ``i`` (in ``here``, gain ``g`` in ``j``) with one of ``j``."""
        partners = self.partners(j)
        if not len(partners):
            return best
        back = self.near[partners] @ (self.dist[:, j] - self.dist[:, here])  # each partner's gain moving back
        link = np.zeros(len(partners))  # i's link to each partner: i has few links, the wave many groups
        mine = [(h, x) for h, x in self.adj[i].items() if self.at[h] == j]
        if mine:
            ids, weights = zip(*mine)
            pos = np.searchsorted(partners, ids)
            kept = (pos < len(partners)) & (partners[np.minimum(pos, len(partners) - 1)] == ids)
            link[pos[kept]] = np.asarray(weights)[kept]
        both = g + back - 2 * link * self.dist[here, j]  # their shared link keeps its length: counted twice
        floor = 1e-9 if best is None else best[0]
        better = np.flatnonzero(both > floor)
        if not len(better):
            return best
        better = better[self.swap_fits(i, here, j, partners[better])]
        for k in better[np.argsort(-both[better], kind="stable")].tolist():
            h = int(partners[k])
            if self.allowed(h, here, i) and self.allowed(i, j, h):
                return (float(both[k]), j, h)
        return best

    def reorder(self, max_trades: int) -> bool:
        """Swap the contents of neighbouring waves while that shortens the links between waves.

        A trade of waves j and j+1 changes the gain of trading only j-1, j and j+1 (for any
        other pair, columns j and j+1 lie on the same side and just exchange values), so the
        gains are computed once and then three at a time. At most ``max_trades`` x waves
        trades (contents can bubble a long way, one neighbour at a time).
        """
        n = len(self.numbers)
        between = np.stack([np.bincount(self.at, self.near[:, c], minlength=n) for c in range(n)],
                           axis=1)  # wave x wave link weight

        def gain(j: int) -> float:
            # contents of j and j+1 trade places; their links to each other and inside keep their length
            terms = (between[j] - between[j + 1]) * (self.dist[j] - self.dist[j + 1])
            terms[j] = terms[j + 1] = 0.0
            return float(terms.sum())

        gains = np.array([gain(j) for j in range(n - 1)])
        changed = False
        for _ in range(max_trades * n):
            positive = np.flatnonzero(gains > 1e-9)
            pick = next((j for j in positive[np.argsort(-gains[positive], kind="stable")].tolist()
                         if not {j, j + 1} & self.locked_cols and self.block_allowed(j, j + 1)), None)
            if pick is None:
                return changed
            self.trade(pick, pick + 1, between)
            for j in range(max(0, pick - 1), min(len(gains), pick + 2)):
                gains[j] = gain(j)
            changed = True
        return changed

    def trade(self, j: int, k: int, between: np.ndarray) -> None:
        """Waves ``j`` and ``k`` exchange their groups (caps hold: each wave keeps its contents)."""
        members = self.members
        self.at[list(members[j])], self.at[list(members[k])] = k, j
        for table in (self.tot, self.top, between, between.T):
            table[[j, k]] = table[[k, j]]
        self._partners[j], self._partners[k] = self._partners.pop(k, None), self._partners.pop(j, None)
        self._partners = {w: p for w, p in self._partners.items() if p is not None}
        # only groups linked to j or k have link weight there: swap their two cells, not two columns
        linked = list({m for i in members[j] | members[k] for m in self.adj[i]})
        self.near[linked, j], self.near[linked, k] = self.near[linked, k], self.near[linked, j]
        members[j], members[k] = members[k], members[j]
        self.apart[j], self.apart[k] = self.apart[k], self.apart[j]

    def block_allowed(self, j: int, k: int) -> bool:
        """Whether waves ``j`` and ``k`` may trade contents: phase ranges and precedence hold."""
        for here, there in ((j, k), (k, j)):
            for i in self.members[here]:
                lo, hi = self.phase_range[self.phase[i]]
                if not lo <= there <= hi or any(self.at[m] == there for m in self.succs[i] | self.preds[i]):
                    return False
        return True
