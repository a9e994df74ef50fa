"""``assess run`` and ``assess diff``: assess end to end; show what changed between runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from assess.cli.common import JsonFlag, app, emit, err_console
from assess.model import AssessError


@app.command("run")
def run_command(
    source: Annotated[
        Path | None,
        typer.Argument(help="Estate folder, folder of source files, or an RVTools export."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Assessment config file (sources, parameters, output, history)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Run folder; defaults to reports/<timestamp>.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run every stage and write index.html, tables/ and summary.json."""
    from assess.config import load_config
    from assess.pipeline import run, run_config
    from assess.stages import stages

    if (source is None) == (config is None):
        raise AssessError("give either SOURCE or --config, not both or neither")
    if config is not None and out is not None:
        raise AssessError("--out does not go with --config: set output.folder in the config file")
    cfg = load_config(config) if config else None
    if as_json:
        summary = run_config(cfg) if cfg else run(source, out)
    else:
        steps = ["import", *stages(), "report"]
        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task("assess run", total=len(steps))

            def progress(stage: str) -> None:
                bar.update(task, completed=steps.index(stage), description=f"stage: {stage}")

            summary = run_config(cfg, progress) if cfg else run(source, out, progress)
    emit(summary, as_json, f"Report: {summary['report']}")
    if summary.get("findings"):
        err_console.print(f"findings: {summary['findings']}")
        raise typer.Exit(1)


@app.command("diff")
def diff_command(
    history: Annotated[Path, typer.Option("--history", help="History store written by runs with --config.")],
    before: Annotated[
        str | None, typer.Argument(help="Earlier run id; default: the one before AFTER.")
    ] = None,
    after: Annotated[str | None, typer.Argument(help="Later run id; default: the latest run.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show what changed between two recorded runs (VMs, sizes, readiness, waves, dependencies)."""
    from assess.history.snapshot import diff_snapshots
    from assess.history.store import RunStore

    if not history.is_file():
        raise AssessError(f"{history}: no history store there (runs with --config write one)")
    store = RunStore(history)
    runs = store.runs()["run_id"].tolist()
    after = after or (runs[-1] if runs else None)
    if after is None:
        raise AssessError(f"{history}: no runs recorded yet")
    before = before or store.previous_run(after)
    if before is None:
        raise AssessError(f"{history}: run '{after}' is the first; nothing to compare with")
    changes = diff_snapshots(store.snapshot(before), store.snapshot(after))
    lines = [f"{c.change:20} {c.name or '':30} {c.detail}" for c in changes.fillna("").itertuples()]
    text = f"{before} -> {after}: {len(changes)} change(s)\n" + "\n".join(lines)
    emit({"before": before, "after": after, "changes": changes.to_dict("records")}, as_json, text)
