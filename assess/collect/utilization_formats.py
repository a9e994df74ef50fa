r"""Utilization file layouts: detect them and turn each into one SQL query of canonical samples.

Every reader returns a DuckDB ``SELECT`` yielding the *raw sample* columns ``vm_key``
(the VM as the file names it), ``timestamp`` (TIMESTAMPTZ, NULL when unreadable), ``ts_raw``
(the text as found), ``metric`` (canonical name), ``value`` (canonical unit), ``interval_s``
and ``file``. Layouts:

* ``assess``, ``long-csv`` and ``powercli`` (one sample a row): see
  :mod:`assess.collect.utilization_long` (canonical or vCenter counter names, PowerCLI's
  ``Get-Stat | Export-Csv``, epoch or ISO timestamps). ``vm`` is a vm_id, instance UUID or VM
  name. May be gzip-compressed.
* ``per-vm-csv``: one file per VM with a time column and one column per counter, units in
  brackets or parentheses, as vCenter/vROps exports and the Bitbrains GWA-T-12 trace write
  them (e.g. ``Timestamp [ms];\tCPU usage [MHZ];\tMemory usage [KB];...``).
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from assess.model import AssessError

FORMATS = ("assess", "per-vm-csv", "long-csv", "powercli")
RAW_COLUMNS = "vm_key, timestamp, ts_raw, metric, value, interval_s, file"

#: Per-VM counter columns: role -> (words that must all appear in the header, units allowed).
_ROLES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("cpu_cores", ("cpu", "core"), ()),
    ("cpu_capacity", ("cpu", "capacity"), ("mhz",)),
    ("cpu_capacity", ("cpu", "provisioned"), ("mhz",)),
    ("mem_capacity", ("mem", "capacity"), ()),
    ("mem_capacity", ("mem", "provisioned"), ()),
    ("cpu_usage_pct", ("cpu", "usage"), ("%",)),
    ("cpu_usage_mhz", ("cpu", "usage"), ("mhz",)),
    ("cpu_ready_ms", ("cpu", "ready"), ("ms",)),
    ("mem_active_mib", ("mem", "active"), ()),
    ("mem_consumed_mib", ("mem", "consumed"), ()),
    ("mem_consumed_mib", ("mem", "usage"), ()),
    ("disk_iops", ("disk", "iops"), ()),
    ("disk_read", ("disk", "read"), ()),
    ("disk_write", ("disk", "write"), ()),
    ("disk_kbps", ("disk",), ()),
    ("net_rx", ("net", "receiv"), ()),
    ("net_tx", ("net", "transmit"), ()),
    ("net_kbps", ("net",), ()),
]
_TIME_NAMES = {"timestamp", "time", "date", "datetime", "date time", "time stamp"}
_VM_NAMES = {"vm", "vm name", "name", "object name", "virtual machine", "entity"}
#: Factors to the canonical unit: memory to MiB, throughput to KB/s (VMware's KB are KiB).
_MEM_UNITS = {"kb": 1 / 1024, "kib": 1 / 1024, "mb": 1.0, "mib": 1.0, "gb": 1024.0, "gib": 1024.0,
              "b": 1 / 1048576, "bytes": 1 / 1048576}
_RATE_UNITS = {"kb/s": 1.0, "kbps": 1.0, "kib/s": 1.0, "mb/s": 1024.0, "mbps": 1024.0, "b/s": 1 / 1024}


@dataclass
class FileNotes:
    """What a reader found in one file beyond the samples (becomes warnings and provenance)."""

    zero_capacity_rows: int = 0
    timestamp_note: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)


def sql_text(value: str) -> str:
    """``value`` as a SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_name(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def preamble_lines(path: Path) -> int:
    """Lines before the CSV header: 1 for the ``#TYPE ...`` line Windows PowerShell's Export-Csv writes."""
    return 1 if _first_lines(path)[0].startswith("#TYPE") else 0


def _first_lines(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as handle:
            return [handle.readline().strip("\r\n"), handle.readline().strip("\r\n")]
    except (OSError, EOFError) as exc:
        raise AssessError(f"{path}: cannot be read ({exc})") from exc


def header_line(path: Path) -> str:
    """The header line of a (possibly gzip-compressed) CSV file, without BOM, newline or ``#TYPE`` line."""
    lines = _first_lines(path)
    return lines[1] if lines[0].startswith("#TYPE") else lines[0]


def delimiter(line: str) -> str:
    r"""The field delimiter of a CSV header line (``;\t`` as Bitbrains writes it, else , ; or tab)."""
    if ";\t" in line:
        return ";\t"
    return max([",", ";", "\t"], key=line.count)


def header(path: Path) -> list[str]:
    """Column names of a CSV file, stripped."""
    line = header_line(path)
    return [c.strip().strip('"').strip() for c in line.split(delimiter(line))]


def detect_format(path: Path) -> str:
    """Which of :data:`FORMATS` ``path`` is written in, from its suffix and header."""
    if path.name.lower().endswith(".parquet"):
        return "assess"
    names = {c.lower() for c in header(path)}
    if {"vm_id", "timestamp", "metric", "value"} <= names:
        return "assess"
    if {"vm", "timestamp", "metric", "value"} <= names:
        return "long-csv"
    if {"value", "timestamp", "metricid", "entity"} <= names:
        return "powercli"
    roles = [counter_role(c)[0] for c in header(path)]
    if "time" in roles and any(r not in ("time", "vm", None) for r in roles):
        return "per-vm-csv"
    raise AssessError(
        f"{path}: unknown utilization layout (header: {', '.join(sorted(names))[:200]}). Expected "
        "'vm,timestamp,metric,value[,interval_s]' (long-csv), the canonical 'vm_id,timestamp,"
        "metric,value,interval_s' (assess), PowerCLI 'Get-Stat | Export-Csv' (Value,Timestamp,"
        "MetricId,Unit,...,Entity,...,IntervalSecs,Instance) or a per-VM export with a time column "
        "and counter columns such as 'CPU usage [MHZ]'; pass --format to say which"
    )


def _split_unit(name: str) -> tuple[str, str]:
    match = re.search(r"[\[(]([^\])]*)[\])]\s*$", name)
    if not match:
        return name.strip().lower(), ""
    return name[: match.start()].strip().lower(), match.group(1).strip().lower()


def counter_role(name: str) -> tuple[str | None, str]:
    """(role, unit) of a per-VM export column: 'time', 'vm', a counter role, or None."""
    words, unit = _split_unit(name)
    words = words.replace("|", " ").replace("_", " ")
    if words in _TIME_NAMES:
        return "time", unit
    if words in _VM_NAMES:
        return "vm", unit
    for role, needed, units in _ROLES:
        if all(w in words for w in needed) and (not units or unit in units):
            return role, unit
    return None, unit


def _factor(path: Path, column: str, unit: str, units: dict[str, float], what: str) -> float:
    if unit in units:
        return units[unit]
    raise AssessError(
        f"{path}: column '{column}' has unit '{unit or 'none'}', expected {what} in one of "
        f"{', '.join(sorted(units))}; rename the column with its unit, e.g. '{column} [KB]'"
    )


def csv_source(path: Path, delim: str) -> str:
    """DuckDB ``read_csv`` of ``path``: all text, header after any ``#TYPE`` line; ``__COLUMNS__`` to fill."""
    return (f"read_csv({sql_text(str(path))}, header=true, all_varchar=true, delim={sql_text(delim)}, "
            f"quote='\"', auto_detect=false, skip={preamble_lines(path)}, columns=__COLUMNS__)")


def csv_columns(names: list[str]) -> str:
    """The ``columns=`` struct of :func:`csv_source`: every named column as text."""
    return "{" + ", ".join(f"{sql_text(n)}: 'VARCHAR'" for n in names) + "}"


def per_vm_select(con: duckdb.DuckDBPyConnection, path: Path, vm_key: str | None) -> tuple[str, FileNotes]:
    """SELECT of raw samples for a per-VM export, and what else the file showed.

    ``vm_key`` names the VM (from the mapping or the file name); when None, the file's own
    VM column is used. Epoch numbers are read as seconds or milliseconds by magnitude, since
    exports mislabel them (Bitbrains labels seconds ``[ms]``).
    """
    names = header(path)
    notes = FileNotes()
    source = csv_source(path, delimiter(header_line(path))).replace("__COLUMNS__", csv_columns(names))
    cols: dict[str, list[tuple[str, str]]] = {}
    for name in names:
        role, unit = counter_role(name)
        if role is None:
            notes.ignored_columns.append(name)
        else:
            cols.setdefault(role, []).append((name, unit))
    if "time" not in cols:
        raise AssessError(f"{path}: per-VM export has no time column (expected one named Timestamp, "
                          "Time or Date)")
    num = "TRY_CAST(trim({}) AS DOUBLE)".format
    time_col = sql_name(cols["time"][0][0])
    con.execute(f"CREATE OR REPLACE TEMP VIEW wide AS SELECT * FROM {source}")
    numeric, total, biggest = con.execute(
        f"SELECT count({num(time_col)}), count({time_col}), max({num(time_col)}) FROM wide").fetchone()
    if total and numeric == total:
        millis = (biggest or 0) > 1e11
        label = cols["time"][0][1]
        if label == ("s" if millis else "ms"):
            notes.timestamp_note = (f"time column '{cols['time'][0][0]}' is labelled [{label}] but holds "
                                    f"epoch {'milliseconds' if millis else 'seconds'} (values near "
                                    f"{biggest:.0f}); read as {'milliseconds' if millis else 'seconds'}")
        ts = f"to_timestamp({num(time_col)}{' / 1000' if millis else ''})"
    else:
        ts = f"TRY_CAST(trim({time_col}) AS TIMESTAMPTZ)"
    vm = sql_text(vm_key) if vm_key is not None else f"CAST({sql_name(cols['vm'][0][0])} AS VARCHAR)"
    parts = _metric_expressions(path, cols, notes)
    caps = [f"{num(sql_name(c))} = 0" for r in ("cpu_capacity", "mem_capacity") for c, _ in cols.get(r, [])]
    if caps:
        query = f"SELECT count(*) FROM wide WHERE {' OR '.join(caps)}"
        notes.zero_capacity_rows = con.execute(query).fetchone()[0]
    file = sql_text(str(path))
    selects = [f"SELECT {vm} AS vm_key, {ts} AS timestamp, CAST({time_col} AS VARCHAR) AS ts_raw, "
               f"{sql_text(metric)} AS metric, {expr} AS value, NULL::BIGINT AS interval_s, {file} AS file "
               f"FROM {source}" for metric, expr in parts]
    if not selects:
        raise AssessError(f"{path}: no utilization counter recognised among columns {', '.join(names)}")
    return " UNION ALL ".join(selects), notes


def _metric_expressions(path: Path, cols: dict, notes: FileNotes) -> list[tuple[str, str]]:
    """(canonical metric, SQL expression in its unit) for each counter found."""
    def value(role: str, units: dict[str, float] | None, what: str) -> str:
        name, unit = cols[role][0]
        expr = f"TRY_CAST(trim({sql_name(name)}) AS DOUBLE)"
        return f"{expr} * {_factor(path, name, unit, units, what)!r}" if units else expr

    out = []
    for metric in ("cpu_usage_mhz", "cpu_usage_pct", "cpu_ready_ms", "disk_iops"):
        if metric in cols:
            out.append((metric, value(metric, None, "")))
    for metric in ("mem_consumed_mib", "mem_active_mib"):
        if metric in cols:
            out.append((metric, value(metric, _MEM_UNITS, "a memory size")))
    for metric, pair in (("disk_kbps", ("disk_read", "disk_write")), ("net_kbps", ("net_rx", "net_tx"))):
        found = [r for r in pair if r in cols]
        if metric in cols:
            out.append((metric, value(metric, _RATE_UNITS, "a throughput")))
        elif found:
            out.append((metric, " + ".join(f"({value(r, _RATE_UNITS, 'a throughput')})" for r in found)))
            if len(found) == 1:
                notes.partial.append(f"{metric} holds only {found[0].split('_')[1]} (no column for the other "
                                     "direction)")
    return out
