"""Shared pieces of the CLI: the app, consoles, and the ``--json`` summary printer."""

from __future__ import annotations

import json
import re
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

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


#: Characters never printed raw: C0/C1 controls but newline (terminal escape sequences start
#: with ESC or CSI) and the bidirectional overrides and isolates that reorder what is shown.
_UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` without control characters (bar newlines) or bidi overrides: safe for a terminal.

    Names from an estate may hold escape sequences that would recolour, retitle or clear the
    terminal, or right-to-left overrides that show a name other than the one it is.
    """
    return _UNPRINTABLE.sub("", text)


def plain(text: object, style: str = "") -> Text:
    """``text`` as a Rich ``Text`` shown literally (a name like ``[/bold]`` is no markup); None is empty."""
    return Text("" if text is None else printable(str(text)), style=style)


def say(text: str, *, stderr: bool = False, style: str = "") -> None:
    """Print ``text`` literally (no Rich markup, no highlighting), stripped by :func:`printable`."""
    (err_console if stderr else console).print(plain(text, style), highlight=False, soft_wrap=True)


def emit(summary: dict, as_json: bool, text: str = "") -> None:
    """Print ``summary`` as JSON on stdout, or ``text`` (and warning count) for people.

    JSON escapes control characters itself; ``text`` goes through :func:`say`.
    """
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    if text:
        say(text)
    warnings = summary.get("warnings")
    count = warnings if isinstance(warnings, int) else len(warnings or [])
    if count:
        err_console.print(f"{count} warning(s) recorded; see the report or --json.")
