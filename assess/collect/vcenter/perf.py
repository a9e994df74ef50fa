"""Utilization history through PerformanceManager ``QueryPerf``, many VMs per call.

Counter ids are resolved by name at run time; the interval is one the server keeps
(``historicalInterval``) covering the lookback asked for, falling back to real-time
samples when the server keeps no history. Batches stay within
``config.vpxd.stats.maxQueryMetrics``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pyVmomi import vim, vmodl

from assess.collect.vcenter.connection import Session
from assess.collect.vcenter.properties import object_properties

#: vCenter counter (group.name.rollup) -> (canonical metric, factor to the metric's unit, instance).
COUNTERS: dict[str, tuple[str, float, str]] = {
    "cpu.usagemhz.average": ("cpu_usage_mhz", 1.0, ""),
    "cpu.usage.average": ("cpu_usage_pct", 0.01, ""),  # hundredths of a percent
    "cpu.ready.summation": ("cpu_ready_ms", 1.0, ""),
    "mem.consumed.average": ("mem_consumed_mib", 1 / 1024, ""),  # KB
    "mem.active.average": ("mem_active_mib", 1 / 1024, ""),  # KB
    "disk.usage.average": ("disk_kbps", 1.0, ""),
    "net.usage.average": ("net_kbps", 1.0, ""),
    "virtualDisk.numberReadAveraged.average": ("disk_iops", 1.0, "*"),  # summed over disks
    "virtualDisk.numberWriteAveraged.average": ("disk_iops", 1.0, "*"),
}
#: vCenter's documented default for config.vpxd.stats.maxQueryMetrics.
DEFAULT_MAX_QUERY_METRICS = 256
REALTIME_INTERVAL_S = 20
#: vCenter keeps real-time (20 s) samples for one hour.
REALTIME_SAMPLES = 180


@dataclass
class PerfResult:
    """Samples (rows of ``utilization``), what the server offered, and what went wrong."""

    rows: list[dict] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    calls: int = 0


def max_query_metrics(session: Session) -> tuple[int, str]:
    """The server's ``config.vpxd.stats.maxQueryMetrics`` (<= 0 means unlimited) and where it came from."""
    try:
        options = session.call(session.content.setting.QueryOptions, "config.vpxd.stats.maxQueryMetrics")
    except (vim.fault.InvalidName, vmodl.MethodFault):
        return DEFAULT_MAX_QUERY_METRICS, "default"
    for option in options or []:
        try:
            return int(option.value), "server"
        except (TypeError, ValueError):
            break
    return DEFAULT_MAX_QUERY_METRICS, "default"


def choose_interval(intervals, lookback: timedelta) -> tuple[int, int | None]:
    """Return (sampling period s, level) of the finest enabled interval that covers ``lookback``.

    When none covers it, the longest one is used; with no historical interval at all the
    real-time period (20 s, level None) is returned.
    """
    usable = sorted((i for i in intervals or [] if i.enabled), key=lambda i: i.samplingPeriod)
    for interval in usable:
        if interval.length >= lookback.total_seconds():
            return interval.samplingPeriod, interval.level
    if usable:
        longest = max(usable, key=lambda i: i.length)
        return longest.samplingPeriod, longest.level
    return REALTIME_INTERVAL_S, None


def query_utilization(
    session: Session,
    vms: Sequence[tuple[str, vim.VirtualMachine]],
    lookback: timedelta,
    now: datetime,
    on_batch: Callable[[int], None] | None = None,
) -> PerfResult:
    """Query utilization samples for ``vms`` ((vm_id, VM) pairs, powered on) over ``lookback``."""
    result = PerfResult()
    manager = session.content.perfManager
    if manager is None:
        result.warnings.append(("vcenter.perf.unavailable", "server has no PerformanceManager"))
        return result
    props = object_properties(session, manager, ["perfCounter", "historicalInterval"])
    by_name = {f"{c.groupInfo.key}.{c.nameInfo.key}.{c.rollupType}": c.key
               for c in props.get("perfCounter") or []}
    wanted = {name: by_name[name] for name in COUNTERS if name in by_name}
    missing = sorted(set(COUNTERS) - set(wanted))
    if missing:
        result.warnings.append(("vcenter.perf.counter_missing",
                                f"server lacks performance counter(s) {', '.join(missing)}"))
    intervals = props.get("historicalInterval") or []
    period, level = choose_interval(intervals, lookback)
    limit, limit_source = max_query_metrics(session)
    per_call = max(1, limit // max(1, len(wanted))) if limit > 0 else len(vms) or 1
    result.info = dict(
        interval_s=period, level=level, lookback_days=lookback.total_seconds() / 86400,
        historical_intervals=[dict(period_s=i.samplingPeriod, length_s=i.length, level=i.level,
                                   enabled=i.enabled) for i in intervals],
        max_query_metrics=limit, max_query_metrics_source=limit_source, vms_per_call=per_call,
        counters=sorted(wanted),
    )
    if not intervals:
        result.warnings.append(("vcenter.perf.no_history",
                                "server keeps no historical statistics intervals; real-time "
                                f"{REALTIME_INTERVAL_S} s samples used, so history is short"))
    if not wanted or not vms:
        return result
    metric_ids = [vim.PerformanceManager.MetricId(counterId=cid, instance=COUNTERS[name][2])
                  for name, cid in wanted.items()]
    names_by_id = {cid: name for name, cid in wanted.items()}
    start = now - lookback
    for first in range(0, len(vms), per_call):
        batch = list(vms[first:first + per_call])
        specs = {vm_id: vim.PerformanceManager.QuerySpec(
            entity=vm, metricId=metric_ids, intervalId=period, format="csv",
            startTime=None if period == REALTIME_INTERVAL_S else start,
            maxSample=None if period != REALTIME_INTERVAL_S
            else min(REALTIME_SAMPLES, int(lookback.total_seconds() // period)),
        ) for vm_id, vm in batch}
        _query_batch(session, manager, specs, names_by_id, period, result)
        if on_batch:
            on_batch(len(batch))
    return result


def _query_batch(session, manager, specs: dict, names_by_id: dict, period: int, result: PerfResult) -> None:
    ids = {spec.entity._moId: vm_id for vm_id, spec in specs.items()}
    while specs:
        try:
            result.calls += 1
            metrics = session.call(manager.QueryPerf, list(specs.values()))
            break
        except vmodl.fault.ManagedObjectNotFound as exc:
            gone = ids.get(exc.obj._moId) if exc.obj is not None else None
            if gone is None or gone not in specs:
                raise
            result.warnings.append(("vcenter.object.deleted",
                                    f"VM {gone} was deleted during collection; no utilization for it"))
            del specs[gone]
    else:
        return
    result.rows += samples(metrics, ids, names_by_id, period)


def _series(entity) -> tuple[list[datetime], list[tuple[int, str, list[float]]]]:
    """Timestamps and (counter id, instance, values) of one entity, from CSV or normal format."""
    if isinstance(entity, vim.PerformanceManager.EntityMetricCSV):
        fields = (entity.sampleInfoCSV or "").split(",")
        stamps = [datetime.fromisoformat(t) for t in fields[1::2]]
        return stamps, [(s.id.counterId, s.id.instance, [float(v) for v in s.value.split(",") if v])
                        for s in entity.value or [] if s.value]
    stamps = [s.timestamp for s in entity.sampleInfo or []]
    return stamps, [(s.id.counterId, s.id.instance, list(s.value or [])) for s in entity.value or []]


def samples(metrics, ids: dict[str, str], names_by_id: dict[int, str], period: int) -> list[dict]:
    """Rows of ``utilization`` from ``QueryPerf`` results, summing instances of summed metrics.

    Asks for the compact CSV format (one string per series, far less XML to parse) and
    reads the normal format too, for servers that ignore the request.
    """
    acc: dict[tuple[str, str, datetime], float] = {}
    for entity in metrics or []:
        vm_id = ids.get(entity.entity._moId)
        if vm_id is None:
            continue
        stamps, series = _series(entity)
        for counter_id, instance_name, values in series:
            name = names_by_id.get(counter_id)
            if name is None:
                continue
            metric, factor, instance = COUNTERS[name]
            if instance == "" and instance_name:
                continue  # per-instance row of an aggregate counter
            for stamp, value in zip(stamps, values):
                if value < 0:
                    continue  # -1: no data collected for this sample
                key = (vm_id, metric, stamp)
                acc[key] = acc.get(key, 0.0) + value * factor
    return [dict(vm_id=v, metric=m, timestamp=t, value=x, interval_s=period) for (v, m, t), x in acc.items()]
