"""Variants of the real RVTools 4.7 export, built in the tests: sheets read once, edited, rewritten."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import python_calamine
import xlsxwriter

REAL_47 = "data/rvtools/rvtools-4.7.1.4-133vms.xlsx"
#: The sheets the import reads (the others do not change what it finds).
SHEETS = ("vInfo", "vCPU", "vMemory", "vDisk", "vPartition", "vNetwork", "vTools", "vSnapshot",
          "vUSB", "vCD", "vHost", "vCluster", "vDatastore", "vSource", "vMetaData")


@cache
def _read(path: str) -> dict[str, tuple[tuple, ...]]:
    workbook = python_calamine.CalamineWorkbook.from_path(path)
    return {name: tuple(tuple(row) for row in workbook.get_sheet_by_name(name).to_python())
            for name in SHEETS if name in workbook.sheet_names}


def real_sheets(shared: Path) -> dict[str, list[list]]:
    """The real 4.7 export's sheets as lists of rows (header first); a fresh copy per call."""
    return {name: [list(row) for row in rows] for name, rows in _read(str(shared / REAL_47)).items()}


def column(rows: list[list], header: str) -> int:
    """Position of ``header`` in a sheet's header row."""
    return rows[0].index(header)


def drop_column(rows: list[list], header: str) -> list[list]:
    """The sheet without the column ``header`` (unchanged when there is none)."""
    if header not in rows[0]:
        return rows
    i = column(rows, header)
    return [row[:i] + row[i + 1:] for row in rows]


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """Write ``sheets`` as an xlsx workbook the way Excel would hold them (values, no styles)."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                              "default_date_format": "yyyy-mm-dd hh:mm:ss"})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            sheet.write_row(r, 0, ["" if v is None else v for v in row])
    workbook.close()
    return path
