"""``assess run`` and ``assess diff``: assess end to end; show what changed between runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from assess.cli.common import JsonFlag, app, emit, err_console, say
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
    allow_empty_inputs: Annotated[
        bool,
        typer.Option("--allow-empty-inputs",
                     help="Exit 0 even when a whole input file contributed nothing (else exit 2)."),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Run every stage and write index.html, tables/ and summary.json.

    An input file that contributed nothing (no VMs, no utilization samples, no flows) is named
    on stderr and the run exits 2 after writing the report, unless --allow-empty-inputs.
    """
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
    empty = empty_inputs(summary)
    for line in empty:
        say(line, stderr=True)
    if empty and not allow_empty_inputs:
        say("error: an input contributed nothing (see above); pass --allow-empty-inputs to accept it",
            stderr=True)
        raise typer.Exit(2)
    if summary.get("findings"):
        err_console.print(f"findings: {summary['findings']}")
        raise typer.Exit(1)


def empty_inputs(summary: dict) -> list[str]:
    """One line per input file that contributed nothing to the estate (empty when none).

    Inventory exports when the estate has no VM, a utilization file none of whose samples matched
    a VM, a flow file without records, and flow files of which not one record became a flow.
    """
    lines = []
    counts = summary.get("counts", {})
    for entry in summary.get("inputs", []):
        kind, path = entry.get("kind"), entry.get("path", entry.get("id"))
        if kind == "rvtools" and not counts.get("vms"):
            lines.append(f"{path}: contributed no VM")
        elif kind == "utilization" and entry.get("samples") == 0:
            lines.append(f"{path}: contributed 0 utilization samples (none matched a VM of the inventory)")
        elif kind == "flows" and entry.get("records") == 0:
            lines.append(f"{path}: contributed 0 flow records")
    flow_files = [e for e in summary.get("inputs", []) if e.get("kind") == "flows" and e.get("records")]
    if flow_files and not counts.get("flows"):
        names = ", ".join(str(e.get("path", e["id"])) for e in flow_files)
        lines.append(f"{names}: no record became a flow between known endpoints")
    return lines


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
