"""``assess collect vcenter``: collect inventory, tags and utilization from a live vCenter."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assess.cli.common import JsonFlag, app, count_text, emit, err_console, say
from assess.model.errors import AssessError
from assess.model.estate import merge_into_folder

collect_app = typer.Typer(help="Collect from live sources into an estate folder.", no_args_is_help=True)
app.add_typer(collect_app, name="collect")


@collect_app.command("vcenter")
def collect_vcenter_cmd(
    out: Annotated[Path, typer.Option("--out", help="Estate folder; created, or added to when it exists.")],
    server: Annotated[str | None, typer.Option(help="vCenter host[:port] (env VSPHERE_SERVER).")] = None,
    user: Annotated[str | None, typer.Option(help="User name (env VSPHERE_USER).")] = None,
    password_file: Annotated[
        Path | None,
        typer.Option(help="File whose first line is the password (else env VSPHERE_PASSWORD)."),
    ] = None,
    ca_file: Annotated[Path | None, typer.Option(help="PEM file of the CA that signed the cert.")] = None,
    thumbprint: Annotated[
        str | None, typer.Option(help="Pin vCenter's certificate by SHA-256 (or SHA-1) thumbprint.")
    ] = None,
    insecure: Annotated[bool, typer.Option(help="Skip TLS verification (not recommended).")] = False,
    lookback_days: Annotated[float, typer.Option(help="Days of utilization history to read.")] = 30,
    connect_timeout: Annotated[
        float, typer.Option(help="Seconds to connect (TCP and TLS handshake) before giving up.")
    ] = 20.0,
    read_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for any answer of the server before giving up.")
    ] = 300.0,
    as_json: JsonFlag = False,
) -> None:
    """Collect a vCenter's inventory, tags and utilization history (read-only account suffices)."""
    from assess.collect.vcenter import collect_vcenter, target_from
    from assess.collect.vcenter.connection import SERVER_ENV, USER_ENV, insecure_notice

    server = server or os.environ.get(SERVER_ENV)
    user = user or os.environ.get(USER_ENV)
    if not server or not user:
        raise AssessError(f"name the vCenter and user: --server/--user or env {SERVER_ENV}/{USER_ENV}")
    if insecure and (ca_file or thumbprint):
        raise AssessError("--insecure cannot be combined with --ca-file or --thumbprint; pick one")
    target = target_from(server, user, password_file, ca_file, thumbprint, insecure,
                         connect_timeout_s=connect_timeout, read_timeout_s=read_timeout)
    if insecure:
        say(f"warning: {insecure_notice(target)}", stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, disable=as_json, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        added = collect_vcenter(target, lookback_days=lookback_days, progress=progress)
    merged = merge_into_folder(out, added)
    summary = {
        "estate": str(out),
        "server": target.address,
        "added": added.counts(),
        "counts": merged.counts(),
        "soap_calls": added.provenance[-1].get("soap_calls"),
        "warnings": added.warnings.to_dict("records"),
    }
    emit(summary, as_json, f"Collected {count_text(added.counts())} from {target.address} into {out}")
