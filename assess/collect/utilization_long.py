"""Long utilization layouts (one sample a row) as one SQL query of raw samples each.

* ``assess``: the canonical table as Parquet or CSV (``vm_id, timestamp, metric, value, interval_s``).
* ``long-csv``: ``vm,timestamp,metric,value[,interval_s][,unit][,instance]``. ``metric`` is a
  canonical name (:data:`assess.model.METRICS`) or a vCenter counter (:data:`COUNTERS`, e.g.
  ``cpu.usagemhz.average``) whose value is in the counter's own unit as vCenter and PowerCLI
  report it (``mem.*`` in KB, rates in KBps, ``cpu.usage.average`` in %): converted to the
  canonical unit.
* ``powercli``: what ``Get-Stat ... | Export-Csv`` writes: ``Value, Timestamp, MetricId, Unit,
  Description, Entity, EntityId, IntervalSecs, Instance`` (Windows PowerShell adds a ``#TYPE``
  line first). ``Entity`` names the VM.

Timestamps: ISO 8601 (UTC unless an offset is given), Unix epoch seconds (milliseconds when
above 1e11), or PowerShell's en-US ``M/d/yyyy h:mm:ss AM`` (read as UTC: Export-Csv writes no
offset). Rows of one counter per instance (per vCPU, NIC or disk) are summed into the VM's
figure (averaged for a percentage) unless the file also holds the aggregate row (empty
``Instance``), which is then taken as is.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from assess.collect.utilization_formats import (
    csv_columns,
    csv_source,
    delimiter,
    header,
    header_line,
    sql_name,
    sql_text,
)
from assess.model import AssessError

#: vCenter performance counters -> (canonical metric, factor from the counter's unit). Memory
#: counters are in KB (KiB), rates in KBps (KiB/s); ``cpu.usage.average`` as PowerCLI reports it, in %.
COUNTERS: dict[str, tuple[str, float]] = {
    "cpu.usagemhz.average": ("cpu_usage_mhz", 1.0),
    "cpu.usage.average": ("cpu_usage_pct", 1.0),
    "cpu.ready.summation": ("cpu_ready_ms", 1.0),
    "mem.consumed.average": ("mem_consumed_mib", 1 / 1024),
    "mem.active.average": ("mem_active_mib", 1 / 1024),
    "disk.usage.average": ("disk_kbps", 1.0),
    "net.usage.average": ("net_kbps", 1.0),
}

#: Column of each role, per layout.
_COLUMNS = {
    "assess": {"vm": "vm_id", "timestamp": "timestamp", "metric": "metric", "value": "value",
               "interval": "interval_s"},
    "long-csv": {"vm": "vm", "timestamp": "timestamp", "metric": "metric", "value": "value",
                 "interval": "interval_s", "instance": "instance"},
    "powercli": {"vm": "entity", "timestamp": "timestamp", "metric": "metricid", "value": "value",
                 "interval": "intervalsecs", "instance": "instance"},
}
_REQUIRED = ("vm", "timestamp", "metric", "value")


def timestamp_sql(column: str) -> str:
    """SQL turning a text column into TIMESTAMPTZ (NULL when unreadable); see the module doc."""
    number = f"TRY_CAST(trim({column}) AS DOUBLE)"
    epoch = (f"CASE WHEN {number} BETWEEN 0 AND 1e14 THEN to_timestamp(CASE WHEN {number} > 1e11 "
             f"THEN {number} / 1000 ELSE {number} END) END")
    us_format = " ".join(f"TRY_STRPTIME(trim({column}), '{f}')::TIMESTAMPTZ," for f in (
        "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S"))
    # ISO first; the CASE evaluates the other forms only for the rows ISO left NULL (a coalesce of
    # all forms evaluated them for every row: 0.7 s more on 14.4 million ISO samples)
    iso = f"TRY_CAST({column} AS TIMESTAMPTZ)"
    return f"CASE WHEN {iso} IS NOT NULL THEN {iso} ELSE coalesce({epoch}, {us_format.rstrip(',')}) END"


def _metric_sql(column: str) -> tuple[str, str]:
    """(canonical metric, unit factor) SQL for a metric column holding canonical or counter names."""
    names = " ".join(f"WHEN {sql_text(c)} THEN {sql_text(m)}" for c, (m, _) in COUNTERS.items())
    factors = " ".join(f"WHEN {sql_text(c)} THEN {f!r}" for c, (_, f) in COUNTERS.items())
    key = f"CAST({column} AS VARCHAR)"  # vCenter writes counter names in lower case
    return (f"CASE {key} {names} ELSE CAST({column} AS VARCHAR) END", f"CASE {key} {factors} ELSE 1.0 END")


def long_select(path: Path, fmt: str) -> str:
    """SELECT of raw samples (:data:`assess.collect.utilization_formats.RAW_COLUMNS`) for a long layout."""
    file = sql_text(str(path))
    if path.name.lower().endswith(".parquet"):
        source = f"read_parquet({file})"
        names = duckdb.sql(f"DESCRIBE SELECT * FROM {source}").df()["column_name"].tolist()
    else:
        names = header(path)
        source = csv_source(path, delimiter(header_line(path))).replace("__COLUMNS__", csv_columns(names))
    lower = {n.lower(): n for n in names}
    roles = _COLUMNS[fmt]
    missing = [roles[r] for r in _REQUIRED if roles[r] not in lower]
    if missing:
        expected = ("Value,Timestamp,MetricId,Unit,Description,Entity,EntityId,IntervalSecs,Instance"
                    if fmt == "powercli" else f"{roles['vm']},timestamp,metric,value[,interval_s]")
        raise AssessError(f"{path}: {fmt} file lacks column(s) {', '.join(missing)}; the header must "
                          f"be '{expected}'")
    col = {r: sql_name(lower[c]) for r, c in roles.items() if c in lower}
    # an interval of 0 or less is no interval (inferred from the spacing instead)
    given = f"TRY_CAST({col['interval']} AS BIGINT)" if "interval" in col else "NULL::BIGINT"
    interval = f"CASE WHEN {given} > 0 THEN {given} END"
    metric, factor = _metric_sql(col["metric"])
    ts = timestamp_sql(f"CAST({col['timestamp']} AS VARCHAR)")
    instance = f"coalesce(trim(CAST({col['instance']} AS VARCHAR)), '')" if "instance" in col else "''"
    rows = (f"SELECT CAST({col['vm']} AS VARCHAR) AS vm_key, {ts} AS timestamp, "
            f"CASE WHEN {ts} IS NULL THEN CAST({col['timestamp']} AS VARCHAR) END AS ts_raw, "
            f"{metric} AS metric, TRY_CAST({col['value']} AS DOUBLE) * {factor} AS value, "
            f"{interval} AS interval_s, {file} AS file, {instance} AS inst FROM {source}")
    return _instances_aggregated(rows) if "instance" in col else (
        f"SELECT vm_key, timestamp, ts_raw, metric, value, interval_s, file FROM ({rows})")


def _instances_aggregated(rows: str) -> str:
    """Aggregate rows as they are; per-instance rows summed (averaged for %) where no aggregate row is."""
    return f"""
        WITH r AS ({rows}),
        whole AS (SELECT DISTINCT vm_key, metric, timestamp FROM r WHERE inst = '')
        SELECT vm_key, timestamp, ts_raw, metric, value, interval_s, file FROM r WHERE inst = ''
        UNION ALL
        SELECT vm_key, timestamp, min(ts_raw), metric,
               CASE WHEN metric = 'cpu_usage_pct' THEN avg(value) ELSE sum(value) END, max(interval_s), file
        FROM r WHERE inst <> '' AND NOT EXISTS (
            SELECT 1 FROM whole w WHERE w.vm_key = r.vm_key AND w.metric = r.metric
            AND w.timestamp IS NOT DISTINCT FROM r.timestamp)
        GROUP BY vm_key, timestamp, metric, file"""
