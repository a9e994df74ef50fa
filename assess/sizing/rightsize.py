"""Right-sizing: each VM's vCPUs and memory from its utilization history (or as allocated).

Performance mode follows Azure Migrate's performance-based sizing: the chosen percentile of
the samples in the lookback window, times a comfort factor; CPU demand in MHz is turned into
vCPUs against the core speed of the VM's host; memory comes from the consumed (or active)
counter. Floors (1 vCPU, the guest OS minimum) and the upsizing policy apply last. Each VM
gets a confidence rating, 1-5 stars, from the share of expected samples present.

Two entry points, same result: :meth:`RightSizer.fit` on the canonical ``utilization`` table
(summarised in memory), and :meth:`RightSizer.fit_stats` on a precomputed stats table
(:mod:`assess.sizing.utilization_stats`), which is how estates of 100,000 VMs x 360 samples x 4
metrics are sized without holding the samples in memory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import ValidationError
from sklearn.base import BaseEstimator

from assess.sizing.features import lookback_window
from assess.sizing.params import RightSizing
from assess.sizing.utilization_stats import STATS_COLUMNS, frame_stats

_D = RightSizing()

SIZES_COLUMNS = [
    "vm_id", "mode", "vcpus", "memory_mib", "cpu_demand_mhz", "memory_demand_mib", "core_mhz",
    "confidence", "confidence_reason", "sizing_reason", "samples", "expected_samples",
    "allocated_vcpus", "allocated_memory_mib", "memory_source",
]


class RightSizer(BaseEstimator):
    """Right-size VMs from utilization: percentile x comfort factor, floors, cap, confidence.

    Parameters are those of :class:`assess.sizing.params.RightSizing` (same names, same
    defaults); ``guest_minimums=None`` means the documented defaults.

    Attributes:
        sizes_: one row per row of ``vms``: ``vm_id, mode`` (performance, or as_is when chosen
            or when the VM has no samples), ``vcpus, memory_mib`` (the answer),
            ``cpu_demand_mhz, memory_demand_mib`` (percentile x comfort), ``core_mhz``,
            ``confidence`` (1-5; null in as_is mode), ``confidence_reason``, ``sizing_reason``,
            ``samples, expected_samples`` (de-duplicated CPU + memory samples in the VM's window),
            ``allocated_vcpus, allocated_memory_mib``, ``memory_source`` (the counter the memory
            rests on: ``mem_consumed_mib``, ``mem_active_mib``, ``guest_minimum`` or
            ``allocated``).
        stats_: the stats table the sizes were computed from.
        window_start_, window_end_: the estate's (start, end] window, UTC; each VM's own window
            ends at its last sample unless ``lookback_end`` fixes it.
        warnings_: recoverable oddities as rows of the canonical ``warnings`` table.

    Example:
        >>> sizer = RightSizer(percentile=95).fit(utilization, vms, hosts)  # doctest: +SKIP
        >>> sizer.sizes_[["vm_id", "vcpus", "memory_mib", "confidence"]]  # doctest: +SKIP
    """

    def __init__(
        self,
        mode: str = _D.mode,
        percentile: int = _D.percentile,
        comfort_factor: float = _D.comfort_factor,
        lookback_days: float = _D.lookback_days,
        lookback_end=None,
        memory_metrics: tuple[str, ...] = tuple(_D.memory_metrics),
        min_vcpus: int = _D.min_vcpus,
        min_memory_mib: float = _D.min_memory_mib,
        guest_minimums=None,
        upsizing: str = _D.upsizing,
        sample_interval_s: int | None = None,
        default_interval_s: int = _D.default_interval_s,
        confidence_bands: tuple[float, float, float, float] = _D.confidence_bands,
        fallback_core_mhz: float = _D.fallback_core_mhz,
    ):
        self.mode = mode
        self.percentile = percentile
        self.comfort_factor = comfort_factor
        self.lookback_days = lookback_days
        self.lookback_end = lookback_end
        self.memory_metrics = memory_metrics
        self.min_vcpus = min_vcpus
        self.min_memory_mib = min_memory_mib
        self.guest_minimums = guest_minimums
        self.upsizing = upsizing
        self.sample_interval_s = sample_interval_s
        self.default_interval_s = default_interval_s
        self.confidence_bands = confidence_bands
        self.fallback_core_mhz = fallback_core_mhz

    @classmethod
    def from_params(cls, params: RightSizing) -> RightSizer:
        """A sizer configured from the ``rightsizing`` group of ``SizingParams``."""
        return cls(**params.model_dump(exclude={"stats_memory_limit"}))

    def _validated(self) -> RightSizing:
        values = {k: v for k, v in self.get_params().items() if v is not None}
        try:
            return RightSizing(**values)
        except ValidationError as exc:
            err = exc.errors()[0]
            name = ".".join(str(p) for p in err["loc"])
            raise ValueError(
                f"RightSizer: {name}={err.get('input')!r} is invalid: {err['msg']} "
                f"(received {err.get('input')!r})"
            ) from None

    def fit(
        self, utilization: pd.DataFrame, vms: pd.DataFrame, hosts: pd.DataFrame | None = None
    ) -> RightSizer:
        """Size every VM of ``vms`` from the canonical ``utilization`` samples; return self."""
        params = self._validated()
        _require(utilization, "utilization", ["vm_id", "metric", "timestamp", "value"])
        start, end = lookback_window(utilization, params.lookback_days, params.lookback_end)
        stats = (frame_stats(utilization, params.lookback_days, params.lookback_end)
                 if params.mode == "performance" else None)
        return self._fit(stats, vms, hosts, start, end, params)

    def fit_stats(
        self, stats: pd.DataFrame, vms: pd.DataFrame, hosts: pd.DataFrame | None = None
    ) -> RightSizer:
        """Size every VM from a stats table computed over the lookback window; return self.

        ``stats`` is the table of :mod:`assess.sizing.utilization_stats` (``frame_stats`` in
        memory, ``file_stats`` out of core with DuckDB) and must
        cover the window (lookback_end or its latest ``last``, back ``lookback_days``).
        """
        params = self._validated()
        _require(stats, "stats", ["vm_id", "metric", "samples", f"p{params.percentile}", "last"])
        end = params.lookback_end if params.lookback_end is not None else (
            stats["last"].max() if len(stats) else None)
        start, end = lookback_window(stats.rename(columns={"last": "timestamp"}), params.lookback_days, end)
        return self._fit(stats, vms, hosts, start, end, params)

    def _fit(self, stats, vms, hosts, start, end, p: RightSizing) -> RightSizer:
        _require(vms, "vms", ["vm_id"])
        self.window_start_, self.window_end_ = start, end
        self.stats_ = stats if stats is not None else pd.DataFrame(columns=STATS_COLUMNS)
        self.warnings_ = []
        v = _vm_frame(vms)
        core, core_note = self._core_mhz(v, hosts, p)
        if p.mode == "as_is":
            sizes = _as_is(v, core, "as_is mode: allocated resources, no history used")
        else:
            sizes = self._performance(v, core, core_note, p)
        self.warnings_ = pd.DataFrame(self.warnings_, columns=["code", "message", "table", "row", "column"])
        self.sizes_ = sizes[SIZES_COLUMNS].reset_index(drop=True)
        return self

    def _core_mhz(self, v: pd.DataFrame, hosts: pd.DataFrame | None, p: RightSizing):
        """Per-VM core speed, MHz, and a note where it is not the VM's own host's."""
        hosts = hosts if hosts is not None and "cpu_mhz" in hosts else pd.DataFrame(
            columns=["name", "cluster", "cpu_mhz"])
        speeds = hosts[pd.to_numeric(hosts["cpu_mhz"], errors="coerce") > 0]
        by_host = speeds.groupby(speeds["name"].astype("string"))["cpu_mhz"].median()
        by_cluster = speeds.groupby(speeds["cluster"].astype("string"))["cpu_mhz"].median()
        estate = speeds["cpu_mhz"].median() if len(speeds) else np.nan
        own = v["host"].map(by_host).astype("float64")
        cluster = v["cluster"].map(by_cluster).astype("float64")
        note = pd.Series("", index=v.index, dtype="string")
        use_cluster = own.isna() & cluster.notna()
        note[use_cluster] = "core speed of host unknown: cluster median " + cluster[use_cluster].round(
            ).astype("int64").astype("string") + " MHz used"
        core = own.fillna(cluster)
        if not np.isnan(estate):
            use_estate = core.isna()
            note[use_estate] = f"core speed of host and cluster unknown: estate median {estate:.0f} MHz used"
            core = core.fillna(estate)
        use_default = core.isna()
        note[use_default] = f"no host core speed known: fallback_core_mhz {p.fallback_core_mhz:.0f} MHz used"
        core = core.fillna(p.fallback_core_mhz)
        fallback = note != ""
        if fallback.any():
            self.warnings_.append(dict(
                code="sizing.core_speed.fallback", table="hosts", row="", column="cpu_mhz",
                message=f"{int(fallback.sum())} VM(s) have no host core speed, e.g. "
                f"{v.loc[fallback, 'vm_id'].iloc[0]}: {note[fallback].iloc[0]}",
            ))
        return core, note

    def _performance(self, v: pd.DataFrame, core: pd.Series, core_note: pd.Series, p: RightSizing):
        stats = self.stats_
        unknown = sorted(set(stats["vm_id"].astype("string")) - set(v["vm_id"]))
        if unknown:
            self.warnings_.append(dict(
                code="sizing.utilization.unknown_vm", table="utilization", row="", column="vm_id",
                message=f"samples of {len(unknown)} vm_id(s) not in vms were ignored, e.g. {unknown[0]}"))
        pick = _Picker(stats, v["vm_id"])
        cpu = _cpu_evidence(pick, v, core, f"p{p.percentile}")
        mem = _memory_evidence(pick, f"p{p.percentile}", p)
        sizes, reason = _right_sized(v, core, cpu, mem, p)
        start, end, last = self._vm_windows(v, pick, p)
        interval = _intervals(pick, stats, v.index, p)
        expected = np.floor(p.lookback_days * 86400 / interval + 1e-6).clip(lower=1)
        present = cpu["samples"].clip(upper=expected) + mem["samples"].clip(upper=expected)
        share = present / (2 * expected) * 100
        stars = pd.Series(np.searchsorted(np.asarray(p.confidence_bands), share.to_numpy(), side="left") + 1,
                          index=v.index)
        sizes["confidence"], sizes["samples"], sizes["expected_samples"] = stars, present, 2 * expected
        first = pd.concat([pick(m, "first") for m in _metrics(p)], axis=1).min(axis=1)
        has = (cpu["q"].notna(), mem["q"].notna(), mem["unmeasured"])
        newest = pd.Series(self.window_end_, index=v.index).astype(last.dtype)
        why = _confidence_reasons(v, share, (start, end, first, last, newest), interval, has, stars, p)
        sizes["confidence_reason"] = why.text(core_note)
        sizes["sizing_reason"] = reason.text()
        nodata = cpu["q"].isna() & mem["q"].isna()
        if nodata.any():
            days = f"{p.lookback_days:g}-day"
            fallback = _as_is(v[nodata], core[nodata],
                              f"no utilization samples in the {days} window: sized as_is (allocated)")
            fallback["confidence"] = 1
            fallback["confidence_reason"] = fallback["confidence_reason"] + _sep(core_note[nodata])
            fallback["expected_samples"] = 2 * expected[nodata]
            sizes.loc[nodata, fallback.columns] = fallback
            self.warnings_.append(dict(
                code="sizing.utilization.missing", table="utilization", row="", column="vm_id",
                message=f"{int(nodata.sum())} VM(s) have no samples in the {days} window and were "
                f"sized as_is, e.g. {v.loc[nodata, 'vm_id'].iloc[0]}"))
        self._warn_memory(v, mem, cpu["q"].notna())
        return _typed(sizes)

    def _vm_windows(self, v: pd.DataFrame, pick: _Picker, p: RightSizing):
        """Per-VM (start, end] window and last sample: each VM's own last sample, or the fixed end."""
        last = pd.concat([pick(m, "last") for m in _metrics(p)], axis=1).max(axis=1)
        if p.lookback_end is not None or self.window_end_ is None:
            end = pd.Series(self.window_end_, index=v.index).astype(last.dtype)
        else:
            end = last
            behind = last.notna() & (last <= self.window_end_ - pd.Timedelta(days=p.lookback_days))
            if behind.any():
                shown = ", ".join(f"{vm} (ends {t:%Y-%m-%d})" for vm, t in
                                  zip(v.loc[behind, "vm_id"][:5], last[behind][:5]))
                self.warnings_.append(dict(
                    code="sizing.window.per_vm", table="utilization", row="", column="timestamp",
                    message=f"{int(behind.sum())} VM(s) have no samples in the last {p.lookback_days:g} days "
                    f"before the newest sample ({self.window_end_:%Y-%m-%d}); each is sized on the "
                    f"{p.lookback_days:g} days before its own last sample: {shown}"))
        return end - pd.Timedelta(days=p.lookback_days), end, last

    def _warn_memory(self, v: pd.DataFrame, mem: pd.DataFrame, has_cpu: pd.Series) -> None:
        unmeasured = mem["unmeasured"] & mem["q"].isna()
        if unmeasured.any():
            names = v.loc[unmeasured, "vm_id"]
            self.warnings_.append(dict(
                code="sizing.memory.not_measured", table="utilization", row="", column="value",
                message=f"{int(unmeasured.sum())} VM(s) have memory counters that are 0 in every sample "
                "(not measured, not idle): memory sized as allocated: " + ", ".join(names[:10])
                + (f" and {len(names) - 10} more" if len(names) > 10 else "")))


class _Picker:
    """Look up one stats field of one metric for every VM, aligned to the VM frame."""

    def __init__(self, stats: pd.DataFrame, vm_ids: pd.Series):
        self.vm_ids = vm_ids
        self.by_metric = {}
        for metric, group in stats.groupby(stats["metric"].astype("string")):
            group = group.drop_duplicates("vm_id")
            self.by_metric[metric] = group.set_index(group["vm_id"].astype("string"))

    def __call__(self, metric: str, field: str) -> pd.Series:
        frame = self.by_metric.get(metric)
        if frame is None or field not in frame:
            dtype = "datetime64[ns, UTC]" if field in ("first", "last") else "float64"
            return pd.Series(pd.NaT if dtype != "float64" else np.nan, index=self.vm_ids.index, dtype=dtype)
        values = frame[field].reindex(self.vm_ids.to_numpy())
        values.index = self.vm_ids.index
        return values if field in ("first", "last") else values.astype("float64")


class _Reasons:
    """Reason fragments gathered per row, vectorised, joined with '; '."""

    def __init__(self, index: pd.Index):
        self.parts = pd.Series("", index=index, dtype="string")

    def add(self, where: pd.Series, text) -> None:
        piece = text if isinstance(text, str) else text.astype("string")
        self.parts = self.parts.where(~where.fillna(False).astype(bool), self.parts + "; " + piece)

    def text(self, extra: pd.Series | None = None) -> pd.Series:
        out = self.parts if extra is None else self.parts + _sep(extra)
        return out.str.removeprefix("; ").fillna("")


def _metrics(p: RightSizing) -> tuple[str, ...]:
    return ("cpu_usage_mhz", "cpu_usage_pct", *p.memory_metrics)


def _cpu_evidence(pick: _Picker, v: pd.DataFrame, core: pd.Series, q: str) -> pd.DataFrame:
    """CPU demand percentile (MHz; from cpu_usage_pct x allocation x core speed when needed)."""
    mhz, pct = pick("cpu_usage_mhz", q), pick("cpu_usage_pct", q)
    return pd.DataFrame({
        "q": mhz.fillna(pct / 100 * v["vcpus"].astype("float64") * core),
        "from_pct": mhz.isna() & pct.notna(),
        "samples": pick("cpu_usage_mhz", "samples").fillna(pick("cpu_usage_pct", "samples")).fillna(0),
    })


def _memory_evidence(pick: _Picker, q: str, p: RightSizing) -> pd.DataFrame:
    """Memory percentile from the first measured metric of ``memory_metrics``.

    A metric whose samples are all 0 is not measured (a running guest always holds memory),
    so it is skipped; ``unmeasured`` marks VMs that had only such counters. ``active_floor`` is
    the active-memory percentile x comfort, below which memory is never sized.
    """
    index = pick.vm_ids.index
    out = pd.DataFrame({"q": np.nan, "source": pd.Series("", index=index, dtype="string"), "samples": 0.0,
                        "unmeasured": False}, index=index)
    for metric in p.memory_metrics:
        value, measured = pick(metric, q), pick(metric, "max") > 0
        out["unmeasured"] |= value.notna() & ~measured
        fill = out["q"].isna() & value.notna() & measured
        out.loc[fill, "q"] = value[fill]
        out.loc[fill, "source"] = metric
        out.loc[fill, "samples"] = pick(metric, "samples")[fill]
    active = pick("mem_active_mib", q).where(pick("mem_active_mib", "max") > 0)
    out["active_floor"] = active * p.comfort_factor
    return out


def _intervals(pick: _Picker, stats: pd.DataFrame, index: pd.Index, p: RightSizing) -> pd.Series:
    """Seconds between samples per VM: given, else the VM's own, else the estate's, else the default."""
    interval = pd.Series(float(p.sample_interval_s or np.nan), index=index)
    for metric in _metrics(p):
        interval = interval.fillna(pick(metric, "interval_s"))
    estate_interval = pd.to_numeric(stats["interval_s"], errors="coerce").median()
    return interval.fillna(estate_interval).fillna(p.default_interval_s)


def _right_sized(v: pd.DataFrame, core: pd.Series, cpu: pd.DataFrame, mem: pd.DataFrame, p: RightSizing
                 ) -> tuple[pd.DataFrame, _Reasons]:
    """VCPUs and memory from the demand, then floors and the upsizing cap, with their reasons."""
    has_cpu, has_mem = cpu["q"].notna(), mem["q"].notna()
    cpu_demand = cpu["q"] * p.comfort_factor
    mem_demand = np.fmax(mem["q"] * p.comfort_factor, mem["active_floor"]).where(has_mem)
    alloc_v, alloc_m = v["vcpus"].astype("float64"), v["memory_mib"].astype("float64")
    floor_v, floor_m, family = _floors(v, p)
    vcpus = np.ceil(cpu_demand / core - 1e-9).where(has_cpu, alloc_v)
    memory = np.ceil(mem_demand - 1e-9).where(has_mem, alloc_m)
    source = mem["source"].where(has_mem, "allocated")
    by_active = has_mem & (mem["active_floor"] > mem["q"] * p.comfort_factor)
    source = source.mask(by_active, "mem_active_mib")
    reason = _Reasons(v.index)
    reason.add(cpu["from_pct"], "CPU from cpu_usage_pct x allocated vCPUs x core speed")
    reason.add(~has_cpu, "no CPU counter: vCPUs as allocated")
    reason.add(has_mem & (mem["source"] != p.memory_metrics[0]), "memory from " + mem["source"])
    reason.add(by_active, "memory raised to the active-memory P" + str(p.percentile) + " x comfort")
    reason.add(~has_mem & mem["unmeasured"], "memory counter 0 in every sample (not measured): memory "
               "as allocated")
    reason.add(~has_mem & ~mem["unmeasured"], "no memory counter: memory as allocated")
    raised_v = vcpus.isna() | (vcpus < floor_v)
    raised_m = memory.isna() | (memory < floor_m)
    reason.add(raised_v | raised_m, "raised to the " + family + " minimum ("
               + floor_v.astype("int64").astype("string") + " vCPU, "
               + floor_m.round().astype("int64").astype("string") + " MiB)")
    vcpus, memory = vcpus.where(~raised_v, floor_v), memory.where(~raised_m, floor_m)
    source = source.mask(raised_m & has_mem, "guest_minimum")
    if p.upsizing == "cap_at_allocated":
        cap_v, cap_m = alloc_v.notna() & (vcpus > alloc_v), alloc_m.notna() & (memory > alloc_m)
        reason.add(cap_v | cap_m, "capped at allocated (upsizing=cap_at_allocated)")
        vcpus, memory = vcpus.where(~cap_v, alloc_v), memory.where(~cap_m, alloc_m)
        source = source.mask(cap_m, "allocated")
    else:
        above = has_cpu & alloc_v.notna() & (vcpus > alloc_v)
        reason.add(above, "more vCPUs than allocated: measured P" + str(p.percentile) + " x comfort needs "
                   + vcpus.astype("Int64").astype("string"))
    sizes = pd.DataFrame({
        "vm_id": v["vm_id"], "mode": "performance", "vcpus": vcpus, "memory_mib": memory,
        "cpu_demand_mhz": cpu_demand, "memory_demand_mib": mem_demand, "core_mhz": core,
        "allocated_vcpus": alloc_v, "allocated_memory_mib": alloc_m, "memory_source": source,
    })
    return sizes, reason


def _confidence_reasons(v, share, times, interval, has, stars, p: RightSizing) -> _Reasons:
    """Why each VM got its stars: the share of expected samples, then what explains the shortfall."""
    start, end, first, last, newest = times
    has_cpu, has_mem, unmeasured = has
    why = _Reasons(v.index)
    if end.isna().all():  # no samples at all: every VM falls back to as_is
        why.add(pd.Series(True, index=v.index), "no utilization samples in the estate")
        return why
    why.add(pd.Series(True, index=v.index), share.round().astype("int64").astype("string")
            + f"% of expected CPU and memory samples (de-duplicated) in the {p.lookback_days:g}-day window")
    slack = pd.to_timedelta(np.maximum(2 * interval, 0.05 * p.lookback_days * 86400), unit="s")
    low = stars < 5
    created = v["created_at"]
    mid = low & created.notna() & (created > start)
    why.add(mid, "VM created " + created.dt.strftime("%Y-%m-%d").fillna("") + ", mid-window")
    late = low & ~mid & first.notna() & (first > start + slack)
    why.add(late, "samples start " + first.dt.strftime("%Y-%m-%d").fillna("")
            + " (VM created or collection started mid-window)")
    off = v["power_state"].fillna("").str.lower().isin(["poweredoff", "suspended"])
    early = last.notna() & (last < newest - slack)  # the VM's history stops before the estate's
    why.add(low & off, "VM is " + v["power_state"].fillna(""))
    why.add(early & ~off, "no samples after " + last.dt.strftime("%Y-%m-%d").fillna("")
            + " (powered off or collection stopped); sized on the window before that")
    why.add(low & has_cpu & ~has_mem & unmeasured, "memory not measured (counter 0 in every sample)")
    why.add(low & has_cpu & ~has_mem & ~unmeasured, "no memory counter (" + ", ".join(p.memory_metrics) + ")")
    why.add(low & has_mem & ~has_cpu, "no CPU counter (cpu_usage_mhz, cpu_usage_pct)")
    why.add(low & has_cpu & has_mem & ~mid & ~late & ~early, "gaps in the samples")
    return why


def _sep(note: pd.Series) -> pd.Series:
    return note.where(note == "", "; " + note)


def _as_is(v: pd.DataFrame, core: pd.Series, reason: str) -> pd.DataFrame:
    alloc_v, alloc_m = v["vcpus"].astype("float64"), v["memory_mib"].astype("float64")
    return _typed(pd.DataFrame({
        "vm_id": v["vm_id"], "mode": "as_is", "vcpus": alloc_v, "memory_mib": alloc_m,
        "cpu_demand_mhz": np.nan, "memory_demand_mib": np.nan, "core_mhz": core,
        "confidence": pd.NA, "confidence_reason": reason, "sizing_reason": "",
        "samples": 0, "expected_samples": pd.NA, "allocated_vcpus": alloc_v, "allocated_memory_mib": alloc_m,
        "memory_source": "allocated",
    }, index=v.index))


def _typed(sizes: pd.DataFrame) -> pd.DataFrame:
    return sizes.astype({
        "vm_id": "string", "mode": "string", "vcpus": "Int64", "memory_mib": "float64",
        "cpu_demand_mhz": "float64", "memory_demand_mib": "float64", "core_mhz": "float64",
        "confidence": "Int64", "confidence_reason": "string", "sizing_reason": "string",
        "samples": "Int64", "expected_samples": "Int64", "allocated_vcpus": "Int64",
        "allocated_memory_mib": "float64", "memory_source": "string",
    })


def _floors(v: pd.DataFrame, p: RightSizing) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Per-VM vCPU and memory floors and the guest family they come from."""
    text = (v["guest_os_tools"].fillna("") + " " + v["guest_os_config"].fillna("") + " "
            + v["guest_id"].fillna("")).str.lower()
    floor_v = pd.Series(float(p.min_vcpus), index=v.index)
    floor_m = pd.Series(float(p.min_memory_mib), index=v.index)
    family = pd.Series("default", index=v.index, dtype="string")
    matched = pd.Series(False, index=v.index)
    for guest in p.guest_minimums:
        hit = ~matched & text.str.contains(guest.pattern, case=False, regex=True)
        floor_v[hit] = max(guest.vcpus, p.min_vcpus)
        floor_m[hit] = max(guest.memory_mib, p.min_memory_mib)
        family[hit] = guest.family
        matched |= hit
    return floor_v, floor_m, family


def _vm_frame(vms: pd.DataFrame) -> pd.DataFrame:
    cols = {"vm_id": "string", "vcpus": "float64", "memory_mib": "float64", "host": "string",
            "cluster": "string", "power_state": "string", "guest_os_tools": "string",
            "guest_os_config": "string", "guest_id": "string"}
    v = pd.DataFrame({c: (vms[c] if c in vms else pd.Series(pd.NA, index=vms.index)).astype(t)
                      for c, t in cols.items()}).reset_index(drop=True)
    created = vms["created_at"] if "created_at" in vms else pd.Series(pd.NaT, index=vms.index)
    v["created_at"] = pd.to_datetime(created, utc=True).reset_index(drop=True)
    return v


def _require(frame: pd.DataFrame, name: str, columns: list[str]) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"RightSizer: {name} should be a pandas DataFrame, received {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"RightSizer: {name} should have column(s) {', '.join(columns)}; "
                         f"missing {', '.join(missing)} (received {', '.join(map(str, frame.columns))})")
