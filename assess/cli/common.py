"""Shared pieces of the CLI: the app, consoles, ``--version``, metavars and the ``--json`` printer."""

from __future__ import annotations

import json
import typing
from typing import Annotated

import typer
import typer.core
from rich.console import Console

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


def emit(summary: dict, as_json: bool, text: str = "") -> None:
    """Print ``summary`` as JSON on stdout, or ``text`` (and warning count) for people.

    ``text`` is printed as is: no rich markup (estate names such as ``[red]x`` stay literal) and
    no hard wrapping, so piped output (cron mail, ``grep``) keeps one record per line.
    """
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    if text:
        console.print(text, highlight=False, markup=False, soft_wrap=True)
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
