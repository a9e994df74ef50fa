"""Import utilization history from files into canonical ``utilization`` rows.

The files are read and checked by DuckDB (no Python loop per sample; see
``bench/bench_utilization.py`` for throughput). Samples are kept as found:
gaps, duplicate timestamps, zero-capacity rows and VMs without memory data are reported as
warnings, never filled or dropped. Samples that cannot be kept (VM not in the inventory,
unreadable timestamp, unknown metric) are counted in a warning naming file and values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

from assess.collect.utilization_formats import (
    FORMATS,
    RAW_COLUMNS,
    FileNotes,
    counter_role,
    detect_format,
    header,
    per_vm_select,
    sql_text,
)
from assess.collect.utilization_long import long_select
from assess.collect.vm_lookup import resolve_vms
from assess.model import METRICS, AssessError, Estate, conform
from assess.model.estate import UTILIZATION_IN_MEMORY_MAX_ROWS

#: DuckDB's memory ceiling when reading samples to spill (beyond it, work tables go to disk).
#: 100,000 VMs (143M samples) import in the same time at 4 GB as at 5 GB (117 vs 119 s), with a
#: 5.0 GB peak instead of 6.0; at 3 GB it takes 127 s.
DUCKDB_MEMORY_LIMIT = "4GB"
#: A step longer than this many sampling intervals is a gap.
GAP_FACTOR = 1.5
_EXAMPLES = 5


def read_mapping(path: Path) -> dict[str, str]:
    """The mapping table ``file,vm``: file name (or stem) -> VM name, instance UUID or vm_id."""
    try:
        table = pd.read_csv(path, dtype="string", encoding="utf-8-sig", skipinitialspace=True)
    except (OSError, ValueError) as exc:
        raise AssessError(f"{path}: cannot read the mapping table ({exc})") from exc
    table.columns = [c.strip().lower() for c in table.columns]
    if not {"file", "vm"} <= set(table.columns):
        raise AssessError(f"{path}: mapping table needs the header 'file,vm' (found "
                          f"{', '.join(table.columns)}); one row per file: its name and the VM")
    table = table.dropna(subset=["file", "vm"])
    return {Path(f.strip()).name: v.strip() for f, v in zip(table["file"], table["vm"])}


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".csv", ".txt"):
        name = name.removesuffix(suffix)
    return name


def _vm_for_file(path: Path, mapping: dict[str, str], has_vm_column: bool) -> str | None:
    """The VM a per-VM file belongs to: the mapping entry, else its own VM column, else its stem."""
    for key in (path.name, _stem(path)):
        if key in mapping:
            return mapping[key]
    return None if has_vm_column else _stem(path)


def read_utilization(
    paths: Sequence[Path],
    inventory: Estate,
    format: str | None = None,
    mapping: Path | None = None,
    spill_to: Path | None = None,
    in_memory_max_rows: int = UTILIZATION_IN_MEMORY_MAX_ROWS,
) -> Estate:
    """Read utilization files into an Estate holding canonical ``utilization`` rows.

    Args:
        paths: files in one of :data:`FORMATS` (see :mod:`assess.collect.utilization_formats`).
        inventory: the estate whose VMs the samples belong to (vm_id, instance UUID or name).
        format: one of :data:`FORMATS`; detected per file when None.
        mapping: CSV ``file,vm`` naming the VM of per-VM files that do not name it.
        spill_to: a Parquet file to write the samples to when there are more than
            ``in_memory_max_rows`` of them; the estate then lists it in ``utilization_files``
            and its ``utilization`` table stays empty (the samples never enter pandas).
        in_memory_max_rows: the most samples loaded into pandas when ``spill_to`` is given.

    Returns:
        An Estate with ``utilization`` rows (values in the units of :data:`METRICS`), the
        warnings found, and one provenance entry per file; ready to merge into ``inventory``.
    """
    _require_vms(inventory)
    return RawUtilization(paths, format, mapping, spill_to).resolve(inventory, in_memory_max_rows)


def _require_vms(inventory: Estate) -> None:
    if inventory["vms"].empty:
        raise AssessError("the estate has no VMs to attach utilization to; import the inventory first "
                          "(assess import rvtools FILE --out ESTATE)")


class RawUtilization:
    """Utilization files parsed into DuckDB, not yet matched to an inventory.

    Parsing is most of the cost of an import and needs no inventory, so it can run while the
    inventory is read (DuckDB works outside the GIL): build this in a thread, then
    :meth:`resolve` it against the inventory.
    """

    def __init__(self, paths: Sequence[Path], format: str | None = None, mapping: Path | None = None,
                 spill_to: Path | None = None):
        """Parse ``paths`` (arguments as for :func:`read_utilization`)."""
        if format is not None and format not in FORMATS:
            raise AssessError(f"unknown utilization format '{format}'; use one of {', '.join(FORMATS)}")
        self.paths = [Path(p) for p in paths]
        for path in self.paths:
            if not path.is_file():
                raise AssessError(f"{path}: no such utilization file")
        self.spill_to = spill_to
        vm_map = read_mapping(Path(mapping)) if mapping else {}
        self.con = con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        if spill_to is not None:  # large inputs: bounded memory, DuckDB spills its work tables to disk
            con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
            con.execute(f"SET temp_directory = {sql_text(str(Path(spill_to).parent / '.duckdb_tmp'))}")
            con.execute("SET preserve_insertion_order = false")
        selects, self.notes, self.formats = [], {}, {}
        self.names = sorted(str(p) for p in self.paths)  # work tables hold a file's rank, not its name
        for path in self.paths:
            fmt = format or detect_format(path)
            self.formats[str(path)] = fmt
            if fmt == "per-vm-csv":
                has_vm = any(counter_role(c)[0] == "vm" for c in header(path))
                sql, self.notes[str(path)] = per_vm_select(con, path, _vm_for_file(path, vm_map, has_vm))
            else:
                sql, self.notes[str(path)] = long_select(path, fmt), FileNotes()
            selects.append(f"SELECT * REPLACE ({self.names.index(str(path))}::INTEGER AS file) FROM ({sql})")
        try:
            con.execute(f"CREATE TEMP TABLE raw AS SELECT {RAW_COLUMNS} FROM ({' UNION ALL '.join(selects)})")
        except duckdb.Error as exc:
            raise AssessError(f"utilization files {', '.join(self.names)} cannot be read: {exc}") from exc

    def resolve(self, inventory: Estate, in_memory_max_rows: int = UTILIZATION_IN_MEMORY_MAX_ROWS) -> Estate:
        """The Estate of the samples that belong to ``inventory``'s VMs (see :func:`read_utilization`)."""
        _require_vms(inventory)
        con, names = self.con, self.names
        out = Estate()
        warnings = _resolve(con, inventory, names)
        found, counts = _check(con, self.notes, names)
        warnings += found
        _refuse_empty(con, names, counts, warnings)
        query = "SELECT vm_id, timestamp, metric, value, interval_s FROM samples"
        if self.spill_to is not None and sum(counts.values()) > in_memory_max_rows:
            con.execute(f"COPY ({query}) TO {sql_text(str(self.spill_to))} (FORMAT parquet)")
            out.utilization_files.append(Path(self.spill_to))
        else:
            out["utilization"] = conform("utilization", con.sql(query).to_arrow_table().to_pandas())
        con.close()
        for path in self.paths:
            out.add_source("utilization", path=str(path), format=self.formats[str(path)],
                           samples=int(counts.get(str(path), 0)),
                           ignored_columns=self.notes[str(path)].ignored_columns)
        out.warn_many(warnings)
        return out


def _refuse_empty(con: duckdb.DuckDBPyConnection, names: list[str], counts: dict[str, int],
                  warnings: list[dict]) -> None:
    """Raise for a file from which no sample could be imported, naming what was not understood."""
    if all(counts.get(name, 0) for name in names):
        return  # the usual case: no second scan of the raw rows
    rows = dict(con.execute("SELECT file, count(*) FROM raw GROUP BY file").fetchall())
    for rank, name in enumerate(names):
        if counts.get(name, 0):
            continue
        if not rows.get(rank):
            raise AssessError(f"{name}: holds a header and no samples; nothing to import")
        why = "; ".join(w["message"].removeprefix(f"{name}: ") for w in warnings if w["source"] == name)
        why = re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], why)  # one line: values escaped
        raise AssessError(f"{name}: none of its {rows[rank]} row(s) could be imported: "
                          + (why or "no row has a VM, a timestamp and a known metric"))


def _named(rows: list[tuple], names: list[str]) -> list[tuple]:
    """Rows whose first field is a file rank, with the file name in its place."""
    return [(names[r[0]], *r[1:]) for r in rows]


def _warning(code: str, file: str, message: str, column: str = "") -> dict:
    return dict(code=code, source=file, table="utilization", row="", column=column, message=message)


def _examples(rows: list[tuple], fmt) -> str:
    shown = ", ".join(fmt(*r) for r in rows[:_EXAMPLES])
    return shown + (f" and {len(rows) - _EXAMPLES} more" if len(rows) > _EXAMPLES else "")


def _resolve(con: duckdb.DuckDBPyConnection, inventory: Estate, names: list[str]) -> list[dict]:
    """Create view ``kept`` (rows to keep, with vm_id) and warn about the rows left out.

    The raw rows are read once, into a small table per (file, VM value, metric); the warnings
    and the VM resolution work on that table.
    """
    con.execute("""
        CREATE TEMP TABLE keyed AS
        SELECT file, vm_key, metric, count(*) AS n, count(*) FILTER (WHERE timestamp IS NULL) AS bad_ts,
               min(ts_raw) AS bad_example
        FROM raw GROUP BY ALL""")
    keys = con.execute("SELECT DISTINCT vm_key FROM keyed").df()["vm_key"]
    con.register("resolved_df", resolve_vms(keys.astype("string"), inventory))
    con.register("metrics_df", pd.DataFrame({"metric": list(METRICS)}))
    con.execute("CREATE TEMP TABLE vm_map AS "
                "SELECT value AS vm_key, vm_id, status, candidates FROM resolved_df")
    con.execute("CREATE TEMP TABLE metrics AS SELECT metric FROM metrics_df")
    con.execute("""
        CREATE TEMP VIEW keyed_joined AS
        SELECT k.*, m.vm_id, m.status, m.candidates, k.metric IN (SELECT metric FROM metrics) AS known
        FROM keyed k LEFT JOIN vm_map m USING (vm_key)""")
    warnings = []
    for file, key, candidates, n in _named(con.execute("""
            SELECT file, vm_key, candidates, sum(n) FROM keyed_joined WHERE status = 'ambiguous'
            GROUP BY ALL ORDER BY file, vm_key""").fetchall(), names):
        warnings.append(_warning("utilization.vm.ambiguous", file,
                                 f"{file}: VM '{key}' names several VMs ({candidates}); its {n} "
                                 "sample(s) were not imported; use the vm_id or instance UUID", "vm"))
    unknown = _named(con.execute("""
        SELECT file, vm_key, sum(n) AS n FROM keyed_joined WHERE status IS NULL OR status = 'unknown'
        GROUP BY ALL ORDER BY file, n DESC, vm_key""").fetchall(), names)
    for file in dict.fromkeys(r[0] for r in unknown):
        rows = [r[1:] for r in unknown if r[0] == file]
        total = sum(n for _, n in rows)
        warnings.append(_warning(
            "utilization.vm.unknown", file,
            f"{file}: {len(rows)} VM value(s) not in the inventory, {total} sample(s) not imported: "
            + _examples(rows, lambda k, n: f"'{k}' ({n})")
            + "; import the inventory that holds them or add a row to the --mapping table (file,vm)", "vm"))
    for file, n, example in _named(con.execute("""
            SELECT file, sum(bad_ts), min(bad_example) FROM keyed_joined WHERE status = 'resolved'
            AND bad_ts > 0 GROUP BY file ORDER BY file""").fetchall(), names):
        warnings.append(_warning("utilization.timestamp.invalid", file,
                                 f"{file}: {n} sample(s) with an unreadable timestamp (e.g. '{example}') "
                                 "were not imported; timestamps must be ISO 8601, epoch seconds or "
                                 "PowerShell's M/d/yyyy h:mm:ss AM",
                                 "timestamp"))
    for file, metric, n in _named(con.execute("""
            SELECT file, metric, sum(n - bad_ts) AS n FROM keyed_joined WHERE status = 'resolved'
            AND NOT coalesce(known, false) GROUP BY ALL HAVING n > 0 ORDER BY file, metric""").fetchall(),
            names):
        warnings.append(_warning("utilization.metric.unknown", file,
                                 f"{file}: metric '{metric}' is not one of {', '.join(METRICS)}; its {n} "
                                 "sample(s) were not imported", "metric"))
    con.execute("""
        CREATE TEMP VIEW kept AS
        SELECT m.vm_id, r.timestamp, r.metric, r.value, r.interval_s, r.file
        FROM raw r JOIN (SELECT vm_key, vm_id FROM vm_map WHERE status = 'resolved') m USING (vm_key)
        WHERE r.timestamp IS NOT NULL AND r.metric IN (SELECT metric FROM metrics)""")
    return warnings


def _check(con: duckdb.DuckDBPyConnection, notes: dict[str, FileNotes], names: list[str]
           ) -> tuple[list[dict], dict[str, int]]:
    """Fill missing intervals from the sample spacing and warn about what the samples show.

    Creates view ``samples`` (the rows to import); returns the warnings and samples per file.
    Gaps (a step over ``GAP_FACTOR`` intervals), duplicate timestamps, empty values and VMs
    without memory data are reported per file.

    Sorting every series to find its steps is the costly part, so one hash pass first marks
    the VMs that cannot have a gap or a duplicate in any metric: one interval, every timestamp
    on that interval's grid, and every grid slot from first to last sample filled exactly once
    across all files (64-slot bitmaps per block, OR-ed over files, so a period two files both
    hold is still a duplicate). Only the other VMs' samples are sorted.
    """
    _screen(con)
    warnings = _interval_warnings(con, names) + _gap_warnings(con, names)
    values, counts = _value_warnings(con, names)
    return warnings + values + _note_warnings(notes), counts


def _screen(con: duckdb.DuckDBPyConnection) -> None:
    """Tables ``blocks``, ``series``, ``irregular``, ``steps``, ``inferred`` and view ``samples``."""
    con.execute("""
        CREATE TEMP TABLE blocks AS
        SELECT file, vm_id, metric, interval_s, us // step_us // 64 AS block, count(*) AS n,
               count(*) FILTER (WHERE value IS NULL) AS empty, count(*) FILTER (WHERE value = 0) AS zeros,
               min(us) AS t0, max(us) AS t1, min(us % step_us) AS off_lo, max(us % step_us) AS off_hi,
               bit_or(1::UBIGINT << (us // step_us % 64)::UBIGINT) AS bits
        FROM (SELECT *, epoch_us(timestamp) AS us, interval_s * 1000000 AS step_us FROM kept)
        GROUP BY ALL""")
    con.execute("""
        CREATE TEMP TABLE series AS
        SELECT file, vm_id, metric, sum(n) AS n, sum(empty) AS empty, sum(zeros) AS zeros
        FROM blocks GROUP BY ALL""")
    con.execute("""
        CREATE TEMP TABLE irregular AS
        SELECT DISTINCT vm_id FROM (
            SELECT vm_id, metric, interval_s, block, sum(n) AS n, bit_count(bit_or(bits)) AS slots,
                   min(t0) AS t0, max(t1) AS t1, min(off_lo) AS off_lo, max(off_hi) AS off_hi
            FROM blocks GROUP BY vm_id, metric, interval_s, block)
        GROUP BY vm_id, metric
        HAVING NOT coalesce(count(*) FILTER (WHERE interval_s IS NULL) = 0
                            AND min(interval_s) = max(interval_s) AND min(off_lo) = max(off_hi)
                            AND sum(slots) = sum(n)
                            AND sum(n) = (max(t1) - min(t0)) // (max(interval_s) * 1000000) + 1, false)""")
    con.execute("""
        CREATE TEMP TABLE steps AS
        SELECT file, vm_id, metric, interval_s,
               epoch(timestamp) - epoch(lag(timestamp) OVER (PARTITION BY vm_id, metric ORDER BY timestamp))
                   AS step
        FROM kept WHERE vm_id IN (SELECT vm_id FROM irregular)""")
    con.execute("""
        CREATE TEMP TABLE inferred AS SELECT file, vm_id, CAST(mode(round(step)) AS BIGINT) AS spacing
        FROM steps WHERE step > 0  -- only where an interval is missing: it fills those
        AND (file, vm_id) IN (SELECT DISTINCT file, vm_id FROM steps WHERE interval_s IS NULL)
        GROUP BY ALL""")
    con.execute("""
        CREATE TEMP VIEW samples AS
        SELECT k.vm_id, k.timestamp, k.metric, k.value, coalesce(k.interval_s, i.spacing) AS interval_s,
               k.file
        FROM kept k LEFT JOIN inferred i USING (file, vm_id)""")


def _interval_warnings(con: duckdb.DuckDBPyConnection, names: list[str]) -> list[dict]:
    warnings = []
    for file, n, example in _named(con.execute("""
            SELECT file, count(DISTINCT vm_id), min(spacing) FROM inferred
            GROUP BY file ORDER BY file""").fetchall(), names):
        warnings.append(_warning("utilization.interval.inferred", file,
                                 f"{file}: no sampling interval given; took the modal spacing of "
                                 f"each VM's samples (e.g. {example} s) for {n} VM(s)", "interval_s"))
    return warnings


def _gap_warnings(con: duckdb.DuckDBPyConnection, names: list[str]) -> list[dict]:
    warnings = []
    gaps = _named(con.execute(f"""
        WITH s AS (SELECT s.file, s.vm_id, s.metric, s.step, coalesce(s.interval_s, i.spacing) AS iv
                   FROM steps s LEFT JOIN inferred i USING (file, vm_id)),
        per_metric AS (
            SELECT file, vm_id, metric, count(*) FILTER (WHERE step = 0) AS dups,
                   count(*) FILTER (WHERE step > {GAP_FACTOR} * iv) AS gaps,
                   coalesce(sum(round(step / iv) - 1) FILTER (WHERE step > {GAP_FACTOR} * iv), 0) AS missing,
                   coalesce(max(step) FILTER (WHERE step > {GAP_FACTOR} * iv), 0) AS longest,
                   max(iv) AS iv
            FROM s GROUP BY ALL)
        SELECT file, vm_id, max(dups), max(gaps), max(missing), max(longest), max(iv)
        FROM per_metric GROUP BY ALL HAVING max(dups) > 0 OR max(gaps) > 0
        ORDER BY file, vm_id""").fetchall(), names)
    for file in dict.fromkeys(r[0] for r in gaps):
        rows = [r[1:] for r in gaps if r[0] == file]
        dup_rows = [(vm, d) for vm, d, *_ in rows if d]
        gap_rows = [(vm, g, m, lng, iv) for vm, _, g, m, lng, iv in rows if g]
        if dup_rows:
            warnings.append(_warning(
                "utilization.timestamp.duplicate", file,
                f"{file}: {sum(d for _, d in dup_rows)} duplicate timestamp(s) in {len(dup_rows)} VM(s), "
                "all kept: " + _examples(dup_rows, lambda vm, d: f"{vm} ({d})"), "timestamp"))
        if gap_rows:
            warnings.append(_warning(
                "utilization.gap", file,
                f"{file}: gaps longer than {GAP_FACTOR} x the sampling interval in {len(gap_rows)} VM(s), "
                "kept as gaps (not filled): " + _examples(
                    gap_rows, lambda vm, g, m, lng, iv: f"{vm}: {g} gap(s), ~{m:.0f} missing sample(s) of "
                    f"{iv} s, longest {lng / 3600:.1f} h"), "timestamp"))
    return warnings


def _value_warnings(con: duckdb.DuckDBPyConnection, names: list[str]) -> tuple[list[dict], dict[str, int]]:
    """Warnings about empty values and memory data per file, and the samples per file."""
    warnings = []
    per_vm = _named(con.execute("""
        SELECT file, vm_id, sum(n), sum(empty),
               coalesce(sum(n - empty) FILTER (WHERE metric = 'mem_consumed_mib'), 0),
               coalesce(sum(zeros) FILTER (WHERE metric = 'mem_consumed_mib'), 0)
        FROM series GROUP BY ALL ORDER BY file, vm_id""").fetchall(), names)
    counts: dict[str, int] = {}
    for file, _, n, *_ in per_vm:
        counts[file] = counts.get(file, 0) + n
    for file in dict.fromkeys(r[0] for r in per_vm):
        rows = [r[1:] for r in per_vm if r[0] == file]
        empty = [(vm, e, n) for vm, n, e, _, _ in rows if e]
        no_mem = [(vm,) for vm, _, _, mem, _ in rows if not mem]
        zero_mem = [(vm, z, mem) for vm, _, _, mem, z in rows if mem and z]
        if empty:
            warnings.append(_warning("utilization.value.missing", file, f"{file}: samples without a value "
                                     f"in {len(empty)} VM(s), kept empty (not filled): "
                                     + _examples(empty, lambda vm, e, n: f"{vm} ({e} of {n})"), "value"))
        if no_mem:
            warnings.append(_warning("utilization.memory.missing", file, f"{file}: {len(no_mem)} VM(s) have "
                                     "no memory data (mem_consumed_mib); sizing falls back to configured "
                                     "memory: " + _examples(no_mem, str), "value"))
        if zero_mem:
            warnings.append(_warning("utilization.memory.zero", file, f"{file}: memory samples of 0 in "
                                     f"{len(zero_mem)} VM(s) (a running VM always consumes memory: likely "
                                     "not collected); kept: "
                                     + _examples(zero_mem, lambda vm, z, m: f"{vm} ({z} of {m})"), "value"))
    return warnings, counts


def _note_warnings(notes: dict[str, FileNotes]) -> list[dict]:
    warnings = []
    for file, note in notes.items():
        if note.zero_capacity_rows:
            warnings.append(_warning("utilization.capacity.zero", file,
                                     f"{file}: {note.zero_capacity_rows} row(s) report zero CPU or memory "
                                     "capacity (VM off or not reporting); their samples are kept"))
        if note.timestamp_note:
            warnings.append(_warning("utilization.timestamp.unit", file, f"{file}: {note.timestamp_note}",
                                     "timestamp"))
        for text in note.partial:
            warnings.append(_warning("utilization.metric.partial", file, f"{file}: {text}"))
    return warnings
