"""Turn raw RVTools sheets into typed columns and keys (shared by the VM and inventory readers)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assess.collect.rvtools_columns import (
    EMPTY_MEANS_FALSE,
    HELPER_DTYPES,
    SHEETS,
    VM_KEY,
    normalise_header,
)
from assess.collect.rvtools_files import Export, RawSheet
from assess.collect.rvtools_values import booleans, numbers, text, times, versions
from assess.model.errors import AssessError
from assess.model.schema import BOOL, FLOAT, INT, TABLES, TIME

#: vInfo header aliases, normalised: custom attributes are the other columns after 'Annotation'.
VINFO_HEADERS = frozenset(
    normalise_header(alias) for aliases in SHEETS["vInfo"][1].values() for alias in aliases
)


@dataclass
class ExportContext:
    """One export being read: the file, its provenance id, and what was odd or absent."""

    export: Export
    source: str
    warnings: list[dict] = field(default_factory=list)
    absent_sheets: list[str] = field(default_factory=list)
    absent_columns: dict[str, list[str]] = field(default_factory=dict)

    def warn(self, code: str, sheet: str, message: str, row: object = "", column: str = "") -> None:
        """Record a warning about this export (flushed into the estate at the end)."""
        where = f"{self.export.path}, sheet {sheet}" if sheet else str(self.export.path)
        self.warnings.append(dict(source=self.source, code=code, table=sheet, row=str(row),
                                  column=column, message=f"{where}: {message}"))

    def absent(self, table: str, columns: list[str]) -> None:
        """Note canonical columns of ``table`` that this export does not supply."""
        names = TABLES[table].names
        known = self.absent_columns.setdefault(table, [])
        known.extend(c for c in columns if c in names and c not in known)


def sheet_fields(ctx: ExportContext, sheet_name: str, require_vm: bool = False,
                 per_vm: bool = False, skip: frozenset[str] = frozenset()
                 ) -> tuple[pd.DataFrame, RawSheet] | None:
    """Read ``sheet_name`` and return its typed spec columns (index = source row), or None if absent.

    Columns the spec names but the sheet lacks are recorded as absent (and warned about);
    cells that cannot be read as their column's type become nulls with one warning per column.
    ``require_vm`` (vInfo): a missing 'VM' column refuses the export. ``per_vm`` (the other
    per-VM sheets): any of 'VM', 'VM ID', 'VM UUID' identifies rows; with none of them, a first
    column whose header is no known one is taken as 'VM' (warned), else the sheet is skipped
    with a warning. An optional sheet that cannot be read at all is skipped with a warning.
    Columns in ``skip`` are not read (the caller has them already).
    """
    table, spec = SHEETS[sheet_name]
    export = ctx.export
    if not export.has(sheet_name):
        return _absent(ctx, sheet_name)
    try:
        sheet = export.read(sheet_name)
    except AssessError as exc:
        if require_vm:
            raise
        ctx.warn("rvtools.sheet.unreadable", sheet_name, f"{exc}; sheet skipped")
        return _absent(ctx, sheet_name)
    finally:
        ctx.warnings.extend({**w, "source": ctx.source} for w in export.warnings)
        export.warnings.clear()
    if require_vm and sheet.column(spec["name"]) is None:
        found = ", ".join(sheet.headers[:8])
        raise AssessError(f"{export.path}, sheet {sheet_name}: no 'VM' column (headers found: "
                          f"{found or 'none'}); restore the 'VM' header")
    found = {col: sheet.column(aliases) for col, aliases in spec.items() if col not in skip}
    if per_vm and not _identified(ctx, sheet_name, sheet, found):
        return _absent(ctx, sheet_name)
    columns, missing = {}, []
    dtypes = TABLES[table].dtypes if table else {}
    sheet.load([name for name in found.values() if name is not None])
    for col, name in found.items():
        if name is None:
            missing.append(col)
            continue
        values, bad = _typed(sheet, name, col, HELPER_DTYPES.get(col) or dtypes.get(col, "string"))
        if bad is not None and bad.any():
            first = bad.idxmax()
            ctx.warn("rvtools.value.invalid", sheet_name,
                     f"column '{name}': {int(bad.sum())} value(s) cannot be read "
                     f"(first at row {first}: {sheet.raw(name).at[first]!r}); read as empty",
                     row=first, column=name)
        columns[col] = values
    if missing and table:
        shown = [c for c in missing if not c.startswith("_")]
        if shown:
            ctx.warn("rvtools.column.missing", sheet_name,
                     f"no column for {', '.join(shown)}; these stay unknown")
        ctx.absent(table, _own_columns(sheet_name, missing))
    return pd.DataFrame(columns, index=sheet.index), sheet


def _absent(ctx: ExportContext, sheet_name: str) -> None:
    """Record ``sheet_name`` as absent (its facts unknown for this export)."""
    table, spec = SHEETS[sheet_name]
    ctx.absent_sheets.append(sheet_name)
    if table:
        ctx.absent(table, _own_columns(sheet_name, spec))


def _identified(ctx: ExportContext, sheet_name: str, sheet: RawSheet, found: dict) -> bool:
    """Whether rows of a per-VM sheet can be tied to VMs; may take the first column as 'VM'."""
    if any(found.get(col) is not None for col in ("name", "moref", "instance_uuid")):
        return True
    first = sheet.headers[0] if sheet.headers else None
    spec = SHEETS[sheet_name][1]
    known = {normalise_header(a) for aliases in spec.values() for a in aliases}
    if first is not None and normalise_header(first) not in known:
        found["name"] = first
        ctx.warn("rvtools.header.vm_by_position", sheet_name,
                 f"no 'VM', 'VM ID' or 'VM UUID' header; the first column ('{first}') is read as "
                 "the VM name", column=first)
        return True
    ctx.warn("rvtools.sheet.no_vm_key", sheet_name,
             "no 'VM', 'VM ID' or 'VM UUID' column: rows cannot be tied to VMs; sheet skipped")
    return False


def _own_columns(sheet_name: str, columns) -> list[str]:
    """Columns a sheet itself supplies: the VM key columns only count on vInfo."""
    return [c for c in columns if sheet_name == "vInfo" or c not in VM_KEY]


def _typed(sheet: RawSheet, name: str, col: str, dtype: str) -> tuple[pd.Series, pd.Series | None]:
    raw = sheet.raw(name)
    if col == "hw_version":
        return versions(raw)
    if dtype in (FLOAT, INT):
        values, bad = numbers(raw, sheet.decimal_comma)
        return (values.round().astype("Int64") if dtype == INT else values), bad
    if dtype == BOOL:
        return booleans(raw, empty_false=col in EMPTY_MEANS_FALSE)
    if dtype == TIME:
        return times(raw, dayfirst=sheet.decimal_comma)
    return text(raw), None


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    """``frame[name]`` or an all-null string column when the sheet lacked it."""
    if name in frame:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def vm_keys(frame: pd.DataFrame, fallback: str) -> tuple[pd.Series, pd.Series]:
    """VM keys per row: '<vCenter UUID>/<moref>', else instance UUID, else '<vcenter>:<name>'.

    ``fallback`` names the export when a row has no vCenter name either. Returns the keys
    and a mask of rows that had to fall back to the name.
    """
    def arrow(name: str) -> pa.Array:
        return pa.array(column(frame, name).array, type=pa.string())

    by_moref = pc.binary_join_element_wise(pc.utf8_lower(arrow("vcenter_uuid")), arrow("moref"), "/")
    instance = pc.utf8_lower(arrow("instance_uuid"))
    by_name = pc.binary_join_element_wise(pc.coalesce(arrow("vcenter"), fallback), arrow("name"), ":")
    keys = pc.coalesce(by_moref, instance, by_name)
    named = pc.and_(pc.is_null(by_moref), pc.is_null(instance))
    return (pd.Series(pd.arrays.ArrowStringArray(keys), index=frame.index),
            pd.Series(named.to_numpy(zero_copy_only=False), index=frame.index))


def object_ids(frame: pd.DataFrame, *name_cols: str) -> pd.Series:
    """Inventory object ids: '<vCenter UUID>/<Object ID>', else '<vcenter>/<name...>'."""
    uuid = column(frame, "_vcenter_uuid").str.lower()
    oid = column(frame, "_object_id")
    fallback = column(frame, "_vcenter").fillna("")
    for col in name_cols:
        fallback = fallback + "/" + column(frame, col).fillna("")
    return (uuid + "/" + oid).where(uuid.notna() & oid.notna(), fallback).astype("string")
