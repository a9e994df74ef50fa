"""``assess execute``: drive the plan's waves on a cluster, control them, or write GitOps files.

``assess execute plan RUN`` previews the waves (dry run); ``assess execute apply RUN`` runs them;
``assess execute pause|resume|cancel RUN --wave N|--vm NAME`` controls them;
``assess execute cleanup RUN --wave N`` removes a failed wave's leftovers;
``assess execute gitops RUN --out DIR`` writes the manifests as a kustomize tree;
``assess execute rbac`` prints the ServiceAccounts and roles to create.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from assess.cli.common import JsonFlag, app, console, emit, err_console, plain
from assess.model import AssessError, FindingsError

execute_app = typer.Typer(
    help="Execute a run's waves on the cluster (plan, apply), control them, or write GitOps files.",
    no_args_is_help=True,
)
app.add_typer(execute_app, name="execute")

RunArg = Annotated[Path, typer.Argument(help="Run folder written by `assess run`.")]
BackendOpt = Annotated[str | None, typer.Option("--backend", help="forklift or kubevirt.")]
ParamsOpt = Annotated[Path | None, typer.Option("--params", help="ExecuteParams YAML (maps, names).")]
KubeconfigOpt = Annotated[str | None, typer.Option("--kubeconfig", help="kubeconfig file.")]
ContextOpt = Annotated[str | None, typer.Option("--context", help="kubeconfig context.")]
WavesOpt = Annotated[list[int] | None, typer.Option("--wave", help="Only this wave (repeatable).")]
OneWaveOpt = Annotated[int | None, typer.Option("--wave", help="The wave to act on.")]
VmOpt = Annotated[str | None, typer.Option("--vm", help="The VM to act on (name or vm_id).")]
BudgetOpt = Annotated[int | None, typer.Option("--failure-budget", help="Failed VMs a wave may have.")]
ConcurrentOpt = Annotated[int | None, typer.Option("--max-concurrent", help="VMs in flight (kubevirt).")]
CriticalOpt = Annotated[
    list[str] | None, typer.Option("--allow-critical", help="Migrate this not_ready VM anyway (repeatable).")
]


def _params(params_file: Path | None, **overrides):
    from assess.execute.params import load_params

    params = load_params(params_file, **overrides)
    if params.backend == "gitops" and overrides.get("apply") is not None:
        raise AssessError("the gitops backend writes files: use `assess execute gitops RUN --out DIR`")
    return params


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


@execute_app.command("plan")
def plan_command(
    run_folder: RunArg,
    backend: BackendOpt = None,
    dry_run: Annotated[str | None, typer.Option("--dry-run", help="server (dryRun=All) or client.")] = None,
    wave: WavesOpt = None,
    params_file: ParamsOpt = None,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    allow_critical: CriticalOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Pre-flight the plan and show what each wave would change on the cluster; write nothing."""
    params = _params(params_file, backend=backend, apply=False, dry_run=dry_run, kubeconfig=kubeconfig,
                     context=context, waves=wave or None, allow_critical=allow_critical or None)
    _execute(run_folder, params, as_json)


@execute_app.command("apply")
def apply_command(
    run_folder: RunArg,
    backend: BackendOpt = None,
    wave: WavesOpt = None,
    params_file: ParamsOpt = None,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    failure_budget: BudgetOpt = None,
    max_concurrent: ConcurrentOpt = None,
    allow_critical: CriticalOpt = None,
    force_conflicts: Annotated[
        bool, typer.Option("--force-conflicts", help="Take over fields on apply.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Run the waves on the cluster in order, watch them, gate each wave on the last; resumable."""
    params = _params(params_file, backend=backend, apply=True, kubeconfig=kubeconfig, context=context,
                     failure_budget=failure_budget, max_concurrent=max_concurrent,
                     allow_critical=allow_critical or None, force_conflicts=force_conflicts or None,
                     waves=wave or None)
    _execute(run_folder, params, as_json)


def _execute(folder: Path, params, as_json: bool) -> None:
    from assess.execute.runner import execute, needs_no_cluster

    if needs_no_cluster(params):
        _offline(folder, params, as_json)
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


def _control_command(action: str, doc: str) -> None:
    """Register ``assess execute <action>`` for pause, resume and cancel (same options)."""

    def command(run_folder: RunArg, wave: OneWaveOpt = None, vm: VmOpt = None, backend: BackendOpt = None,
                params_file: ParamsOpt = None, kubeconfig: KubeconfigOpt = None,
                context: ContextOpt = None, as_json: JsonFlag = False) -> None:
        from assess.execute.control import control

        params = _params(params_file, backend=backend, kubeconfig=kubeconfig, context=context)
        summary = control(action, run_folder, params, wave=wave, vm=vm)
        emit(summary, as_json, f"{action}: {', '.join(summary['objects']) or 'recorded'}")

    command.__doc__ = doc
    execute_app.command(action)(command)


_control_command("pause", "Pause a wave before it starts (or a KubeVirt VM): the executor stops there "
                          "until resumed.")
_control_command("resume", "Resume a paused wave or VM.")
_control_command("cancel", "Cancel a wave's or a VM's migration.")


@execute_app.command("cleanup")
def cleanup_command(
    run_folder: RunArg,
    wave: Annotated[int, typer.Option("--wave", help="The failed wave to clean up.")],
    backend: BackendOpt = None,
    params_file: ParamsOpt = None,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Delete a failed wave's leftovers (its Plans/Migrations, its failed VMs' objects)."""
    from assess.execute.control import cleanup

    params = _params(params_file, backend=backend, kubeconfig=kubeconfig, context=context)
    summary = cleanup(run_folder, wave, params)
    emit(summary, as_json, f"cleaned wave {wave}: deleted {len(summary['deleted'])} object(s)")


@execute_app.command("rbac")
def rbac_command(backend: BackendOpt = None, params_file: ParamsOpt = None) -> None:
    """Print the least-privilege ServiceAccounts and roles for the executor and assessment jobs."""
    from assess.execute.rbac import executor_rbac, reader_rbac

    params = _params(params_file, backend=backend)
    typer.echo(yaml.safe_dump_all([*executor_rbac(params), *reader_rbac()], sort_keys=False))


@execute_app.command("gitops")
def gitops_command(
    run_folder: RunArg,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the kustomize tree into.")],
    wave: Annotated[
        list[int] | None, typer.Option("--wave", help="Release the waves up to this one into the root.")
    ] = None,
    params_file: ParamsOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the waves' manifests as a kustomize tree (one kustomization per wave) for GitOps."""
    from assess.execute.gitops import write_tree
    from assess.execute.runner import plan_manifests

    params = _params(params_file, backend="gitops", waves=wave or None)
    _, _, _, manifests = plan_manifests(run_folder, params)
    written = write_tree(manifests, out, params.waves)
    emit({"out": str(out), "files": len(written)}, as_json, f"wrote {len(written)} file(s) under {out}")


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


def _offline(folder: Path, params, as_json: bool) -> None:
    """A client-side dry run with no cluster configured: the objects, printed (nothing applied)."""
    from assess.execute.runner import preview

    objects = [o for group in preview(folder, params).values() for o in group]
    if as_json:
        emit({"status": "preview", "objects": objects}, True, "")
        return
    typer.echo(yaml.safe_dump_all(objects, sort_keys=False), nl=False)
    err_console.print(
        f"no cluster configured: {len(objects)} object(s) previewed offline; nothing applied",
        style="dim",
        highlight=False,
    )
