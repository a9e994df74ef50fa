"""``assess run``: assess a source end to end and write the run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assess.cli.common import JsonFlag, app, console, emit
from assess.pipeline import run


@app.command("run")
def run_command(
    source: Annotated[
        Path, typer.Argument(help="Estate folder, folder of source files, or an RVTools export.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Run folder; defaults to reports/<timestamp>.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run every stage on SOURCE and write index.html, tables/ and summary.json."""
    if as_json:
        summary = run(source, out)
    else:
        with console.status("assessing") as status:
            summary = run(source, out, progress=lambda stage: status.update(f"stage: {stage}"))
    emit(summary, as_json, f"Report: {summary['report']}")
