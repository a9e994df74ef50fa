"""Explanations of the final plan: each group's name and evidence, each VM's group and wave reason.

Everything here reads the *final* plan (after the local search), so no text names a wave a
group is not in: links to other groups are described as in the same, an earlier or a later
wave, never by another wave's number.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import networkx as nx

from assess.waves.links import HARD, SOFT
from assess.waves.params import WavesParams
from assess.waves.schedule import PHASES, WaveAssignment

#: Evidence kinds in the order they name a group.
NAMING = ("application", "vapp", "name", "folder", "resource pool", "owner")


def _evidence_of(G: nx.Graph) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for kind, value, members in G.graph.get("evidence", []):
        for v in members:
            out[v].append((kind, value))
    for v, app in G.nodes(data="app"):
        if app:
            out[v].append(("application", app))
    return out


def _flow_summary(G: nx.Graph, members: set[str]) -> str:
    inside = [(d.get("weight") or 0.0, d.get("port")) for a, b, d in G.subgraph(members).edges(data=True)
              if d.get("link") in (SOFT, HARD) and (d.get("weight") or 0.0) > 0]
    if not inside:
        return ""
    ports = Counter()
    for w, port in inside:
        ports[port] += w
    top = ", ".join(str(p) for p, _ in ports.most_common(3) if p)
    total = sum(w for w, _ in inside)
    return f"flows: {len(inside)} link(s) inside, weight {total:.3g}" + (f" ({top})" if top else "")


def group_labels(G: nx.Graph, groups: list[tuple]) -> dict[str, tuple[str, str]]:
    """Group id -> ``(group_name, group_evidence)`` for ``(gid, members, how, shared)`` groups.

    The name is the application tag, vApp, name stem, folder, resource pool or owner shared by
    at least half the members (first kind in :data:`NAMING` order), else the member's name (one
    VM) or the first member's name with ``+N``. The evidence lists every kind with its
    coverage, the environment, the flows inside and the hard links. O(members + edges inside).
    """
    evidence = _evidence_of(G)
    out = {}
    for gid, members, _, shared in groups:
        counts: Counter = Counter(item for v in members for item in dict.fromkeys(evidence.get(v, ())))
        n = len(members)
        ranked = sorted(counts.items(), key=lambda t: (NAMING.index(t[0][0]), -t[1], t[0][1]))
        parts = [f"{kind} '{value}' on {c}/{n} VMs" for (kind, value), c in ranked if c > 1 or n == 1]
        named = [(kind, value) for (kind, value), c in counts.items() if 2 * c >= n and (c > 1 or n == 1)]
        named.sort(key=lambda t: (NAMING.index(t[0]), -counts[t], t[1]))
        first = sorted(G.nodes[v]["name"] for v in members)
        name = named[0][1] if named else (first[0] if n == 1 else f"{first[0]} +{n - 1}")
        envs = Counter((G.nodes[v]["env"], G.nodes[v].get("env_source")) for v in members
                       if G.nodes[v].get("env"))
        if envs:
            (env, source), c = envs.most_common(1)[0]
            parts.append(f"environment {env} ({source}" + (f"; {c}/{n} VMs" if c < n else "") + ")")
        flows = _flow_summary(G, members)
        if flows:
            parts.append(flows)
        hard = sorted({r for a, b, d in G.subgraph(members).edges(data=True) if d.get("link") == HARD
                       for r in d.get("hard_reasons", []) if not r.startswith("database")})
        if hard:
            more = f" (+{len(hard) - 3} more)" if len(hard) > 3 else ""
            parts.append("hard: " + "; ".join(hard[:3]) + more)
        if shared:
            parts.insert(0, "; ".join(G.nodes[v]["shared"] for v in sorted(members)
                                      if G.nodes[v].get("shared")))
        out[gid] = (name, "; ".join(parts) if parts else "no evidence links these VMs to others")
    return out


def vm_group_reason(G: nx.Graph, v: str, members: set[str], how: str, params: WavesParams) -> str:
    """Why VM ``v`` is in its group: the hard links, else its strongest soft link in the group."""
    hard, soft = [], None
    for peer, d in G[v].items():
        if peer not in members:
            continue
        if d.get("link") == HARD:
            for r in d.get("hard_reasons", []):
                hard.append(f"{r} with {G.nodes[peer]['name']}" if r.startswith("database") else r)
        elif (d.get("link") == SOFT and d.get("significant", True)
              and (soft is None or d["weight"] > soft[1]["weight"])):
            soft = (peer, d)
    parts = [G.nodes[v]["shared"]] if G.nodes[v].get("shared") else []
    if hard:
        uniq = list(dict.fromkeys(hard))
        more = f" (+{len(uniq) - 3} more)" if len(uniq) > 3 else ""
        parts.append("hard: " + "; ".join(uniq[:3]) + more)
    if soft is not None and how in ("community", "split"):
        peer, d = soft
        parts.append(f"soft: most traffic with {G.nodes[peer]['name']} ({d.get('port')}, weight "
                     f"{d['weight']:.3g}); Louvain community")
    elif how in ("community", "split") and not hard:
        parts.append("inventory evidence (names, vApp, folder) with the other members; Louvain community")
    if how == "split":
        parts.append(f"community split at its weakest links (max_group_vms={params.max_group_vms} or a "
                     "keep-apart rule or pins)")
    if not parts:
        parts.append(f"{G.nodes[v]['name']}: no hard, significant soft or evidence links to other VMs; "
                     "a group of its own")
    return "; ".join(parts)


def _relative(mine: int, other: int) -> str:
    return "same wave" if mine == other else ("an earlier wave" if other < mine else "a later wave")


def wave_reasons(Q: nx.Graph, plan: WaveAssignment, greedy: dict, labels: dict[str, tuple[str, str]],
                 weight: str = "weight") -> dict:
    """Group id -> why it is in its final wave, from ``plan.basis`` and the final ``plan.wave``.

    ``greedy`` is the wave the greedy pass chose; a group the local search moved says so.
    """
    phased = len({Q.nodes[g]["phase"] for g in Q if not Q.nodes[g].get("shared")}) > 1
    preds: dict = defaultdict(set)
    for a, b in Q.graph.get("before", []):
        preds[b].add(a)
    out = {}
    for g, w in plan.wave.items():
        out[g] = _one_reason(Q, g, w, plan, labels, weight)
        d = Q.nodes[g]
        if phased and not d.get("shared") and plan.basis[g] not in ("pinned", "kept"):
            out[g] += f"; {PHASES[d['phase']]} phase" + (" before production" if d["phase"] == 0 else "")
        if preds[g]:
            out[g] += "; with or after its database group(s) " + ", ".join(sorted(map(str, preds[g])))
        if greedy.get(g, w) != w:
            out[g] += "; placed here by the local search (less traffic crossing waves)"
    return out


def _one_reason(Q: nx.Graph, g, w: int, plan: WaveAssignment, labels: dict, weight: str) -> str:
    basis, d = plan.basis[g], Q.nodes[g]
    if basis == "shared":
        return ("shared services move first (wave 0) so that every later wave finds them on the target"
                if w == 0 else f"shared services stay until the last wave ({w}) so that every earlier wave "
                "still finds them on the source")
    if basis == "pinned":
        return f"pinned by the user to wave {w}"
    if basis == "kept":
        return (f"kept in wave {w} as in the previous plan (its members did not change and wave {w} still "
                "fits it)")
    if basis == "pilot":
        return (f"pilot: small ready low-risk group ({d['vms']} VM, {d['tib'] * 1024:.0f} GiB) with little "
                "traffic to others")
    if basis == "alone":
        cap = plan.alone_cap.get(g)
        return (f"alone in wave {w}: exceeds the {cap} by itself" if cap
                else f"alone in wave {w}: precedence or keep-apart left nothing else")
    linked = [(e.get(weight, 0.0), m) for m, e in Q[g].items() if m in plan.wave and m != g]
    if basis == "linked" and linked:
        wt, m = max(linked, key=lambda t: (t[0], -plan.wave[t[1]]))
        return (f"most linked to group {m} '{labels.get(m, (m,))[0]}' ({_relative(w, plan.wave[m])}, "
                f"weight {wt:.3g})")
    return f"largest remaining group that fitted wave {w}"
