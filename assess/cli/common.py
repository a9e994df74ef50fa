"""Shared pieces of the CLI: the app, consoles, ``--version``, metavars and the ``--json`` printer."""

from __future__ import annotations

import json
import re
import typing
from typing import Annotated

import typer
import typer.core
from rich.console import Console
from rich.text import Text

from assess import __version__


def _metavar(param: typer.core.TyperArgument | typer.core.TyperOption, ctx) -> str | None:
    """What ``--help`` shows after a parameter: nothing for an on/off flag, else ``PATH``, ``INTEGER``...

    Typer renders the Python annotation (``<bool>``, ``<list[Path]>``), which reads as code; the
    click convention (upper-case value kind, ``a|b`` for choices, ``...`` when repeatable) reads as
    usage. An explicit ``metavar=`` wins.
    """
    if getattr(param, "is_bool_flag", False):
        return None
    if param.metavar:
        return param.metavar
    desc = param.type_descriptor
    if desc.is_choice:
        label = "|".join(str(getattr(c, "value", c)) for c in desc.choices or ())
    elif desc.is_path:
        label = str(desc.path_type).upper()
    else:
        element = desc.annotation
        if desc.is_list:
            element = typing.get_args(element)[0] if typing.get_args(element) else str
        name = getattr(element, "__name__", str(element))
        label = _TYPE_WORDS.get(name, name.upper())
    return label + ("..." if param.nargs == -1 else "")


#: Value kinds as click names them in usage lines.
_TYPE_WORDS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER"}

# Typer's one hook for the type shown in help (rich and plain, options and arguments): click's style.
typer.core._TyperParameter.display_type = _metavar


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"assess {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="assess",
    help="Assess a VMware estate and plan its migration to Kubernetes with KubeVirt.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"show_default": True},
)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True,
                     help="Print the version of assess and exit."),
    ] = False,
) -> None:
    """Assess a VMware estate and plan its migration to Kubernetes with KubeVirt."""


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
        err_console.print(f"{count:,} warning(s) recorded; see the report or --json.", highlight=False)


#: What one row of a table is, where the table name alone does not say it.
ROW_WORDS = {"vms": "VMs", "nics": "NICs", "utilization": "utilization samples",
             "affinity_rules": "affinity rules"}


def count_text(counts: dict[str, int]) -> str:
    """``"300 VMs, 420,940 utilization samples"``: the tables that received rows (warnings aside)."""
    parts = [f"{n:,} {ROW_WORDS.get(t, t)}" for t, n in counts.items() if n and t != "warnings"]
    return ", ".join(parts) or "nothing"
