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


def _write_xlsx(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        for name, frame in sheets.items():
            frame = _spreadsheet_ready(frame)
            frame.to_excel(writer, sheet_name=name, index=False, freeze_panes=(1, 0))
            if len(frame.columns):
                writer.sheets[name].autofilter(0, 0, len(frame), len(frame.columns) - 1)


def write_exports(estate: Estate, results: dict[str, StageResult], out: Path) -> list[str]:
    """Write ``vms.csv``, ``vms.xlsx`` and (when waves were planned) ``waves.csv``, ``waves.xlsx``.

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
    return written
