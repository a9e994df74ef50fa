"""Move groups: hard-linked components, soft links grouped by Louvain, capped at weakest links."""

from __future__ import annotations

from collections import Counter, defaultdict

import networkx as nx
import numpy as np

from assess.waves.links import HARD, SOFT


def vm_nodes(G: nx.Graph) -> list[str]:
    """The VM nodes of a dependency graph (external endpoints left out)."""
    return [n for n, kind in G.nodes(data="kind") if kind == "vm"]


def hard_components(G: nx.Graph, nodes: list[str] | None = None) -> list[set[str]]:
    """Connected components of the hard links among ``nodes`` (default: every VM node).

    Every node of ``nodes`` is in exactly one component (a VM without hard links is a
    component of one). O(nodes log nodes + edges).
    """
    nodes = vm_nodes(G) if nodes is None else list(nodes)
    keep = set(nodes)
    H = nx.Graph((a, b) for a, b, link in G.edges(data="link") if link == HARD and a in keep and b in keep)
    position = {n: i for i, n in enumerate(nodes)}
    comps = [set(c) for c in nx.connected_components(H)] + [{n} for n in nodes if n not in H]
    # in the order of each component's first node in ``nodes``: Louvain's seeded order depends on it
    return sorted(comps, key=lambda c: min(map(position.get, c)))


def quotient_graph(G: nx.Graph, parts: list[set[str]], weight: str = "weight",
                   links: tuple[str, ...] = (SOFT, HARD), self_loops: bool = False,
                   significant_only: bool = False) -> nx.Graph:
    """Graph with one node per part (attribute ``size``) and summed ``weight`` between parts.

    Only edges whose ``link`` is in ``links`` count (and, with ``significant_only``, whose
    ``significant`` flag is set); edges touching nodes outside every part are ignored; edges
    inside a part become a self-loop when ``self_loops`` (so community detection still sees how
    heavy a contracted part is), else are dropped. O(edges).
    """
    part_of = {n: i for i, part in enumerate(parts) for n in part}
    acc: dict[tuple[int, int], float] = defaultdict(float)
    for a, b, d in G.edges(data=True):
        if d.get("link") not in links or (significant_only and not d.get("significant", True)):
            continue
        pa, pb = part_of.get(a), part_of.get(b)
        if pa is None or pb is None or (pa == pb and not self_loops):
            continue
        acc[(pa, pb) if pa < pb else (pb, pa)] += float(d.get(weight) or 0.0)
    Q = nx.Graph()
    Q.add_nodes_from((i, {"size": len(part)}) for i, part in enumerate(parts))
    Q.add_weighted_edges_from(((a, b, w) for (a, b), w in acc.items() if w > 0), weight=weight)
    return Q


def capped_merge(Q: nx.Graph, nodes: list, max_size: int, weight: str = "weight",
                 apart: dict | None = None, pins: dict | None = None) -> list[set]:
    """Split ``nodes`` of ``Q`` into pieces of total ``size`` <= ``max_size``, cutting weakest links.

    Kruskal-style: edges inside ``nodes`` are merged strongest first while the merged size
    stays within the cap, no keep-apart label (``apart``: node -> set) is shared and no two
    different pins (``pins``: node -> wave) meet. A node larger than the cap stays alone.
    O(E log E) for E edges inside ``nodes``.
    """
    apart, pins = apart or {}, pins or {}
    members = set(nodes)
    parent = {n: n for n in nodes}
    size = {n: Q.nodes[n].get("size", 1) for n in nodes}
    labels = {n: set(apart.get(n, ())) for n in nodes}
    pin = {n: pins.get(n) for n in nodes}

    def root(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    inside = [(d.get(weight, 0.0), a, b) for a, b, d in Q.subgraph(members).edges(data=True) if a != b]
    for _, a, b in sorted(inside, key=lambda t: (-t[0], str(t[1]), str(t[2]))):
        ra, rb = root(a), root(b)
        if ra == rb or size[ra] + size[rb] > max_size or labels[ra] & labels[rb]:
            continue
        if pin[ra] is not None and pin[rb] is not None and pin[ra] != pin[rb]:
            continue
        parent[rb] = ra
        size[ra] += size[rb]
        labels[ra] |= labels[rb]
        pin[ra] = pin[ra] if pin[ra] is not None else pin[rb]
    pieces: dict = defaultdict(set)
    for n in nodes:
        pieces[root(n)].add(n)
    return list(pieces.values())


def scaled_resolution(resolution: float, n_vms: int, resolution_vms: int | None) -> float:
    """Louvain resolution for ``n_vms`` VMs: ``resolution x max(1, n_vms / resolution_vms)``.

    Modularity merges two groups when the weight between them exceeds ``resolution x d_a x
    d_b / 2m`` (``d``: their traffic, ``m``: the estate's); ``2m`` grows with the estate, so
    on a large estate a few light noise flows glue separate applications (the resolution
    limit). With the resolution proportional to the VM count the test becomes ``w_ab / d_a >
    d_b / (resolution_vms x average VM traffic)``: the same share of a group's traffic
    whatever the estate size. ``resolution_vms=None`` keeps ``resolution`` as given.
    """
    if resolution_vms is None:
        return resolution
    return resolution * max(1.0, n_vms / resolution_vms)


def evidence_scale(G: nx.Graph, weight: str = "weight") -> float:
    """Flow weight one unit of inventory evidence is worth: the median significant soft link (1 without)."""
    w = [float(d.get(weight) or 0.0) for _, _, d in G.edges(data=True)
         if d.get("link") == SOFT and d.get("significant", True)]
    return float(np.median(w)) if w else 1.0


def add_evidence(Q: nx.Graph, comp_of: dict, evidence: list, weights: dict[str, float], scale: float,
                 weight: str = "weight") -> None:
    """Add inventory evidence to the component graph ``Q``: a star per set, ``weights[kind] x scale``.

    Strong evidence (weight >= 0.5: names, vApps) links any components; weak evidence (folders,
    resource pools, owners) only attaches components left without any other link, so a team's
    folder never glues its applications together when names or flows tell them apart.
    """
    def star(comps: list, w: float) -> None:
        for c in comps[1:]:
            old = Q.edges[comps[0], c][weight] if Q.has_edge(comps[0], c) else 0.0
            Q.add_edge(comps[0], c, **{weight: old + w})

    weak = []
    for kind, _, members in evidence:
        w = weights.get(kind, 0.0) * scale
        comps = list(dict.fromkeys(comp_of[m] for m in members if m in comp_of))
        if w > 0 and len(comps) > 1:
            (star(comps, w) if weights[kind] >= 0.5 else weak.append((comps, w)))
    alone = {c for c in Q if not any(m != c for m in Q[c])}
    for comps, w in weak:
        lonely = [c for c in comps if c in alone]
        star(lonely, w)


def move_groups(
    G: nx.Graph,
    nodes: list[str] | None = None,
    weight: str = "weight",
    resolution: float = 1.0,
    max_size: int = 40,
    seed: int | None = None,
    pins: dict[str, int] | None = None,
    resolution_vms: int | None = None,
    evidence_weights: dict[str, float] | None = None,
) -> list[tuple[set[str], str]]:
    """Move groups of ``nodes`` (default: every VM), each with how it was formed.

    Hard components are contracted; significant soft links between them (see
    :func:`assess.waves.graph._significance`) and inventory evidence (``G.graph["evidence"]``
    weighted by ``evidence_weights`` in units of :func:`evidence_scale`) are grouped by Louvain
    community detection (``seed``) at :func:`scaled_resolution`; a community above ``max_size`` VMs, or
    one holding two VMs of a keep-apart rule (``G.graph["keep_apart"]``) or VMs pinned to
    different waves, is split at its weakest links by :func:`capped_merge`. Hard components
    are never split. Louvain is near-linear in edges in practice; the rest O(E log E).

    Returns:
        ``(members, how)`` pairs; ``how`` is ``hard``, ``community``, ``split`` or ``single``.
    """
    comps = hard_components(G, nodes)
    comp_of = {n: i for i, comp in enumerate(comps) for n in comp}
    apart: dict[int, set] = defaultdict(set)
    for r, rule in enumerate(G.graph.get("keep_apart", [])):
        for n in rule:
            if n in comp_of:
                apart[comp_of[n]].add(r)
    comp_pin = {comp_of[n]: w for n, w in (pins or {}).items() if n in comp_of}
    Q = quotient_graph(G, comps, weight, links=(SOFT, HARD), self_loops=True, significant_only=True)
    add_evidence(Q, comp_of, G.graph.get("evidence", []), evidence_weights or {}, evidence_scale(G, weight),
                 weight)
    gamma = scaled_resolution(resolution, len(comp_of), resolution_vms)
    communities = nx.community.louvain_communities(Q, weight=weight, resolution=gamma, seed=seed)
    out: list[tuple[set[str], str]] = []
    for community in sorted(communities, key=lambda c: min(c)):
        size = sum(Q.nodes[c]["size"] for c in community)
        labels = Counter(label for c in community for label in apart.get(c, ()))
        wave_pins = {comp_pin[c] for c in community if c in comp_pin}
        conflict = any(count > 1 for count in labels.values()) or len(wave_pins) > 1
        pieces = [set(community)]
        if size > max_size or conflict:
            pieces = capped_merge(Q, sorted(community), max_size, weight, apart, comp_pin)
        for piece in pieces:
            members = set().union(*(comps[c] for c in piece))
            if len(piece) > 1:
                how = "split" if len(pieces) > 1 else "community"
            else:
                how = "hard" if len(members) > 1 else "single"
            out.append((members, how))
    return out


def keep_apart_violations(G: nx.Graph, groups: list[set[str]]) -> list[tuple[int, set[str]]]:
    """Keep-apart rules (index, VMs) whose VMs share a group: only possible when hard-linked."""
    group_of = {n: i for i, g in enumerate(groups) for n in g}
    bad = []
    for r, rule in enumerate(G.graph.get("keep_apart", [])):
        seen = Counter(group_of.get(n) for n in rule if n in group_of)
        clash = {n for n in rule if seen.get(group_of.get(n), 0) > 1}
        if clash:
            bad.append((r, clash))
    return bad
