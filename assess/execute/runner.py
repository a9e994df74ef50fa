"""The wave loop: pre-flight, apply, watch, post-check, gate, and resume after a crash.

:func:`execute` is what ``assess execute`` calls. It reads the plan from a run folder, checks
the cluster, then for each wave in order applies its objects (server-side apply), follows the
controllers through watch streams, and starts the next wave only when this one passed its gate.
State lives in the cluster (objects, labels, status) and in :class:`ExecutionStore`; a re-run
never creates a second Plan/Migration for a started wave and never re-migrates a succeeded VM.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from assess.execute import forklift
from assess.execute.apply import apply_object, get_object, list_objects, preview_object
from assess.execute.cluster import Cluster, cluster_configured
from assess.execute.manifests import build_manifests, migration_table, storage_classes
from assess.execute.objects import PLAN_LABEL, VM_LABEL, WAVE_LABEL
from assess.execute.params import ExecuteParams
from assess.execute.preflight import preflight
from assess.execute.state import ExecutionStore
from assess.execute.tracking import (
    FINAL,
    VmTrack,
    update_from_datavolume,
    update_from_forklift,
    update_from_vmi,
)
from assess.execute.watch import Watcher
from assess.model import AssessError, Estate
from assess.run import Run

ESTATE_TABLES = ("vms", "disks", "nics")
PLAN_TABLES = [*ESTATE_TABLES, "readiness", "sizing", "wave_plan", "waves"]
OPTIONAL_TABLES = ["pvcs"]  # sizing's PVC plan: storage class and volume mode per disk
CANCELED_LABEL = "assess.io/canceled"
TOOLS_RUNNING = {"toolsOk", "toolsOld"}

EventSink = Callable[[dict], None]


def load_plan(run_folder: Path) -> tuple[Estate, dict[str, pd.DataFrame]]:
    """The estate tables and plan tables of a complete run folder (read through :class:`Run`).

    ``pvcs`` (sizing's PVC plan) is None for a run that has none.
    """
    try:
        run = Run.load(run_folder, tables=[*PLAN_TABLES, *OPTIONAL_TABLES])
    except AssessError as exc:  # an older run without the PVC plan: sizing's defaults apply
        if not any(name in str(exc) for name in OPTIONAL_TABLES):
            raise
        run = Run.load(run_folder, tables=PLAN_TABLES)
    plan = {name: run.table(name) for name in PLAN_TABLES if name not in ESTATE_TABLES}
    plan |= {name: run.table(name) if run.has_table(name) else None for name in OPTIONAL_TABLES}
    return run.estate, plan


def plan_table(estate: Estate, plan: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The migration table plus what the post-checks need (power state, VMware Tools status)."""
    table = migration_table(estate, plan["readiness"], plan["sizing"], plan["wave_plan"], plan["waves"])
    extra = estate["vms"][["vm_id", "power_state", "tools_status"]]
    return table.merge(extra, on="vm_id", how="left")


def manifest_morefs(objects: list[dict]) -> set[str]:
    """Source VM morefs the objects of one wave migrate (Plan ``spec.vms[].id`` or VM labels)."""
    out = set()
    for obj in objects:
        if obj["kind"] == "Plan":
            out |= {vm["id"] for vm in obj["spec"]["vms"]}
        elif obj["kind"] == "VirtualMachine":
            out.add(obj["metadata"]["labels"][VM_LABEL])
    return out


def tracks_for(table: pd.DataFrame, wave: int, params: ExecuteParams, morefs: set[str]) -> dict[str, VmTrack]:
    """A :class:`VmTrack` per VM of ``wave`` that its manifests migrate, keyed by moref."""
    rows = table[(table["wave"] == wave) & table["moref"].isin(morefs)]
    return {
        r.moref: VmTrack(
            vm_id=r.vm_id,
            name=r.name,
            moref=r.moref,
            target_name=r.target_name,
            wave=wave,
            expects_running=r.power_state != "poweredOff",
            expects_agent=params.require_agent and r.tools_status in TOOLS_RUNNING,
        )
        for r in rows.itertuples()
    }


class _Run:
    """One invocation of the executor: the cluster, the store, and where events go."""

    def __init__(
        self, cluster: Cluster, store: ExecutionStore, params: ExecuteParams, sink: EventSink | None
    ):
        self.cluster, self.store, self.params, self.sink = cluster, store, params, sink

    def event(self, what: str, **fields) -> None:
        record = self.store.log(what, **fields)
        if self.sink:
            self.sink(record)

    def selector(self, wave: int) -> str:
        return f"{PLAN_LABEL}={self.params.plan_id},{WAVE_LABEL}={wave}"

    # -- one wave ---------------------------------------------------------------------------
    def run_wave(self, wave: int, objects: list[dict], tracks: dict[str, VmTrack]) -> dict:
        events: queue.Queue = queue.Queue()
        watchers = self._watchers(wave, events)
        by_target = {t.target_name: t for t in tracks.values()}
        pending: list[dict] = []
        if self.params.backend == "kubevirt":
            existing = {
                o["metadata"]["name"]
                for o in list_objects(
                    self.cluster, "VirtualMachine", self.params.target_namespace, self.selector(wave)
                ).get("items", [])
            }
            for obj in objects:
                track = by_target[obj["metadata"]["name"]]
                track.started = obj["metadata"]["name"] in existing
                if not track.started:
                    pending.append(obj)
        else:
            self._start_forklift_wave(wave, objects)
        for w in watchers:
            w.start()
        deadline = time.monotonic() + self.params.wave_timeout_s if self.params.wave_timeout_s else None
        try:
            while True:
                self._fill_window(pending, by_target)
                if all(t.outcome in FINAL for t in tracks.values()):
                    break
                timeout = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
                if deadline is not None and time.monotonic() >= deadline:
                    self._time_out(tracks)
                    break
                try:
                    kind, kind_event, obj = events.get(timeout=timeout)
                except queue.Empty:
                    continue
                for track in self._apply_event(kind, kind_event, obj, tracks, by_target):
                    self.event(
                        "vm",
                        wave=wave,
                        vm=track.name,
                        target=track.target_name,
                        outcome=track.outcome,
                        step=track.step,
                        progress=round(track.progress, 3),
                        vmi=track.vmi_phase,
                        agent=track.agent,
                        error=track.error,
                    )
        finally:
            for w in watchers:
                w.stop()
        streams = {w.kind: {"relists": w.relists, "reconnects": w.reconnects} for w in watchers}
        self.event("watches", wave=wave, streams=streams)
        return self._gate(wave, tracks)

    def _time_out(self, tracks: dict[str, VmTrack]) -> None:
        for t in tracks.values():
            if t.outcome not in FINAL:
                where = t.step or "waiting"
                t.error = t.error or f"timed out after {self.params.wave_timeout_s:g} s in {where}"
                t.transfer = "failed"

    def _watchers(self, wave: int, events: queue.Queue) -> list[Watcher]:
        p = self.params
        if p.backend == "kubevirt":
            return [
                Watcher(self.cluster, "VirtualMachine", p.target_namespace, self.selector(wave), events),
                Watcher(self.cluster, "DataVolume", p.target_namespace, None, events),
                Watcher(
                    self.cluster, "VirtualMachineInstance", p.target_namespace, self.selector(wave), events
                ),
            ]
        return [
            Watcher(self.cluster, "Migration", p.forklift_namespace, self.selector(wave), events),
            Watcher(self.cluster, "VirtualMachineInstance", p.target_namespace, None, events),
        ]

    def _start_forklift_wave(self, wave: int, objects: list[dict]) -> None:
        """Apply each Plan and its Migration, unless that Migration exists (the wave already started)."""
        plans = [o for o in objects if o["kind"] == "Plan"]
        migrations = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Migration"}
        for plan in plans:
            name = plan["metadata"]["name"]
            if get_object(self.cluster, "Migration", self.params.forklift_namespace, name) is not None:
                self.event("resumed", wave=wave, kind="Migration", name=name)
                continue
            for obj in (plan, migrations[name]):
                change = apply_object(self.cluster, obj)
                self.event("applied", wave=wave, **change.as_dict())

    def _fill_window(self, pending: list[dict], by_target: dict[str, VmTrack]) -> None:
        """KubeVirt: apply queued VMs while fewer than ``max_concurrent`` are in flight."""
        in_flight = sum(1 for t in by_target.values() if t.started and t.outcome not in FINAL)
        while pending and in_flight < self.params.max_concurrent:
            obj = pending.pop(0)
            change = apply_object(self.cluster, obj)
            by_target[obj["metadata"]["name"]].started = True
            self.event("applied", wave=by_target[obj["metadata"]["name"]].wave, **change.as_dict())
            in_flight += 1

    def _apply_event(self, kind: str, kind_event: str, obj, tracks, by_target) -> list[VmTrack]:
        if kind_event == "FAILED":
            raise AssessError(f"lost the watch on {kind}: {obj}")
        deleted = kind_event == "DELETED"
        if kind == "Migration":
            return update_from_forklift(tracks, obj)
        if kind == "DataVolume":
            track = update_from_datavolume(by_target, obj, deleted)
        elif kind == "VirtualMachineInstance":
            track = update_from_vmi(by_target, obj, deleted)
        else:  # VirtualMachine: a cancel marks it
            track = by_target.get(obj["metadata"]["name"])
            labels = obj["metadata"].get("labels") or {}
            if track is not None and labels.get(CANCELED_LABEL) == "true" and track.transfer not in FINAL:
                track.transfer = "canceled"
            elif track is not None:
                track.started = True
        return [track] if track is not None else []

    def _gate(self, wave: int, tracks: dict[str, VmTrack]) -> dict:
        outcomes = {k: [t.name for t in tracks.values() if t.outcome == k] for k in FINAL}
        failed = outcomes["failed"]
        status = (
            "succeeded"
            if not failed
            else ("passed_with_failures" if len(failed) <= self.params.failure_budget else "failed")
        )
        record = {
            "wave": wave,
            "status": status,
            **outcomes,
            "errors": {t.name: t.error for t in tracks.values() if t.outcome == "failed"},
        }
        self.store.set_wave(wave, **record)
        self.event("gate", **record, budget=self.params.failure_budget)
        return record


def selected_waves(manifests: dict[str, list[dict]], params: ExecuteParams) -> list[int]:
    """The waves to run, in order: all with manifests, or those ``params.waves`` names."""
    have = sorted(int(k.split("-")[1]) for k in manifests if k.startswith("wave-"))
    if params.waves is None:
        return have
    unknown = sorted(set(params.waves) - set(have))
    if unknown:
        raise AssessError(f"wave(s) {unknown} are not in the plan (it has {have})")
    return [w for w in have if w in set(params.waves)]


def _dry_run(run: _Run, manifests: dict[str, list[dict]], waves: list[int]) -> list[dict]:
    groups = ["shared", *[f"wave-{w:02d}" for w in waves]]
    changes = []
    server = run.params.dry_run == "server"
    for group in groups:
        for obj in manifests[group]:
            if server:
                try:
                    change = apply_object(run.cluster, obj, dry_run=True)
                except AssessError as exc:
                    if "dryRun" not in str(exc) and "dry run" not in str(exc).lower():
                        raise
                    server = False  # the server refuses dry runs: preview locally from here on
                    change = preview_object(run.cluster, obj)
            else:
                change = preview_object(run.cluster, obj)
            changes.append({"group": group, **change.as_dict()})
            run.event("dry_run", group=group, **change.as_dict())
    return changes


def plan_manifests(run_folder: Path, params: ExecuteParams):
    """The estate, the plan tables, the migration table and the manifests of a run folder."""
    estate, plan = load_plan(run_folder)
    table = plan_table(estate, plan)
    return estate, plan, table, build_manifests(estate, table, params, plan.get("pvcs"))


def preview(run_folder: Path, params: ExecuteParams) -> dict[str, list[dict]]:
    """The objects of the selected waves (and the shared ones), built offline: no cluster needed."""
    _, _, _, manifests = plan_manifests(run_folder, params)
    return {
        g: manifests[g] for g in ["shared", *(f"wave-{w:02d}" for w in selected_waves(manifests, params))]
    }


def needs_no_cluster(params: ExecuteParams) -> bool:
    """A client-side dry run with no cluster configured: preview offline instead of diffing."""
    return not params.apply and params.dry_run == "client" and not cluster_configured(params)


def execute(
    run_folder: Path,
    params: ExecuteParams | None = None,
    on_event: EventSink | None = None,
    cluster: Cluster | None = None,
) -> dict:
    """Execute the plan in ``run_folder`` against the cluster; return the summary.

    Dry run unless ``params.apply``. Raises AssessError when pre-flight finds problems (all of
    them listed) or the cluster refuses a write. ``summary["status"]`` is ``completed``,
    ``stopped`` (a wave failed its gate), ``paused`` or ``dry-run``.
    """
    params = params or ExecuteParams()
    if params.backend == "gitops":
        raise AssessError(
            "the gitops backend writes files: use `assess execute gitops RUN --out DIR`"
        )
    estate, plan, table, manifests = plan_manifests(run_folder, params)
    waves = selected_waves(manifests, params)
    cluster = cluster or Cluster(params)
    store = ExecutionStore(Path(run_folder), params.plan_id, params.backend)
    run = _Run(cluster, store, params, on_event)
    version = cluster.first_contact(lambda line: run.event("connecting", message=line))
    in_scope = table[table["wave"].isin(waves)]
    groups = {g: manifests[g] for g in ["shared", *(f"wave-{w:02d}" for w in waves)]}
    problems = preflight(cluster, params, in_scope, plan["sizing"], storage_classes(groups))
    run.event("preflight", problems=problems, waves=waves, cluster=cluster.host, version=version)
    if problems:
        raise AssessError("pre-flight found problems; nothing was written:\n  - " + "\n  - ".join(problems))
    summary = {
        "plan_id": params.plan_id,
        "backend": params.backend,
        "cluster": cluster.host,
        "waves": [],
        "not_planned": int(table["wave"].isna().sum()),
        "events": str(store.log_path),
    }
    if not params.apply:
        changes = _dry_run(run, manifests, waves)
        summary |= {
            "status": "dry-run",
            "mode": params.dry_run,
            "changes": changes,
            "requests": cluster.requests,
        }
        return summary
    for obj in manifests["shared"]:
        run.event("applied", group="shared", **apply_object(cluster, obj).as_dict())
    status = _run_waves(run, manifests, table, waves, summary["waves"])
    summary |= {"status": status, "requests": cluster.requests}
    run.event("finished", status=status, requests=cluster.requests)
    return summary


def _run_waves(run: _Run, manifests: dict, table: pd.DataFrame, waves: list[int], results: list) -> str:
    """Run ``waves`` in order, each after the last passed its gate; append each wave's record.

    Returns ``completed``, ``paused`` (a paused wave was reached) or ``stopped`` (a gate failed).
    """
    store = run.store
    for wave in waves:
        record = store.wave(wave)
        if record.get("status") in ("succeeded", "passed_with_failures"):
            run.event("skipped", wave=wave, reason=f"wave already {record['status']}")
            results.append(dict(record))
            continue
        if store.is_marked("paused", "waves", str(wave)):
            run.event("paused", wave=wave)
            return "paused"
        store.set_wave(wave, status="started")
        run.event("wave_started", wave=wave, vms=int((table["wave"] == wave).sum()))
        try:
            objects = manifests[f"wave-{wave:02d}"]
            tracks = tracks_for(table, wave, run.params, manifest_morefs(objects))
            result = run.run_wave(wave, objects, tracks)
        except KeyboardInterrupt:
            run.event("interrupted", wave=wave)
            raise AssessError(f"interrupted in wave {wave}; re-run the same command to continue") from None
        results.append(result)
        if result["status"] == "failed":
            return "stopped"
    return "completed"


def wave_plan_names(params: ExecuteParams, table: pd.DataFrame, wave: int) -> list[str]:
    """Names of the Plans (and Migrations) of one wave, one per migration type present."""
    methods = sorted(set(table.loc[table["wave"] == wave, "method"]) & {"cold", "warm"})
    return [forklift.plan_name(params, wave, m) for m in methods]
