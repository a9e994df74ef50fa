"""Open an RVTools export (xlsx workbook or 'export all to CSV' folder) and read its sheets raw.

Raw means: cell values as the file holds them (numbers, datetimes, strings), one column per
header, fully empty rows dropped, and each column indexed by its source row number (the
header is row 1) so warnings can name the row. Interpreting the values is the job of
:mod:`assess.collect.rvtools_values`.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine

from assess.collect.rvtools_columns import KNOWN_UNUSED, SHEETS, normalise_header
from assess.collect.xlsx_bounds import XlsxBounds, XlsxLimits
from assess.model.errors import AssessError

_CSV_NAME = re.compile(r"^rvtools_tab(?P<sheet>.+)\.csv$", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r'(?:^|;)"?-?\d+,\d+"?(?:;|\r?$)', re.MULTILINE)
_SNIFF_BYTES = 1 << 16


@dataclass
class RawSheet:
    """One sheet as read: values untouched, headers trimmed, source row numbers as index.

    Cells stay in the rows the reader gave until a column is asked for, so only the columns
    the import uses are ever turned into arrays.
    """

    name: str
    headers: list[str]
    lookup: dict[str, str]
    index: pd.Index
    _rows: list = field(repr=False)
    _position: dict[str, int] = field(repr=False)
    decimal_comma: bool = False
    _cache: dict[str, pd.Series] = field(default_factory=dict, repr=False)

    def column(self, aliases: tuple[str, ...]) -> str | None:
        """Return the header matching the first alias found, or None."""
        for alias in aliases:
            hit = self.lookup.get(normalise_header(alias))
            if hit is not None:
                return hit
        return None

    def raw(self, header: str) -> pd.Series:
        """Cells of the column ``header`` as objects, indexed by source row."""
        if header not in self._cache:
            self.load([header])
        return self._cache[header]

    def load(self, headers: list[str]) -> None:
        """Extract the columns ``headers`` from the rows (C-level, no per-cell Python code)."""
        wanted = [h for h in dict.fromkeys(headers) if h not in self._cache]
        if not wanted:
            return
        for header in wanted:
            values = np.fromiter(map(itemgetter(self._position[header]), self._rows),
                                 dtype=object, count=len(self._rows))
            self._cache[header] = pd.Series(values, index=self.index, dtype=object, copy=False)


@dataclass
class Export:
    """An opened RVTools export: where it is, which sheets it holds, and how to read them."""

    path: Path
    kind: str
    sheets: dict[str, str]
    warnings: list[dict] = field(default_factory=list)
    _workbook: python_calamine.CalamineWorkbook | None = None
    _locales: set = field(default_factory=set)
    _bounds: XlsxBounds | None = None

    def close(self) -> None:
        """Stop screening sheets ahead and release the workbook's file (idempotent)."""
        if self._bounds is not None:
            self._bounds.close()
            self._bounds = None
        self._workbook = None

    def __enter__(self) -> Export:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def has(self, sheet: str) -> bool:
        """True when the export holds ``sheet`` (name matched case-insensitively)."""
        return sheet.lower() in self.sheets

    def unused_sheets(self) -> list[str]:
        """Sheets in the export that no canonical table is read from."""
        wanted = {s.lower() for s in SHEETS}
        return sorted(Path(where).stem[len("RVTools_tab"):] if self.kind == "csv" else where
                      for name, where in self.sheets.items() if name not in wanted)

    def read(self, sheet: str) -> RawSheet:
        """Read ``sheet`` raw; raise :class:`AssessError` naming file and sheet if unreadable."""
        where = self.sheets[sheet.lower()]
        try:
            if self.kind == "xlsx":
                self._bounds.check(where)  # before calamine allocates the sheet's grid
                rows = self._workbook.get_sheet_by_name(where).to_python()
                decimal_comma = False
            else:
                rows, decimal_comma = self._csv_rows(Path(where))
        except AssessError:
            raise
        except Exception as exc:  # calamine, zip and csv errors have no common base class
            raise AssessError(
                f"{self.path}, sheet {sheet}: cannot be read ({type(exc).__name__}: {exc}); "
                "re-export it from RVTools"
            ) from exc
        return self._raw(sheet, rows, decimal_comma)

    def _csv_rows(self, path: Path) -> tuple[list[list[str]], bool]:
        raw = path.read_bytes()
        encoding = "utf-8-sig"
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            encoding = "cp1252"
            text = raw.decode(encoding)
            self.warnings.append(
                _w(path, "rvtools.csv.encoding", "", "file is not UTF-8; read as Windows-1252"))
        first = text[: text.find("\n") if "\n" in text else len(text)]
        sep = max((",", ";", "\t"), key=first.count)
        decimal_comma = sep == ";" and bool(_DECIMAL_COMMA.search(text[:_SNIFF_BYTES]))
        if sep != "," and (sep, decimal_comma) not in self._locales:
            self._locales.add((sep, decimal_comma))
            how = "decimal commas" if decimal_comma else "decimal points"
            self.warnings.append(_w(path, "rvtools.csv.locale", "",
                                    f"CSV is {'semicolon' if sep == ';' else 'tab'}-delimited "
                                    f"(Excel in a non-English locale); read with {how}"))
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
        width = max(map(len, rows), default=0)
        return [row + [""] * (width - len(row)) if len(row) < width else row  # pads ragged rows
                for row in rows], decimal_comma

    def _raw(self, sheet: str, rows: list, decimal_comma: bool) -> RawSheet:
        if not rows or not rows[0]:
            raise AssessError(f"{self.path}, sheet {sheet}: the sheet is empty (no header row); "
                              "re-export it from RVTools")
        header, rows = rows[0], rows[1:]
        width = len(header)
        # calamine and the CSV reader give "" for empty cells (never None); most rows have a first cell
        full = [row[0] != "" or row.count("") != width for row in rows]
        index = pd.Index(np.flatnonzero(full) + 2) if rows else pd.RangeIndex(2, 2)
        if len(index) < len(rows):
            rows = list(itertools.compress(rows, full))
        names, lookup, position = [], {}, {}
        for i, h in enumerate(header):
            name = "" if h is None else str(h).strip()
            if not name:
                if any(_nonblank(row[i]) for row in rows):
                    self.warnings.append(_w(self.path, "rvtools.header.missing", sheet,
                                            f"values in column {i + 1} have no header; ignored"))
                continue
            norm = normalise_header(name)
            if norm in lookup:
                self.warnings.append(_w(self.path, "rvtools.header.duplicate", sheet,
                                        f"header '{name}' appears twice; the first is used",
                                        column=name))
                name = f"{name} ({i + 1})"
            else:
                lookup[norm] = name
            names.append(name)
            position[name] = i
        return RawSheet(sheet, names, lookup, index, rows, position, decimal_comma)


def open_export(path: Path, limits: XlsxLimits = XlsxLimits()) -> Export:
    """Open an RVTools xlsx export or CSV folder, checking it is one and holds vInfo.

    ``limits`` bound what an xlsx sheet may make the reader allocate (see
    :mod:`assess.collect.xlsx_bounds`); a sheet past them is refused when read.

    Raises:
        AssessError: the path does not exist, is not readable as a workbook, is not an
            RVTools export, or lacks the vInfo sheet.
    """
    path = Path(path)
    if path.is_dir():
        sheets = {}
        for child in sorted(path.iterdir()):
            match = _CSV_NAME.match(child.name)
            if match and child.is_file():
                sheets[match["sheet"].lower()] = str(child)
        if not sheets:
            raise AssessError(f"{path}: no RVTools_tab*.csv files in this folder; pass an RVTools "
                              "xlsx export or the folder written by 'export all to CSV'")
        export = Export(path, "csv", sheets)
    elif path.is_file():
        if path.suffix.lower() == ".csv":
            raise AssessError(f"{path}: pass the folder holding the RVTools_tab*.csv files "
                              "(or the xlsx export), not a single CSV file")
        export = _open_xlsx(path, limits)
    else:
        raise AssessError(f"{path}: no such file or folder")
    if not export.has("vInfo"):
        export.close()
        known = ({s.lower() for s in SHEETS} | KNOWN_UNUSED) & set(export.sheets)
        if not known:
            raise AssessError(f"{path}: not an RVTools export (no vInfo sheet; found sheets: "
                              f"{', '.join(sorted(export.sheets)) or 'none'})")
        raise AssessError(f"{path}, sheet vInfo: missing; an RVTools export needs the vInfo "
                          "sheet (re-export with the vInfo tab)")
    return export


def _open_xlsx(path: Path, limits: XlsxLimits) -> Export:
    """The xlsx export at ``path``, its sheets screened ahead in read order; closed again on error."""
    bounds = XlsxBounds(path, limits)
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several unrelated types
        bounds.close()
        raise AssessError(f"{path}: cannot be read as an xlsx workbook ({exc}); is it a "
                          "complete RVTools export? Re-export or re-copy it") from exc
    sheets = {name.strip().lower(): name for name in workbook.sheet_names}
    bounds.screen_ahead(sheets[s.lower()] for s in SHEETS if s.lower() in sheets)  # in read order
    return Export(path, "xlsx", sheets, _workbook=workbook, _bounds=bounds)


def _nonblank(cell: object) -> bool:
    return not (cell is None or cell == "" or (isinstance(cell, float) and np.isnan(cell)))


def _w(path: Path, code: str, sheet: str, message: str, column: str = "", row: object = "") -> dict:
    where = f"{path}, sheet {sheet}" if sheet else f"{path}"
    return dict(source=str(path), code=code, table=sheet, row=str(row), column=column,
                message=f"{where}: {message}")
