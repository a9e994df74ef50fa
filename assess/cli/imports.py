"""``assess import rvtools|utilization|flows``: read source files into an estate folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assess.cli.common import JsonFlag, count_text, emit, import_app
from assess.model.estate import Estate, merge_into_folder

RvtoolsFiles = Annotated[
    list[Path], typer.Argument(help="RVTools exports: .xlsx files or 'export all to CSV' folders.")
]
UtilizationFiles = Annotated[
    list[Path], typer.Argument(help="Utilization files: CSV (plain or .gz) or Parquet.")
]
FlowFiles = Annotated[
    list[Path], typer.Argument(help="Flow files: Azure Migrate dependency exports or flow CSV.")
]
Out = Annotated[
    Path, typer.Option("--out", help="Estate folder; created, or added to when it exists.")
]


def _report(out: Path, added: Estate, merged: Estate, as_json: bool, extra: dict | None = None):
    summary = {
        "estate": str(out),
        "added": added.counts(),
        "counts": merged.counts(),
        "warnings": added.warnings.to_dict("records"),
        **(extra or {}),
    }
    emit(summary, as_json, f"Imported {count_text(added.counts())} into {out}")


@import_app.command("rvtools")
def import_rvtools(files: RvtoolsFiles, out: Out, as_json: JsonFlag = False) -> None:
    """Import RVTools exports (xlsx files or 'export all to CSV' folders)."""
    from assess.collect.rvtools import read_rvtools

    added = read_rvtools(files)
    _report(out, added, merge_into_folder(out, added), as_json)


@import_app.command("utilization")
def import_utilization(
    files: UtilizationFiles,
    out: Out,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="assess, per-vm-csv or long-csv; detected when omitted."),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help="CSV mapping file names (file,vm) for files without VM names."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Import utilization history for VMs already in the estate."""
    from assess.collect.utilization import read_utilization

    inventory = Estate.open_or_new(out)
    added = read_utilization(files, inventory, format=fmt, mapping=mapping)
    _report(out, added, merge_into_folder(out, added), as_json)


@import_app.command("flows")
def import_flows(
    files: FlowFiles,
    out: Out,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="azure-migrate or csv; detected when omitted."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Import network dependency flows and resolve their endpoints to VMs."""
    from assess.collect.flows import read_flows

    inventory = Estate.open_or_new(out)
    added = read_flows(files, inventory, format=fmt)
    merged = merge_into_folder(out, added)
    _report(out, added, merged, as_json, {"aggregated_flows": len(added["flows"])})
