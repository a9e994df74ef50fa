"""Order move groups into waves under caps and precedence, keeping linked groups close.

Works on a group graph: one node per move group with attributes ``vms``, ``tib`` (storage,
TiB), ``gib`` (GiB copied inside the window), ``max_gib`` (largest single VM copy inside the
window), ``phase`` (0 dev/test, 1 unknown, 2 production), ``pilot`` (eligible for the pilot),
``pin`` (wave or None), ``apart`` (keep-apart labels), ``shared`` (shared-service group);
edges carry the soft flow ``weight`` between groups; ``Q.graph["before"]`` lists precedence
pairs ``(a, b)`` meaning wave(a) <= wave(b) (a database no later than its applications).
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import networkx as nx

from assess.waves.params import WavesParams

GIB_TO_GBIT = 8 * 1.073741824
PHASES = {0: "dev/test", 1: "unknown environment", 2: "production"}


@dataclass(frozen=True)
class WaveCaps:
    """Per-wave limits and the transfer model that turns GiB into hours."""

    max_vms: int
    max_tib: float
    window_hours: float
    aggregate_gbps: float
    per_vm_gbps: float

    @classmethod
    def from_params(cls, params: WavesParams) -> WaveCaps:
        """Caps from planner parameters; concurrency bounds the aggregate rate."""
        link = params.bandwidth_gbps * params.efficiency
        per_vm = min(params.per_vm_gbps, link)
        return cls(params.max_vms_per_wave, params.max_tb_per_wave, params.window_hours,
                   min(link, params.max_concurrent * per_vm), per_vm)

    def hours(self, sum_gib: float, max_gib: float) -> float:
        """Transfer hours of a wave: all bytes at the aggregate rate, but never faster than its largest VM."""
        seconds = max(sum_gib * GIB_TO_GBIT / self.aggregate_gbps, max_gib * GIB_TO_GBIT / self.per_vm_gbps)
        return seconds / 3600.0


@dataclass
class _Wave:
    vms: int = 0
    tib: float = 0.0
    gib: float = 0.0
    max_gib: float = 0.0
    apart: set = field(default_factory=set)
    groups: list = field(default_factory=list)

    def blocking_cap(self, d: dict, caps: WaveCaps) -> str | None:
        if self.vms + d["vms"] > caps.max_vms:
            return f"VM cap {caps.max_vms}"
        if self.tib + d["tib"] > caps.max_tib + 1e-9:
            return f"storage cap {caps.max_tib:g} TiB"
        if caps.hours(self.gib + d["gib"], max(self.max_gib, d["max_gib"])) > caps.window_hours + 1e-9:
            return f"transfer window {caps.window_hours:g} h"
        return None

    def add(self, n, d: dict) -> None:
        self.vms += d["vms"]
        self.tib += d["tib"]
        self.gib += d["gib"]
        self.max_gib = max(self.max_gib, d["max_gib"])
        self.apart |= set(d.get("apart", ()))
        self.groups.append(n)


@dataclass
class WaveAssignment:
    """Result of :func:`assign_waves`: wave and reason per group, and why each wave closed."""

    wave: dict = field(default_factory=dict)
    reason: dict = field(default_factory=dict)
    closed_by: dict = field(default_factory=dict)


def assign_waves(Q: nx.Graph, caps: WaveCaps, weight: str = "weight", pilot_vms: int = 0,
                 shared_wave: str = "first", start_wave: int = 1, max_blocked: int = 64) -> WaveAssignment:
    """Assign every group of ``Q`` to a wave (see the module docstring for node attributes).

    Shared-service groups go to wave 0 (``shared_wave="first"``) or after every other wave
    (``"last"``). Wave 1 is a pilot of up to ``pilot_vms`` VMs from eligible groups with the
    fewest links. Then waves fill greedily: pinned groups first, then the unplaced group most
    linked to the current wave (double weight) and earlier waves, else the largest group that
    fits; phases (dev/test, unknown, production) and precedence pairs gate candidates; caps
    close a wave; a group too large for any wave gets one of its own. Waves before
    ``start_wave`` are frozen (re-planning after they ran): only pins go there and no pilot
    is planned. A pick looks past at most ``max_blocked`` linked candidates that do not fit
    (they wait for the next wave) before taking the largest group that fits, and at most
    ``max_blocked`` unlinked groups that do not fit before closing the wave, so thousands of
    waves do not each check every waiting group again. O((V + E) log E + waves x max_blocked).
    """
    out = WaveAssignment()
    nodes = Q.nodes
    waves: dict[int, _Wave] = defaultdict(_Wave)
    preds: dict = defaultdict(set)
    succs: dict = defaultdict(set)
    for a, b in Q.graph.get("before", []):
        if a != b:
            preds[b].add(a)
            succs[a].add(b)
    shared = sorted((n for n in Q if nodes[n].get("shared")), key=str)
    rest = [n for n in Q if not nodes[n].get("shared")]
    pinned = {n: nodes[n]["pin"] for n in rest if nodes[n].get("pin") is not None}
    prio: dict = defaultdict(float)
    heap: list = []
    sizes_left = Counter(nodes[n]["vms"] for n in rest)  # VMs of each unplaced group -> how many

    def place(n, w: int, why: str) -> None:
        out.wave[n], out.reason[n] = w, why
        waves[w].add(n, nodes[n])
        if not nodes[n].get("shared"):
            sizes_left[nodes[n]["vms"]] -= 1
        for m, d in Q[n].items():
            if m not in out.wave:
                prio[m] += 2 * d.get(weight, 0.0)
                heapq.heappush(heap, (-prio[m], str(m), m))

    if shared and shared_wave == "first":
        for n in shared:
            place(n, 0, "shared services move first (wave 0) so that every later wave finds them on "
                        "the target")
    for n, w in sorted(pinned.items(), key=lambda t: (t[1], str(t[0]))):
        if w <= 1 or w < start_wave:
            place(n, w, f"pinned by the user to wave {w}")
    w = 1
    if pilot_vms > 0 and start_wave <= 1:
        pilot = sorted((n for n in rest if nodes[n].get("pilot") and n not in pinned and not preds[n]),
                       key=lambda n: (Q.degree(n, weight), nodes[n]["vms"], nodes[n]["tib"], str(n)))
        for n in pilot:
            if waves[1].vms + nodes[n]["vms"] <= pilot_vms and waves[1].blocking_cap(nodes[n], caps) is None:
                place(n, 1, f"pilot: small ready low-risk group ({nodes[n]['vms']} VM, "
                            f"{nodes[n]['tib'] * 1024:.0f} GiB) with little traffic to others")
        if waves[1].groups:
            _close(1, Q, waves, out, prio, heap, weight, "pilot size")
            w = 2
    w = max(w, start_wave)
    left = Counter(nodes[n]["phase"] for n in rest if n not in out.wave and n not in pinned)
    phased = len({nodes[n]["phase"] for n in rest}) > 1
    pools: dict[int, list] = {}
    parked_wave: list = []
    parked_phase: list = []

    def current_phase() -> int | None:
        return min((p for p, c in left.items() if c > 0), default=None)

    def refill_pools() -> None:
        """Pools of unplaced groups per phase, largest first.

        Sorted once, then compacted when half placed (placed groups are skipped on the way), so
        thousands of waves cost O(groups log groups), not O(waves x groups).
        """
        if not pools:
            for n in sorted((n for n in rest if n not in pinned and n not in out.wave),
                            key=lambda n: (-nodes[n]["vms"], -nodes[n]["tib"], str(n))):
                pools.setdefault(nodes[n]["phase"], []).append(n)
        for p, pool in pools.items():
            if 2 * left[p] < len(pool):
                pools[p] = [n for n in pool if n not in out.wave]

    def smallest_left() -> int:
        return min((size for size, count in sizes_left.items() if count > 0), default=0)

    def eligible(n, wave: _Wave) -> str | None:
        d = nodes[n]
        if d["phase"] != phase_now:
            return "phase"
        if any(p not in out.wave for p in preds[n]):
            return "waits for its database group"
        if wave.apart & set(d.get("apart", ())):
            return "keep-apart rule"
        return wave.blocking_cap(d, caps)

    def largest_fitting(wave: _Wave):
        pool = pools.get(current_phase(), [])
        room = caps.max_vms - wave.vms
        lo, hi = 0, len(pool)
        while lo < hi:  # first index whose group fits the VM room (pool sorted by size desc)
            mid = (lo + hi) // 2
            if nodes[pool[mid]]["vms"] > room:
                lo = mid + 1
            else:
                hi = mid
        unplaced = (n for n in itertools.islice(pool, lo, None) if n not in out.wave)
        return next((n for n in itertools.islice(unplaced, max_blocked) if eligible(n, wave) is None), None)

    def why(n, w: int, linked: bool) -> str:
        d = nodes[n]
        if linked:
            m, wt = max(((m, e.get(weight, 0.0)) for m, e in Q[n].items() if m in out.wave),
                        key=lambda t: (t[1], -out.wave[t[0]]))
            parts = [f"most linked to group {m} (wave {out.wave[m]}, weight {wt:.3g})"]
        else:
            parts = [f"largest remaining group that fits wave {w}"]
        if phased:
            parts.append(f"{PHASES[d['phase']]} phase" + (" before production" if d["phase"] == 0 else ""))
        if preds[n]:
            parts.append("with or after its database group(s) " + ", ".join(sorted(map(str, preds[n]))))
        return "; ".join(parts)

    def push_back(items: list) -> None:
        for m in items:
            if m not in out.wave:
                heapq.heappush(heap, (-prio[m], str(m), m))
        items.clear()

    remaining = sum(1 for n in rest if n not in out.wave)
    while remaining:
        wave = waves[w]
        refill_pools()
        for n in sorted((n for n, p in pinned.items() if p == w and n not in out.wave), key=str):
            place(n, w, f"pinned by the user to wave {w}")
            remaining -= 1
        blocked: Counter = Counter()
        while (phase_now := current_phase()) is not None:
            if wave.vms and caps.max_vms - wave.vms < smallest_left():
                break  # no group fits the VMs left in this wave
            pick, looked = None, 0
            while heap and looked < max_blocked:
                neg, _, n = heapq.heappop(heap)
                if n in out.wave or -neg != prio[n] or n in pinned:
                    continue
                problem = eligible(n, wave)
                if problem is None:
                    pick = n
                    break
                blocked[problem] += 1
                looked += 1
                (parked_phase if problem == "phase" else parked_wave).append(n)
            linked = pick is not None
            if pick is None:
                pick = largest_fitting(wave)
            if pick is None:
                break
            place(pick, w, why(pick, w, linked))
            remaining -= 1
            left[nodes[pick]["phase"]] -= 1
            if left[nodes[pick]["phase"]] == 0:
                push_back(parked_phase)
        if not wave.groups:
            forced = _forced(pools, current_phase(), out, preds)
            if forced is not None:
                cap = _Wave().blocking_cap(nodes[forced], caps)
                place(forced, w, f"alone in wave {w}: exceeds the {cap} by itself" if cap
                      else f"alone in wave {w}: precedence or keep-apart left nothing else")
                remaining -= 1
                left[nodes[forced]["phase"]] -= 1
        caps_hit = [k for k in blocked if k.startswith(("VM cap", "storage cap", "transfer window"))]
        if wave.vms and (caps.max_vms - wave.vms) < smallest_left():
            caps_hit.insert(0, f"VM cap {caps.max_vms}")
        _close(w, Q, waves, out, prio, heap, weight, caps_hit[0] if caps_hit else "")
        push_back(parked_wave)
        push_back(parked_phase)
        w += 1
    if shared and shared_wave == "last":
        last = max(out.wave.values(), default=0) + 1
        for n in shared:
            place(n, last, f"shared services stay until the last wave ({last}) so that every "
                           "earlier wave still finds them on the source")
    return out


def _forced(pools, phase, out, preds):
    """First unplaced group of the current phase whose predecessors are placed (else any of it)."""
    free = [n for n in pools.get(phase, []) if n not in out.wave]
    return next((n for n in free if all(p in out.wave for p in preds[n])), free[0] if free else None)


def _close(w, Q, waves, out, prio, heap, weight, closed_by) -> None:
    """Close wave ``w``: links to it now count once (earlier wave), not twice (current wave)."""
    out.closed_by[w] = closed_by
    for n in waves[w].groups:
        for m, d in Q[n].items():
            if m not in out.wave:
                prio[m] -= d.get(weight, 0.0)
                heapq.heappush(heap, (-prio[m], str(m), m))
