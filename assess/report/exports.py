"""Spreadsheet exports of a run: per-VM results and per-wave lists as CSV and XLSX.

Architects work in spreadsheets: ``vms.csv``/``vms.xlsx`` hold one row per VM of the estate
(inventory, readiness, sizing, wave), ``waves.csv`` one row per VM of the wave plan in wave order,
``waves.xlsx`` the same list plus a sheet with one row per wave and one with the programme per
period (``programme_periods``: load, binding limit, clusters emptied, cost).

Text from the estate is data, never a formula: the workbooks are written with formula, URL
and number conversion off, and CSV cells starting with ``= + - @``, tab or carriage return get
a leading apostrophe (OWASP CSV-injection guidance), so a VM named ``=HYPERLINK(...)`` stays a
name in Excel and LibreOffice.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from assess.model import Estate
from assess.model.results import StageResult, result_table
from assess.report.tables import vm_results, wave_summary, wave_vms

#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


def neutral_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that a spreadsheet would run as a formula made inert.

    Such a cell gets a leading apostrophe (``=1+2`` becomes ``'=1+2``): spreadsheets show the
    text and do not evaluate it. Numbers stay numbers (a negative number is not text).
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
            # non-text cells of an object column give NA here, and stay as they are
            starts = out[col].str.startswith(FORMULA_STARTS)
            risky = starts.to_numpy(dtype=object, na_value=False).astype(bool)
            if risky.any():
                values = out[col].astype(object)
                values[risky] = "'" + values[risky].astype(str)
                out[col] = values
    return out


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` neutralised, with CRLF line ends (RFC 4180), so a CR inside a name is quoted.

    With LF line ends the CSV writer leaves a lone CR unquoted, and readers split the row there.
    """
    neutral_csv(frame).to_csv(path, index=False, lineterminator="\r\n")


def _write_xlsx(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """Write ``sheets`` with a bold frozen header row and autofilter; text cells stay text.

    Rows are streamed to xlsxwriter (constant memory) from whole-column conversions: pandas'
    ``to_excel`` formats cell by cell and takes most of the report time at 100,000 VMs.
    """
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "default_date_format": "yyyy-mm-dd hh:mm:ss",
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
    })
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
    _write_csv(out / "vms.csv", vms)
    _write_xlsx(out / "vms.xlsx", {"vms": vms})
    written += ["vms.csv", "vms.xlsx"]
    per_vm = wave_vms(estate, results)
    if not per_vm.empty:
        _write_csv(out / "waves.csv", _spreadsheet_ready(per_vm))
        periods = result_table(results, "programme_periods")
        programme = {"programme": periods} if periods is not None and len(periods) else {}
        _write_xlsx(out / "waves.xlsx",
                    {"waves": wave_summary(estate, results), **programme, "vms by wave": per_vm})
        written += ["waves.csv", "waves.xlsx"]
    if changes is not None:
        from assess.report.changes import KIND_WORDS

        frame = changes.assign(change=changes["change"].map(lambda k: KIND_WORDS.get(k, k)))
        _write_csv(out / "changes.csv", frame[["change", "name", "detail", "vm_id"]])
        written.append("changes.csv")
    return written
