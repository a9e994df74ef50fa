"""Shared pieces of the CLI: the app, consoles, and the ``--json`` summary printer."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="assess",
    help="Assess a VMware estate and plan its migration to Kubernetes with KubeVirt.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Import source files into an estate folder.", no_args_is_help=True)
app.add_typer(import_app, name="import")

console = Console()
err_console = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")]


def emit(summary: dict, as_json: bool, text: str = "") -> None:
    """Print ``summary`` as JSON on stdout, or ``text`` (and warning count) for people."""
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    if text:
        console.print(text, highlight=False)
    warnings = summary.get("warnings")
    count = warnings if isinstance(warnings, int) else len(warnings or [])
    if count:
        err_console.print(f"{count} warning(s) recorded; see the report or --json.")
