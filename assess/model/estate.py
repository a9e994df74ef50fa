"""The Estate: the canonical tables, where they came from, and what was odd about them.

An estate folder on disk holds ``estate.json`` (provenance, schema version, and which tables
folder is current) and one Parquet file per table under ``tables.<n>/``. Saving then loading
gives identical frames. Saves are atomic and locked (:mod:`assess.model.store`): a killed import
leaves the old estate or the new one, and two imports into one folder take turns.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from assess import __version__
from assess.model.errors import AssessError
from assess.model.schema import RESULT_TABLES, TABLES, TIME, VM_CHILD_TABLES, empty
from assess.model.store import atomic_write_text, folder_lock, fsync_tree

SCHEMA_VERSION = 1

#: Utilization rows beyond which samples stay in Parquet files (``Estate.utilization_files``)
#: rather than in a pandas frame: ~370 bytes of peak memory per sample in pandas, so 10 million
#: rows (~7,000 VMs x 30 days of 2-hour samples x 4 metrics) stay near 4 GB; beyond that DuckDB
#: aggregates the files out of core.
UTILIZATION_IN_MEMORY_MAX_ROWS = 10_000_000


def conform(name: str, frame: pd.DataFrame, source: str = "") -> pd.DataFrame:
    """Return ``frame`` with the declared columns of table ``name``, in order and dtype.

    Estate tables (:data:`~assess.model.schema.TABLES`): missing optional columns are added as
    nulls; unknown columns are dropped; a missing required column raises :class:`AssessError`
    naming table and column. Result tables (:data:`~assess.model.schema.RESULT_TABLES`): the
    same, except that columns a stage added without declaring them are kept after the declared
    ones (nothing a stage computed is lost). A table declared in neither is returned as is.
    """
    table = TABLES.get(name) or RESULT_TABLES.get(name)
    if table is None:
        return frame
    if _conformed(frame, table):
        return frame.copy(deep=False)  # a new frame (copy-on-write): nothing to convert, nothing copied
    missing = [c for c in table.required if c not in frame.columns]
    if missing:
        where = f" from {source}" if source else ""
        raise AssessError(f"table '{name}'{where} lacks required column(s): {', '.join(missing)}")
    out = {}
    for col in table.columns:
        if col.name in frame.columns:
            out[col.name] = _as_dtype(frame[col.name], col.dtype, name)
        else:
            out[col.name] = pd.Series(None, index=frame.index, dtype=col.dtype)
    if name not in TABLES:
        out |= {c: frame[c] for c in frame.columns if c not in out}
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)


def _conformed(frame: pd.DataFrame, table) -> bool:
    """Whether ``frame`` already has exactly ``table``'s columns, in order and dtype, and a 0..n index."""
    index = frame.index
    return (list(frame.columns) == [c.name for c in table.columns]
            and all(str(frame[c.name].dtype) == c.dtype for c in table.columns)
            and isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1)


def _as_dtype(series: pd.Series, dtype: str, table: str) -> pd.Series:
    if str(series.dtype) == dtype:
        return series
    try:
        if dtype == TIME:
            return pd.to_datetime(series, utc=True).astype(TIME)
        if dtype == "boolean" and not pd.api.types.is_bool_dtype(series):
            return series.map(_to_bool, na_action="ignore").astype("boolean")
        if dtype == "Int64" and series.dtype.kind == "f":
            return series.round().astype("Int64")
        return series.astype(dtype)
    except (TypeError, ValueError) as exc:
        raise AssessError(
            f"table '{table}' column '{series.name}' cannot be read as {dtype}: {exc}"
        ) from exc


def _to_bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "1", "on", "enabled"}:
        return True
    if text in {"false", "no", "0", "off", "disabled"}:
        return False
    return None


@dataclass
class Estate:
    """The canonical tables with provenance and recorded warnings.

    Attributes:
        tables: table name -> DataFrame in canonical form (see :mod:`assess.model.schema`).
        provenance: one dict per source: ``id``, ``kind``, ``path`` or ``server``,
            ``read_at``, ``tool`` and ``tool_version`` where known.
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    provenance: list[dict] = field(default_factory=list)
    #: Parquet files of canonical utilization rows kept out of memory (large estates); their
    #: rows are not in ``tables["utilization"]``. Sizing aggregates them with DuckDB.
    utilization_files: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in TABLES:
            if name not in self.tables:
                self.tables[name] = empty(name)
            else:
                self.tables[name] = conform(name, self.tables[name])

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def __setitem__(self, name: str, frame: pd.DataFrame) -> None:
        self.tables[name] = conform(name, frame)

    @property
    def warnings(self) -> pd.DataFrame:
        """Recorded warnings (the ``warnings`` table)."""
        return self.tables["warnings"]

    def warn(
        self,
        code: str,
        message: str,
        *,
        source: str = "",
        table: str = "",
        row: object = "",
        column: str = "",
    ) -> None:
        """Record a recoverable oddity; it reaches the report and the run summary."""
        self.warn_many(
            [dict(source=source, code=code, table=table, row=str(row), column=column,
                  message=message)]
        )

    def warn_many(self, records: list[dict]) -> None:
        """Record several warnings at once (one concat, not one per warning)."""
        if not records:
            return
        new = conform("warnings", pd.DataFrame.from_records(records).astype("string"))
        self.tables["warnings"] = pd.concat([self.tables["warnings"], new], ignore_index=True)

    def with_warnings(self, records: list[dict]) -> Estate:
        """Return a new estate sharing these tables, with ``records`` added to its warnings."""
        tables = dict(self.tables)
        if records:
            new = conform("warnings", pd.DataFrame.from_records(records).astype("string"))
            tables["warnings"] = pd.concat([tables["warnings"], new], ignore_index=True)
        return Estate(tables, list(self.provenance), list(self.utilization_files))

    def add_source(self, kind: str, **details) -> str:
        """Register a source in the provenance and return its id."""
        source_id = f"{kind}-{len(self.provenance) + 1}"
        self.provenance.append(
            {"id": source_id, "kind": kind, "read_at": datetime.now(UTC).isoformat(), **details}
        )
        return source_id

    def counts(self) -> dict[str, int]:
        """Rows per table (utilization includes the rows of ``utilization_files``)."""
        counts = {name: len(frame) for name, frame in self.tables.items()}
        counts["utilization"] += sum(_rows(p) for p in self.utilization_files)
        return counts

    def merge(self, other: Estate) -> Estate:
        """Return a new estate with ``other`` laid over this one, merging by key.

        VMs present in both are taken from ``other``; for those VMs, a child table that
        ``other`` supplies (any row for the VM) replaces the older rows. Other keyed tables
        keep the newer row per key; utilization is concatenated and de-duplicated by key so
        that history from separate files accumulates. A flow seen in both adds up when the two
        observations cover disjoint periods, and the newer one replaces the older when they
        overlap (a re-import of the same export). Source ids of ``other`` that are taken here
        are renumbered, with the ``source`` columns that name them.
        """
        other = other._renumbered({p["id"] for p in self.provenance})
        tables = {}
        for name, table in TABLES.items():
            old, new = self.tables[name], other.tables[name]
            if new.empty:
                tables[name] = old
                continue
            if old.empty:
                tables[name] = new
                continue
            if name == "flows":
                tables[name] = _merged_flows(old, new)
            elif name in VM_CHILD_TABLES:
                old = old[~old["vm_id"].isin(set(new["vm_id"]))]
                tables[name] = pd.concat([old, new], ignore_index=True)
            elif table.key:
                both = pd.concat([old, new], ignore_index=True)
                tables[name] = both.drop_duplicates(list(table.key), keep="last").reset_index(
                    drop=True
                )
            else:
                tables[name] = pd.concat([old, new], ignore_index=True)
        return Estate(tables, self.provenance + other.provenance,
                      self.utilization_files + other.utilization_files)

    def _renumbered(self, taken: set[str]) -> Estate:
        """This estate with source ids that collide with ``taken`` given free numbers."""
        used = set(taken) | {p["id"] for p in self.provenance}
        renames: dict[str, str] = {}
        provenance = []
        for source in self.provenance:
            if source["id"] in taken:
                n = 1
                while f"{source['kind']}-{n}" in used:
                    n += 1
                renames[source["id"]] = f"{source['kind']}-{n}"
                used.add(renames[source["id"]])
                source = {**source, "id": renames[source["id"]]}
            provenance.append(source)
        if not renames:
            return self
        tables = {
            name: frame.assign(source=frame["source"].replace(renames)) if "source" in frame else frame
            for name, frame in self.tables.items()
        }
        return Estate(tables, provenance, self.utilization_files)

    def validate(self) -> Estate:
        """Check keys and references; record a warning for each problem found.

        Duplicate keys keep the first row; rows whose ``vm_id`` names no VM are kept
        (they may be completed by a later import) but warned about with their row number.
        Returns self so calls chain.
        """
        vm_ids = set(self.tables["vms"]["vm_id"].dropna())
        records = []
        for name, table in TABLES.items():
            frame = self.tables[name]
            if frame.empty:
                continue
            for col in table.required:
                bad = frame.index[frame[col].isna()]
                for row in bad[:20]:
                    records.append(dict(code="model.value.missing", table=name, row=str(row),
                                        column=col, source="",
                                        message=f"{name} row {row}: required '{col}' is empty"))
            if table.key and name != "utilization":
                dup = frame.duplicated(list(table.key), keep="first")
                if dup.any():
                    for row in frame.index[dup][:20]:
                        key = ", ".join(str(frame.at[row, k]) for k in table.key)
                        records.append(dict(code="model.key.duplicate", table=name, source="",
                                            row=str(row), column=",".join(table.key),
                                            message=f"{name}: duplicate key ({key}); first kept"))
                    self.tables[name] = frame[~dup].reset_index(drop=True)
                    frame = self.tables[name]
            for col, target in table.refs.items():
                dangling = ~frame[col].isin(vm_ids)
                if dangling.any():
                    unknown = sorted(set(frame.loc[dangling, col].astype(str)))
                    records.append(dict(
                        code="model.reference.dangling", table=name, column=col, source="",
                        row=str(int(frame.index[dangling][0])),
                        message=f"{name}: {int(dangling.sum())} row(s) reference "
                        f"{len(unknown)} {col} value(s) not in {target}, e.g. {unknown[0]}",
                    ))
        records += self._unusable_allocations()
        self.warn_many(records)
        return self

    def _unusable_allocations(self) -> list[dict]:
        """Make vCPU counts below 1 and memory that is not finite and positive unknown (``<NA>``).

        A VM allocated -2 or 0 vCPUs, -4096 MiB or NaN memory cannot be sized or packed: its
        allocation becomes unknown, with one ``model.allocation.invalid`` warning per VM naming
        the value. A missing value (``<NA>``, NaN) is unknown already and not warned again at
        each save. Sizing must exclude VMs whose ``vcpus`` or ``memory_mib`` is unknown.
        """
        vms = self.tables["vms"]
        memory = vms["memory_mib"].to_numpy(dtype="float64", na_value=np.nan)
        bad_cpu = (vms["vcpus"] < 1).fillna(False).to_numpy(dtype=bool)
        bad_memory = (memory <= 0) | np.isinf(memory)  # NaN is unknown already
        rows = np.flatnonzero(bad_cpu | bad_memory)
        if not len(rows):
            return []
        records = [_allocation_warning(vms, row, bad_cpu[row], bad_memory[row]) for row in rows]
        vms = vms.copy()
        vms.loc[bad_cpu, "vcpus"] = pd.NA
        vms.loc[bad_memory, "memory_mib"] = np.nan
        self.tables["vms"] = vms
        return records

    def save(self, folder: str | Path) -> Path:
        """Write the estate to ``folder`` (created if needed) atomically, and return its path.

        Holds the folder's lock; see :func:`commit` for what a crash at any point leaves.
        """
        with folder_lock(folder, what="estate"):
            return self.commit(folder)

    def commit(self, folder: str | Path) -> Path:
        """Write the estate to ``folder`` as a new generation; the caller holds the folder's lock.

        The tables go to a new ``tables.<n>`` folder, are flushed to disk, and only then does a
        new ``estate.json`` naming that folder replace the old one (one rename: the commit).
        A crash before the rename leaves the old estate, after it the new one; the unlisted
        folder a crash leaves behind is removed by the next save. Out-of-core utilization
        rows end up in the new folder's file, which this estate then points to.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"tables.{_last_generation(folder) + 1}"
        staging = folder / name
        staging.mkdir()
        spilled = self._write_tables(staging)
        fsync_tree(staging)
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "tool_version": __version__,
            "saved_at": datetime.now(UTC).isoformat(),
            "tables_dir": name,
            "provenance": self.provenance,
            "counts": self.counts(),
        }
        atomic_write_text(folder / "estate.json", json.dumps(manifest, indent=2, default=str))
        if spilled:
            self.utilization_files = [staging / "utilization.parquet"]
            self.tables["utilization"] = empty("utilization")
        _remove_stale(folder, keep=name)
        return folder

    def _write_tables(self, staging: Path) -> bool:
        """Write every table into ``staging``; True when utilization went out of core."""
        for name, frame in self.tables.items():
            if name != "utilization" or not self.utilization_files:
                frame.to_parquet(staging / f"{name}.parquet", index=False)
        if not self.utilization_files:
            return False
        target = staging / "utilization.parquet"
        frame = self.tables["utilization"]
        if frame.empty and len(self.utilization_files) == 1:
            try:  # unchanged samples: a hard link costs nothing, the samples can be gigabytes
                os.link(self.utilization_files[0], target)
                return True
            except OSError:
                pass
        write_utilization(frame, self.utilization_files, target)
        return True

    @classmethod
    def load(cls, folder: str | Path) -> Estate:
        """Read an estate folder written by :meth:`save` (waits while a writer holds it)."""
        with folder_lock(folder, exclusive=False, what="estate"):
            return cls.read(folder)

    @classmethod
    def read(cls, folder: str | Path) -> Estate:
        """Read the estate at ``folder``: only the tables its ``estate.json`` names."""
        folder = Path(folder)
        manifest_path = folder / "estate.json"
        if not manifest_path.is_file():
            raise AssessError(f"{folder}: not an estate folder (no estate.json)")
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, ValueError) as exc:
            raise AssessError(f"{manifest_path}: unreadable ({exc}); re-import the sources") from exc
        if manifest.get("schema_version") != SCHEMA_VERSION:
            raise AssessError(
                f"{folder}: estate schema version {manifest.get('schema_version')} is not "
                f"{SCHEMA_VERSION}; re-import the sources"
            )
        tables_dir = manifest.get("tables_dir", "tables")
        if not isinstance(tables_dir, str) or not _TABLES_DIR.fullmatch(tables_dir) \
                or not (folder / tables_dir).is_dir():
            raise AssessError(f"{manifest_path}: tables_dir '{tables_dir}' is not a tables folder "
                              "of this estate; re-import the sources")
        tables, files = {}, []
        for name in TABLES:
            path = folder / tables_dir / f"{name}.parquet"
            if not path.is_file():
                continue
            if name == "utilization" and _rows(path) > UTILIZATION_IN_MEMORY_MAX_ROWS:
                files.append(path)
            else:
                tables[name] = pd.read_parquet(path)
        return cls(tables, manifest.get("provenance", []), files)

    @classmethod
    def open_or_new(cls, folder: str | Path, *, locked: bool = False) -> Estate:
        """Load the estate at ``folder`` if there is one, else return an empty estate.

        ``locked``: the caller already holds the folder's lock (read without taking it).
        """
        if not (Path(folder) / "estate.json").is_file():
            return cls()
        return cls.read(folder) if locked else cls.load(folder)


def _allocation_warning(vms: pd.DataFrame, row: int, bad_cpu: bool, bad_memory: bool) -> dict:
    """The ``model.allocation.invalid`` warning of the VM at ``row``."""
    vm = vms.iloc[row]
    shown = {"vcpus": f"{vm['vcpus']} vCPUs", "memory_mib": f"memory {vm['memory_mib']:g} MiB"}
    columns = [c for c, bad in (("vcpus", bad_cpu), ("memory_mib", bad_memory)) if bad]
    return dict(code="model.allocation.invalid", table="vms", row=str(row), column=",".join(columns),
                source="" if pd.isna(vm["source"]) else str(vm["source"]),
                message=f"VM {vm['name']} ({vm['vm_id']}): {' and '.join(shown[c] for c in columns)} "
                        "cannot be sized; taken as unknown and not packed (fix the allocation at the source)")


def write_utilization(frame: pd.DataFrame, files: list[Path], path: Path) -> None:
    """Write ``frame`` and the Parquet ``files`` as one canonical utilization Parquet file at ``path``.

    DuckDB streams the files, so the samples never enter pandas. ``path`` may be one of ``files``.
    """
    import duckdb

    target = Path(path)
    if frame.empty and [Path(f).resolve() for f in files] == [target.resolve()]:
        return
    quoted = [_sql_text(str(f)) for f in files]
    parts = [f"SELECT * FROM read_parquet([{', '.join(quoted)}])"]
    con = duckdb.connect()
    if len(frame):
        con.register("in_memory", frame)
        parts.append("SELECT * FROM in_memory")
    spill = target.with_name(target.name + ".tmp")
    con.execute(f"COPY ({' UNION ALL BY NAME '.join(parts)}) TO {_sql_text(str(spill))} (FORMAT parquet)")
    con.close()
    spill.replace(target)


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _merged_flows(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Flows of two observations; see :meth:`Estate.merge` for how a flow seen in both combines."""
    key = list(TABLES["flows"].key)
    both = old.merge(new[key + ["connections", "bytes", "first_seen", "last_seen"]], on=key, how="inner",
                     suffixes=("", "_new"))
    disjoint = (both["first_seen_new"] > both["last_seen"]) | (both["last_seen_new"] < both["first_seen"])
    added = both[disjoint.fillna(False).astype(bool)]
    summed = added[old.columns].assign(
        connections=added["connections"].fillna(0) + added["connections_new"].fillna(0),
        bytes=added["bytes"].add(added["bytes_new"], fill_value=0),
        first_seen=added[["first_seen", "first_seen_new"]].min(axis=1),
        last_seen=added[["last_seen", "last_seen_new"]].max(axis=1),
    )
    merged = pd.concat([old, new, summed], ignore_index=True)
    return merged.drop_duplicates(key, keep="last").reset_index(drop=True)


def merge_into_folder(folder: str | Path, added: Estate) -> Estate:
    """Lay ``added`` over the estate saved at ``folder`` (or a new one), validate, save it.

    Read, merge and write happen under the folder's exclusive lock, so two imports into one
    estate take turns and both end up in it (or the second stops with "estate busy"). An input
    already imported with the same content (same kind and SHA-256) is recorded once:
    re-importing a file adds no second provenance entry.
    """
    from assess.model.provenance import with_digests, without_repeated_sources

    with folder_lock(folder, what="estate"):
        merged = Estate.open_or_new(folder, locked=True).merge(with_digests(added))
        merged = without_repeated_sources(merged).validate()
        merged.commit(folder)
    return merged


#: Tables folders of an estate: ``tables`` (estates saved before generations) and ``tables.<n>``.
_TABLES_DIR = re.compile(r"tables(?:\.(\d+))?")


def _last_generation(folder: Path) -> int:
    """The highest ``tables.<n>`` on disk, listed or left by a crash (0 when none)."""
    numbers = [int(m[1]) for p in folder.iterdir() if (m := _TABLES_DIR.fullmatch(p.name)) and m[1]]
    return max(numbers, default=0)


def _remove_stale(folder: Path, keep: str) -> None:
    """Delete the tables folders and temporary manifests the estate no longer lists (ours only)."""
    for path in folder.iterdir():
        if path.is_dir() and _TABLES_DIR.fullmatch(path.name) and path.name != keep:
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(".estate.json.tmp-"):
            path.unlink(missing_ok=True)
