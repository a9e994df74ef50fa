"""Local search after the greedy pass: move or swap groups between waves to cut cross-wave traffic."""

from __future__ import annotations

from collections import Counter, defaultdict

import networkx as nx

from assess.waves.schedule import WaveCaps


def improve_waves(Q: nx.Graph, wave: dict, caps: WaveCaps, weight: str = "weight", locked: set | None = None,
                  max_passes: int = 4, swap_targets: int = 3) -> dict:
    """``wave`` improved by single moves and pairwise swaps that lower sum(weight x waves crossed).

    Never adds a wave or empties one; keeps every cap a wave met, each phase inside its
    wave range (so dev/test stays before production), precedence pairs ``Q.graph["before"]``
    and keep-apart labels. ``locked`` groups (pins, shared services, pilot) stay. Candidate
    waves are those of a group's neighbours; swaps are tried for the ``swap_targets`` best
    waves only. O(passes x groups x (waves + swap_targets x groups per wave x waves)).

    Returns:
        A new mapping group -> wave.
    """
    locked = set(locked or ())
    wave = dict(wave)
    nodes = Q.nodes
    members: dict[int, set] = defaultdict(set)
    for n, w in wave.items():
        members[w].add(n)
    locked_waves = {wave[n] for n in locked if n in wave}
    tot = {w: [sum(nodes[n][k] for n in ms) for k in ("vms", "tib", "gib")] for w, ms in members.items()}
    apart = {w: Counter(a for n in ms for a in nodes[n].get("apart", ())) for w, ms in members.items()}
    phase_range: dict[int, tuple[int, int]] = {}
    for n, w in wave.items():
        lo, hi = phase_range.get(nodes[n]["phase"], (w, w))
        phase_range[nodes[n]["phase"]] = (min(lo, w), max(hi, w))
    near: dict = {n: defaultdict(float) for n in wave}  # group -> wave -> link weight to that wave
    for a, b, d in Q.edges(data=True):
        near[a][wave[b]] += d.get(weight, 0.0)
        near[b][wave[a]] += d.get(weight, 0.0)
    preds, succs = defaultdict(set), defaultdict(set)
    for a, b in Q.graph.get("before", []):
        preds[b].add(a)
        succs[a].add(b)

    def fits(w: int, add: list, drop: list) -> bool:
        vms, tib, gib = tot[w]
        for n in add:
            vms, tib, gib = vms + nodes[n]["vms"], tib + nodes[n]["tib"], gib + nodes[n]["gib"]
        for n in drop:
            vms, tib, gib = vms - nodes[n]["vms"], tib - nodes[n]["tib"], gib - nodes[n]["gib"]
        biggest = max((nodes[n]["max_gib"] for n in (members[w] - set(drop)) | set(add)), default=0.0)
        return (vms <= caps.max_vms and tib <= caps.max_tib + 1e-9
                and caps.hours(gib, biggest) <= caps.window_hours + 1e-9)

    def allowed(n, w: int, drop: list = ()) -> bool:
        lo, hi = phase_range[nodes[n]["phase"]]
        if not lo <= w <= hi or w in locked_waves:
            return False
        if any(wave[p] > w for p in preds[n]) or any(wave[s] < w for s in succs[n]):
            return False
        mine = nodes[n].get("apart", ())
        if not mine:
            return True
        labels = apart[w] - Counter(a for m in drop for a in nodes[m].get("apart", ()))
        return not any(labels[a] for a in mine)

    def gain(n, w: int) -> float:
        here = wave[n]
        return sum(x * (abs(here - v) - abs(w - v)) for v, x in near[n].items() if x)

    def move(n, w: int) -> None:
        old = wave[n]
        members[old].discard(n)
        members[w].add(n)
        for i, k in enumerate(("vms", "tib", "gib")):
            tot[old][i] -= nodes[n][k]
            tot[w][i] += nodes[n][k]
        labels = Counter(nodes[n].get("apart", ()))
        apart[old] -= labels
        apart[w] += labels
        wave[n] = w
        for m, d in Q[n].items():
            near[m][old] -= d.get(weight, 0.0)
            near[m][w] += d.get(weight, 0.0)

    for _ in range(max_passes):
        improved = False
        for n in sorted(wave, key=str):
            here = wave[n]
            if n in locked or here in locked_waves or len(members[here]) == 1:
                continue
            gains = sorted(((gain(n, w), w) for w, x in near[n].items() if x and w != here), reverse=True)
            best = None
            for rank, (g, w) in enumerate(gains):
                if g <= 1e-9:
                    break
                if allowed(n, w) and fits(w, [n], []):
                    if best is None or g > best[0]:
                        best = (g, w, None)
                    continue
                if rank >= swap_targets:
                    continue
                for h in sorted(members[w], key=str):  # swap n with a group h of wave w
                    if h in locked or not allowed(h, here, [n]) or not allowed(n, w, [h]):
                        continue
                    both = g + gain(h, here) + 2 * Q.edges[n, h].get(weight, 0.0) * abs(w - here) \
                        if Q.has_edge(n, h) else g + gain(h, here)
                    if both > 1e-9 and (best is None or both > best[0]) and fits(w, [n], [h]) \
                            and fits(here, [h], [n]):
                        best = (both, w, h)
            if best is not None:
                _, w, h = best
                move(n, w)
                if h is not None:
                    move(h, here)
                improved = True
        if not improved:
            break
    return wave
