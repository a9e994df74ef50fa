"""Order move groups into waves under caps and precedence, keeping linked groups close.

Works on a group graph: one node per move group with attributes ``vms``, ``tib`` (storage,
TiB), ``gib`` (GiB copied inside the window), ``max_gib`` (largest single VM copy inside the
window), ``phase`` (0 dev/test, 1 unknown, 2 production), ``pilot`` (eligible for the pilot),
``pin`` (wave or None), ``apart`` (keep-apart labels), ``shared`` (shared-service group);
edges carry the soft flow ``weight`` between groups; ``Q.graph["before"]`` lists precedence
pairs ``(a, b)`` meaning wave(a) <= wave(b) (a database no later than its applications).

:func:`assign_waves` records *why* each group went where it went (``basis``), not a text:
the text is written from the final plan (:mod:`assess.waves.explain`), after the local
search may have moved groups, so it never names a wave the group is not in.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from assess.waves.params import WavesParams
from assess.waves.throughput import Throughput

GIB_TO_GBIT = 8 * 1.073741824
PHASES = {0: "sandbox/dev/test", 1: "unknown environment", 2: "production"}


@dataclass(frozen=True)
class WaveCaps:
    """Per-wave limits and the transfer model that turns GiB into hours."""

    max_vms: int
    max_tib: float
    window_hours: float
    aggregate_gbps: float
    per_vm_gbps: float
    vms_limit: str = ""
    copy_limit: str = ""

    @classmethod
    def from_params(cls, params: WavesParams) -> WaveCaps:
        """Caps from the throughput model (:class:`~assess.waves.throughput.Throughput`) and optional caps."""
        model = Throughput.from_params(params)
        max_tib = params.max_tb_per_wave if params.max_tb_per_wave is not None else math.inf
        return cls(model.vms_per_wave, max_tib, params.window_hours, model.copy_gbps, model.per_vm_gbps,
                   model.vms_limit, model.copy_limit)

    def hours(self, sum_gib: float, max_gib: float) -> float:
        """Transfer hours of a wave: all bytes at the aggregate rate, but never faster than its largest VM."""
        seconds = max(sum_gib * GIB_TO_GBIT / self.aggregate_gbps, max_gib * GIB_TO_GBIT / self.per_vm_gbps)
        return seconds / 3600.0

    def fits(self, vms: float, tib: float, gib: float, max_gib: float) -> str | None:
        """None when a wave with these totals is within every cap, else the first cap it breaks."""
        if vms > self.max_vms:
            return f"VM cap {self.max_vms}" + (f" ({self.vms_limit})" if self.vms_limit else "")
        if tib > self.max_tib + 1e-9:
            return f"storage cap {self.max_tib:g} TiB"
        if self.hours(gib, max_gib) > self.window_hours + 1e-9:
            single = max_gib / self.per_vm_gbps >= gib / self.aggregate_gbps
            why = f"one VM's copy at {self.per_vm_gbps:g} Gbit/s" if single else self.copy_limit
            return f"transfer window {self.window_hours:g} h" + (f" ({why})" if why else "")
        return None

    def fits_mask(self, vms: np.ndarray, tib: np.ndarray, gib: np.ndarray, max_gib: np.ndarray) -> np.ndarray:
        """:meth:`fits` is None, for arrays of wave totals at once (the same limits and tolerances)."""
        hours = np.maximum(gib * GIB_TO_GBIT / self.aggregate_gbps, max_gib * GIB_TO_GBIT / self.per_vm_gbps)
        within = hours / 3600.0 <= self.window_hours + 1e-9
        return (vms <= self.max_vms) & (tib <= self.max_tib + 1e-9) & within

    def group_fits(self, groups: list[dict]) -> str | None:
        """:meth:`fits` for a wave holding ``groups`` (dicts with ``vms``, ``tib``, ``gib``, ``max_gib``)."""
        return self.fits(sum(d["vms"] for d in groups), sum(d["tib"] for d in groups),
                         sum(d["gib"] for d in groups), max((d["max_gib"] for d in groups), default=0.0))


@dataclass
class _Wave:
    vms: int = 0
    tib: float = 0.0
    gib: float = 0.0
    max_gib: float = 0.0
    apart: set = field(default_factory=set)
    groups: list = field(default_factory=list)

    def blocking_cap(self, d: dict, caps: WaveCaps) -> str | None:
        return caps.fits(self.vms + d["vms"], self.tib + d["tib"], self.gib + d["gib"],
                         max(self.max_gib, d["max_gib"]))

    def add(self, n, d: dict) -> None:
        self.vms += d["vms"]
        self.tib += d["tib"]
        self.gib += d["gib"]
        self.max_gib = max(self.max_gib, d["max_gib"])
        self.apart |= set(d.get("apart", ()))
        self.groups.append(n)


@dataclass
class WaveAssignment:
    """Result of :func:`assign_waves`: wave and basis per group, and why each wave closed.

    ``basis`` values: ``shared`` (wave 0 or last), ``pinned``, ``kept`` (previous plan),
    ``pilot``, ``linked`` (most linked to placed groups), ``largest`` (largest that fits),
    ``alone`` (with the cap it exceeds alone, or None).
    """

    wave: dict = field(default_factory=dict)
    basis: dict = field(default_factory=dict)
    closed_by: dict = field(default_factory=dict)
    alone_cap: dict = field(default_factory=dict)


def assign_waves(Q: nx.Graph, caps: WaveCaps, weight: str = "weight", pilot_vms: int = 0,
                 shared_wave: str = "first", start_wave: int = 1, max_blocked: int = 64,
                 keep: dict | None = None) -> WaveAssignment:
    """Assign every group of ``Q`` to a wave (see the module docstring for node attributes).

    Shared-service groups go to wave 0 (``shared_wave="first"``) or after every other wave
    (``"last"``). ``keep`` (group -> wave, from a previous plan) places those groups in
    their wave first wherever the caps allow, so a re-run moves only what changed. Wave 1 is
    a pilot of up to ``pilot_vms`` VMs from eligible groups with the fewest links. Then waves
    fill greedily: pinned groups first, then the unplaced group most linked to the current
    wave (double weight) and earlier waves, else the largest group that fits; phases
    (sandbox/dev/test, unknown, production) and precedence pairs gate candidates; caps close
    a wave; a group too large for any wave gets one of its own. Waves before ``start_wave``
    are frozen (re-planning after they ran): only pins go there and no pilot is planned. A
    pick looks past at most ``max_blocked`` linked candidates that do not fit before taking
    the largest group that fits, and at most ``max_blocked`` unlinked groups that do not fit
    before closing the wave. O((V + E) log E + waves x max_blocked).
    """
    return _Scheduler(Q, caps, weight, max_blocked, keep or {}).run(pilot_vms, shared_wave, start_wave)


class _Scheduler:
    """State of one greedy pass of :func:`assign_waves`."""

    def __init__(self, Q: nx.Graph, caps: WaveCaps, weight: str, max_blocked: int, keep: dict) -> None:
        self.Q, self.nodes, self.caps, self.weight, self.max_blocked = Q, Q.nodes, caps, weight, max_blocked
        self.out = WaveAssignment()
        self.waves: dict[int, _Wave] = defaultdict(_Wave)
        self.preds: dict = defaultdict(set)
        for a, b in Q.graph.get("before", []):
            if a != b:
                self.preds[b].add(a)
        self.shared = sorted((n for n in Q if self.nodes[n].get("shared")), key=str)
        self.rest = [n for n in Q if not self.nodes[n].get("shared")]
        self.pinned = {n: self.nodes[n]["pin"] for n in self.rest if self.nodes[n].get("pin") is not None}
        self.keep = {n: w for n, w in keep.items()
                     if n in Q and n not in self.pinned and not self.nodes[n].get("shared")}
        self.prio: dict = defaultdict(float)
        self.heap: list = []
        self.sizes_left = Counter(self.nodes[n]["vms"] for n in self.rest)
        self.pools: dict[int, list] = {}
        self.parked_wave: list = []
        self.parked_phase: list = []
        self.left: Counter = Counter()

    def place(self, n, w: int, basis: str) -> None:
        out, nodes = self.out, self.nodes
        out.wave[n], out.basis[n] = w, basis
        self.waves[w].add(n, nodes[n])
        if not nodes[n].get("shared"):
            self.sizes_left[nodes[n]["vms"]] -= 1
            self.remaining -= 1
            if n not in self.pinned and n not in self.keep:
                self.left[nodes[n]["phase"]] -= 1
        for m, d in self.Q[n].items():
            if m not in out.wave:
                self.prio[m] += 2 * d.get(self.weight, 0.0)
                heapq.heappush(self.heap, (-self.prio[m], str(m), m))

    def close(self, w: int, closed_by: str) -> None:
        """Close wave ``w``: links to it now count once (earlier wave), not twice (current wave)."""
        self.out.closed_by[w] = closed_by
        for n in self.waves[w].groups:
            for m, d in self.Q[n].items():
                if m not in self.out.wave:
                    self.prio[m] -= d.get(self.weight, 0.0)
                    heapq.heappush(self.heap, (-self.prio[m], str(m), m))

    def run(self, pilot_vms: int, shared_wave: str, start_wave: int) -> WaveAssignment:
        self.left = Counter(self.nodes[n]["phase"] for n in self.rest
                            if n not in self.pinned and n not in self.keep)
        self.remaining = len(self.rest)
        if self.shared and shared_wave == "first":
            for n in self.shared:
                self.place(n, 0, "shared")
        for n, w in sorted(self.pinned.items(), key=lambda t: (t[1], str(t[0]))):
            if w <= 1 or w < start_wave:
                self.place(n, w, "pinned")
        self._keep_wave(1)
        w = 1
        if pilot_vms > 0 and start_wave <= 1 and self._pilot(pilot_vms):
            self.close(1, "pilot size")
            w = 2
        w = max(w, start_wave)
        while self.remaining:
            self._fill(w)
            w += 1
        if self.shared and shared_wave == "last":
            last = max(self.out.wave.values(), default=0) + 1
            for n in self.shared:
                self.place(n, last, "shared")
        return self.out

    def _keep_wave(self, w: int) -> None:
        """Groups the previous plan had in wave ``w``, while they fit it; the others are planned afresh."""
        for n in sorted((n for n, k in self.keep.items() if k <= w and n not in self.out.wave), key=str):
            if self._eligible(n, self.waves[w], any_phase=True) is None:
                self.place(n, w, "kept")
            else:
                del self.keep[n]
                self.left[self.nodes[n]["phase"]] += 1

    def _pilot(self, pilot_vms: int) -> bool:
        nodes, Q = self.nodes, self.Q
        pilot = sorted((n for n in self.rest if nodes[n].get("pilot") and n not in self.pinned
                        and n not in self.keep and n not in self.out.wave and not self.preds[n]),
                       key=lambda n: (Q.degree(n, self.weight), nodes[n]["vms"], nodes[n]["tib"], str(n)))
        wave = self.waves[1]
        for n in pilot:
            if wave.vms + nodes[n]["vms"] <= pilot_vms and wave.blocking_cap(nodes[n], self.caps) is None:
                self.place(n, 1, "pilot")
        return bool(wave.groups)

    def _fill(self, w: int) -> None:
        """Fill wave ``w``: pins, kept groups, then linked or largest groups until a cap closes it."""
        wave = self.waves[w]
        self._refill_pools()
        for n in sorted((n for n, p in self.pinned.items() if p == w and n not in self.out.wave), key=str):
            self.place(n, w, "pinned")
        self._keep_wave(w)
        blocked: Counter = Counter()
        opened = self._phase()
        while self._phase() is not None:
            if wave.vms and self.caps.max_vms - wave.vms < self._smallest_left():
                break  # no group fits the VMs left in this wave
            if wave.groups and self._phase() != opened:
                blocked["phase change: production moves in later windows than dev/test"] += 1
                break
            pick, linked = self._pick(wave, blocked)
            if pick is None:
                waiting = next((n for n in self.pools.get(self._phase(), [])
                                if n not in self.out.wave and n not in self.keep), None)
                if waiting is not None:
                    blocked[self._eligible(waiting, wave) or ""] += 1
                break
            self.place(pick, w, "linked" if linked else "largest")
            if self.left[self.nodes[pick]["phase"]] == 0:
                self._push_back(self.parked_phase)
        if not wave.groups:
            self._force(w)
        caps_hit = [k for k in blocked if k.startswith(("VM cap", "storage cap", "transfer window", "phase"))]
        if wave.vms and (self.caps.max_vms - wave.vms) < self._smallest_left():
            caps_hit.insert(0, self.caps.fits(self.caps.max_vms + 1, 0.0, 0.0, 0.0) or "")
        self.close(w, caps_hit[0] if caps_hit else "")
        self._push_back(self.parked_wave)
        self._push_back(self.parked_phase)

    def _pick(self, wave: _Wave, blocked: Counter):
        """The unplaced group most linked to placed ones that fits, else the largest that fits."""
        looked = 0
        while self.heap and looked < self.max_blocked:
            neg, _, n = heapq.heappop(self.heap)
            if n in self.out.wave or -neg != self.prio[n] or n in self.pinned or n in self.keep:
                continue
            problem = self._eligible(n, wave)
            if problem is None:
                return n, True
            blocked[problem] += 1
            looked += 1
            (self.parked_phase if problem == "phase" else self.parked_wave).append(n)
        return self._largest_fitting(wave), False

    def _force(self, w: int) -> None:
        """An empty wave takes the first group of the current phase whose predecessors are placed."""
        free = [n for n in self.pools.get(self._phase(), [])
                if n not in self.out.wave and n not in self.keep]
        forced = next((n for n in free if all(p in self.out.wave for p in self.preds[n])),
                      free[0] if free else None)
        if forced is not None:
            self.out.alone_cap[forced] = _Wave().blocking_cap(self.nodes[forced], self.caps)
            self.place(forced, w, "alone")

    def _phase(self) -> int | None:
        return min((p for p, c in self.left.items() if c > 0), default=None)

    def _smallest_left(self) -> int:
        return min((size for size, count in self.sizes_left.items() if count > 0), default=0)

    def _refill_pools(self) -> None:
        """Pools of unplaced groups per phase, largest first.

        Sorted once, then compacted when half placed (placed groups are skipped on the way), so
        thousands of waves cost O(groups log groups), not O(waves x groups).
        """
        nodes, out = self.nodes, self.out
        if not self.pools:
            for n in sorted((n for n in self.rest if n not in self.pinned and n not in out.wave),
                            key=lambda n: (-nodes[n]["vms"], -nodes[n]["tib"], str(n))):
                self.pools.setdefault(nodes[n]["phase"], []).append(n)
        for p, pool in self.pools.items():
            if 2 * self.left[p] < len(pool):
                self.pools[p] = [n for n in pool if n not in out.wave]

    def _eligible(self, n, wave: _Wave, any_phase: bool = False) -> str | None:
        d = self.nodes[n]
        if not any_phase and d["phase"] != self._phase():
            return "phase"
        if any(p not in self.out.wave for p in self.preds[n]):
            return "waits for its database group"
        if wave.apart & set(d.get("apart", ())):
            return "keep-apart rule"
        return wave.blocking_cap(d, self.caps)

    def _largest_fitting(self, wave: _Wave):
        pool = self.pools.get(self._phase(), [])
        room = self.caps.max_vms - wave.vms
        lo, hi = 0, len(pool)
        while lo < hi:  # first index whose group fits the VM room (pool sorted by size desc)
            mid = (lo + hi) // 2
            if self.nodes[pool[mid]]["vms"] > room:
                lo = mid + 1
            else:
                hi = mid
        unplaced = (n for n in itertools.islice(pool, lo, None)
                    if n not in self.out.wave and n not in self.keep)
        window = itertools.islice(unplaced, self.max_blocked)
        return next((n for n in window if self._eligible(n, wave) is None), None)

    def _push_back(self, items: list) -> None:
        for m in items:
            if m not in self.out.wave:
                heapq.heappush(self.heap, (-self.prio[m], str(m), m))
        items.clear()
