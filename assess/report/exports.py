"""Spreadsheet exports of a run: per-VM results and per-wave lists as CSV and XLSX.

Architects work in spreadsheets: ``vms.csv``/``vms.xlsx`` hold one row per VM of the estate
(inventory, readiness, sizing, wave), ``waves.csv`` one row per VM of the wave plan in wave order,
``waves.xlsx`` the same list plus a sheet with one row per wave.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from assess.model import Estate
from assess.model.results import StageResult
from assess.report.tables import vm_results, wave_summary, wave_vms


def _spreadsheet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Time zones dropped from datetimes (Excel has none; values stay UTC)."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def _cells(column: pd.Series) -> list:
    """A column as Python values for xlsxwriter: missing values None (an empty cell)."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return [None if pd.isna(v) else v.to_pydatetime() for v in column]
    values = column.astype(object)
    return values.where(column.notna(), None).tolist()


def _write_xlsx(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """Write ``sheets`` with a bold frozen header row and autofilter.

    Rows are streamed to xlsxwriter (constant memory) from whole-column conversions: pandas'
    ``to_excel`` formats cell by cell and takes most of the report time at 100,000 VMs.
    """
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                               "default_date_format": "yyyy-mm-dd hh:mm:ss"})
    bold = workbook.add_format({"bold": True})
    for name, frame in sheets.items():
        frame = _spreadsheet_ready(frame)
        sheet = workbook.add_worksheet(name)
        sheet.freeze_panes(1, 0)
        if len(frame.columns):
            sheet.autofilter(0, 0, len(frame), len(frame.columns) - 1)
        sheet.write_row(0, 0, [str(c) for c in frame.columns], bold)
        for r, row in enumerate(zip(*(_cells(frame[c]) for c in frame.columns)), start=1):
            sheet.write_row(r, 0, row)
    workbook.close()


def write_exports(estate: Estate, results: dict[str, StageResult], out: Path,
                  changes: pd.DataFrame | None = None) -> list[str]:
    """Write ``vms.csv``, ``vms.xlsx`` and (when waves were planned) ``waves.csv``, ``waves.xlsx``.

    With ``changes`` (the diff against the previous run), also ``changes.csv``: every change,
    its kind in words and the VM by name (the report shows only the most important ones).

    Returns the file names written, relative to ``out``, for ``summary.json``.
    """
    out = Path(out)
    written = []
    vms = vm_results(estate, results)
    vms.to_csv(out / "vms.csv", index=False)
    _write_xlsx(out / "vms.xlsx", {"vms": vms})
    written += ["vms.csv", "vms.xlsx"]
    per_vm = wave_vms(estate, results)
    if not per_vm.empty:
        _spreadsheet_ready(per_vm).to_csv(out / "waves.csv", index=False)
        _write_xlsx(out / "waves.xlsx", {"waves": wave_summary(estate, results), "vms by wave": per_vm})
        written += ["waves.csv", "waves.xlsx"]
    if changes is not None:
        from assess.report.changes import KIND_WORDS

        frame = changes.assign(change=changes["change"].map(lambda k: KIND_WORDS.get(k, k)))
        frame[["change", "name", "detail", "vm_id"]].to_csv(out / "changes.csv", index=False)
        written.append("changes.csv")
    return written
