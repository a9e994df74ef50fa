"""``assess execute``: drive the plan's waves on a cluster (dry run unless --apply), or write GitOps files.

``assess execute RUN`` runs the waves; ``assess execute pause|resume|cancel RUN --wave N|--vm NAME``
controls them; ``assess execute cleanup RUN --wave N`` removes a failed wave's leftovers;
``assess execute rbac`` prints the ServiceAccounts and roles to create.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from assess.cli.common import JsonFlag, app, console, emit, err_console, plain
from assess.model import AssessError, FindingsError

ACTIONS = ("pause", "resume", "cancel", "cleanup", "rbac")


class _Display:
    """Live per-VM progress of the current wave (rich), fed by executor events."""

    def __init__(self, live):
        self.live, self.rows, self.wave = live, {}, None

    def __call__(self, event: dict) -> None:
        from rich.table import Table

        if event["event"] == "connecting":
            console.print(event["message"])
            return
        if event["event"] == "wave_started":
            self.wave, self.rows = event["wave"], {}
        elif event["event"] == "vm":
            self.rows[event["vm"]] = event
        elif event["event"] == "gate":
            console.print(
                f"wave {event['wave']}: {event['status']} ({len(event['succeeded'])} succeeded, "
                f"{len(event['failed'])} failed, {len(event['canceled'])} canceled)"
            )
        table = Table(title=f"wave {self.wave}" if self.wave is not None else "pre-flight")
        for col in ("VM", "outcome", "step", "progress", "VMI", "agent", "error"):
            table.add_column(col)
        active = sorted(self.rows.values(), key=lambda e: (e["outcome"] in ("succeeded",), e["vm"]))[:30]
        for e in active:
            table.add_row(
                plain(e["vm"]),
                plain(e["outcome"]),
                plain(e["step"]),
                f"{100 * e['progress']:.0f}%",
                plain(e["vmi"]),
                "yes" if e["agent"] else "",
                plain(e["error"][:60]),
            )
        self.live.update(table)


@app.command("execute")
def execute_command(
    target: Annotated[
        str, typer.Argument(help="Run folder, or an action: pause, resume, cancel, cleanup, rbac.")
    ],
    run_folder: Annotated[Path | None, typer.Argument(help="Run folder (after an action).")] = None,
    backend: Annotated[str | None, typer.Option("--backend", help="forklift, kubevirt or gitops.")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Write to the cluster (default: dry run).")] = False,
    dry_run: Annotated[str | None, typer.Option("--dry-run", help="server (dryRun=All) or client.")] = None,
    wave: Annotated[list[int] | None, typer.Option("--wave", help="Only this wave (repeatable).")] = None,
    vm: Annotated[str | None, typer.Option("--vm", help="VM to pause/resume/cancel.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the gitops backend or an offline preview.")
    ] = None,
    params_file: Annotated[
        Path | None, typer.Option("--params", help="ExecuteParams YAML (maps, names).")
    ] = None,
    kubeconfig: Annotated[str | None, typer.Option("--kubeconfig", help="kubeconfig file.")] = None,
    context: Annotated[str | None, typer.Option("--context", help="kubeconfig context.")] = None,
    failure_budget: Annotated[
        int | None, typer.Option("--failure-budget", help="Failed VMs a wave may have.")
    ] = None,
    max_concurrent: Annotated[
        int | None, typer.Option("--max-concurrent", help="VMs in flight (kubevirt).")
    ] = None,
    allow_critical: Annotated[
        list[str] | None,
        typer.Option("--allow-critical", help="Migrate this not_ready VM anyway (repeatable)."),
    ] = None,
    force_conflicts: Annotated[
        bool, typer.Option("--force-conflicts", help="Take over fields on apply.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Execute the waves of a run folder on the cluster, watch them, gate each wave on the last."""
    from assess.execute.params import load_params

    action = target if target in ACTIONS else None
    folder = run_folder if action else Path(target)
    params = load_params(
        params_file,
        backend=backend,
        apply=apply or None,
        dry_run=dry_run,
        kubeconfig=kubeconfig,
        context=context,
        failure_budget=failure_budget,
        max_concurrent=max_concurrent,
        allow_critical=allow_critical or None,
        force_conflicts=force_conflicts or None,
        waves=wave or None,
    )
    if action == "rbac":
        from assess.execute.rbac import executor_rbac, reader_rbac

        typer.echo(yaml.safe_dump_all([*executor_rbac(params), *reader_rbac()], sort_keys=False))
        return
    if folder is None:
        raise AssessError(f"`assess execute {action}` needs the run folder")
    if action == "cleanup":
        from assess.execute.control import cleanup

        if not wave or len(wave) != 1:
            raise AssessError("cleanup needs exactly one --wave N")
        summary = cleanup(folder, wave[0], params)
        emit(summary, as_json, f"cleaned wave {wave[0]}: deleted {len(summary['deleted'])} object(s)")
        return
    if action:
        from assess.execute.control import control

        summary = control(action, folder, params, wave=wave[0] if wave else None, vm=vm)
        emit(summary, as_json, f"{action}: {', '.join(summary['objects']) or 'recorded'}")
        return
    _run(folder, params, out, as_json)


def _run(folder: Path, params, out: Path | None, as_json: bool) -> None:
    """The waves on the cluster (live progress), the GitOps tree, or the offline preview."""
    if params.backend == "gitops":
        _gitops(folder, params, out, as_json)
        return
    from assess.execute.runner import execute, needs_no_cluster

    if needs_no_cluster(params):
        _offline(folder, params, out, as_json)
        return
    if as_json:
        summary = execute(folder, params)
    else:
        from rich.live import Live

        with Live(console=console, refresh_per_second=4, transient=False) as live:
            summary = execute(folder, params, on_event=_Display(live))
    emit(summary, as_json, _text(summary))
    if summary["status"] == "stopped":
        raise FindingsError(
            f"stopped: wave {summary['waves'][-1]['wave']} failed its gate; see {summary['events']}"
        )


def _text(summary: dict) -> str:
    if summary["status"] == "dry-run":
        counts: dict[str, int] = {}
        for c in summary["changes"]:
            counts[c["action"]] = counts.get(c["action"], 0) + 1
        lines = [f"{c['action']:10} {c['kind']}/{c['name']}" for c in summary["changes"]]
        return "\n".join(
            [*lines, f"dry run ({summary['mode']}): {counts}; nothing written. Add --apply to write."]
        )
    return f"{summary['status']}: {len(summary['waves'])} wave(s); events in {summary['events']}"


def _gitops(folder: Path, params, out: Path | None, as_json: bool) -> None:
    from assess.execute.gitops import write_tree
    from assess.execute.runner import plan_manifests

    if out is None:
        raise AssessError("the gitops backend needs --out DIR")
    _, _, _, manifests = plan_manifests(folder, params)
    written = write_tree(manifests, out, params.waves)
    emit({"out": str(out), "files": len(written)}, as_json, f"wrote {len(written)} file(s) under {out}")


def _offline(folder: Path, params, out: Path | None, as_json: bool) -> None:
    """``--dry-run client`` with no cluster configured: the objects, printed or written to --out."""
    from assess.execute.gitops import write_tree
    from assess.execute.runner import preview

    groups = preview(folder, params)
    objects = [o for group in groups.values() for o in group]
    if out is not None:
        written = write_tree(groups, out, sorted(params.waves or []) or None)
        emit({"out": str(out), "files": len(written), "objects": len(objects)}, as_json,
             f"no cluster configured: wrote {len(objects)} object(s) under {out}; nothing applied")
    elif as_json:
        emit({"status": "preview", "objects": objects}, True, "")
    else:
        typer.echo(yaml.safe_dump_all(objects, sort_keys=False), nl=False)
        err_console.print(
            f"no cluster configured: {len(objects)} object(s) previewed offline; nothing applied",
            style="dim",
            highlight=False,
        )
