"""Operator controls for a running or stopped execution: pause, resume, cancel, clean up.

Forklift: a VM or wave is cancelled through the Migration's ``spec.cancel`` list (Forklift
stops those VMs and marks them Canceled); a wave that has not started can be paused (the
executor will not start it). KubeVirt: pause and resume set the VM's ``runStrategy``; cancel
halts the VM and labels it ``assess.io/canceled=true`` so the executor counts it as cancelled.
Cleanup deletes what a failed wave left behind, never a VM that succeeded.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from assess.execute.apply import delete_object, get_object, json_patch, patch_fields
from assess.execute.cluster import Cluster
from assess.execute.params import ExecuteParams
from assess.execute.runner import CANCELED_LABEL, load_plan, plan_table, wave_plan_names
from assess.execute.state import ExecutionStore
from assess.model import AssessError


def _targets(table: pd.DataFrame, wave: int | None, vm: str | None) -> pd.DataFrame:
    if (wave is None) == (vm is None):
        raise AssessError("name exactly one of --wave N or --vm NAME")
    if wave is not None:
        rows = table[table["wave"] == wave]
        if rows.empty:
            raise AssessError(f"wave {wave} is not in the plan")
        return rows
    rows = table[
        (table["name"] == vm) | (table["target_name"] == vm) | (table["vm_id"] == vm) | (table["moref"] == vm)
    ]
    if rows.empty or rows["wave"].isna().all():
        raise AssessError(
            f"VM {vm!r} is not planned into a wave (match by name, target name, vm_id or moref)"
        )
    return rows


def _context(run_folder: Path, params: ExecuteParams, cluster: Cluster | None):
    estate, plan = load_plan(run_folder)
    table = plan_table(estate, plan)
    store = ExecutionStore(Path(run_folder), params.plan_id, params.backend)
    return table, store, cluster or Cluster(params)


def _cancel_forklift(
    cluster: Cluster, params: ExecuteParams, table: pd.DataFrame, rows: pd.DataFrame
) -> list[str]:
    done = []
    for wave in sorted(set(rows["wave"].dropna().astype(int))):
        for name in wave_plan_names(params, table, wave):
            ids = set(rows.loc[(rows["wave"] == wave), "moref"])

            if get_object(cluster, "Migration", params.forklift_namespace, name) is None:
                continue
            json_patch(
                cluster,
                "Migration",
                params.forklift_namespace,
                name,
                lambda live, i=ids: _cancel_ops(live, i),
            )
            done.append(name)
    return done


def _cancel_ops(live: dict, ids: set[str]) -> list[dict] | None:
    """JSON Patch adding ``ids`` to the Migration's ``spec.cancel``, conditional on the list read."""
    have = live["spec"].get("cancel")
    new = sorted(ids - {c.get("id") for c in have or []})
    if not new:
        return None
    if have is None:
        return [{"op": "add", "path": "/spec/cancel", "value": [{"id": i} for i in new]}]
    return [
        {"op": "test", "path": "/spec/cancel", "value": have},
        {"op": "replace", "path": "/spec/cancel", "value": [*have, *({"id": i} for i in new)]},
    ]


def _patch_vms(cluster: Cluster, params: ExecuteParams, rows: pd.DataFrame, patch: dict) -> list[str]:
    done = []
    for target in rows["target_name"]:
        if get_object(cluster, "VirtualMachine", params.target_namespace, target) is None:
            continue
        patch_fields(cluster, "VirtualMachine", params.target_namespace, target, patch)
        done.append(target)
    return done


def control(
    action: str,
    run_folder: Path,
    params: ExecuteParams | None = None,
    wave: int | None = None,
    vm: str | None = None,
    cluster: Cluster | None = None,
) -> dict:
    """``pause``, ``resume`` or ``cancel`` a wave or a VM; the summary of what changed."""
    params = params or ExecuteParams()
    table, store, cluster = _context(run_folder, params, cluster)
    rows = _targets(table, wave, vm)
    changed: list[str] = []
    kubevirt = params.backend == "kubevirt"
    if action in ("pause", "resume"):
        if vm is not None and not kubevirt:
            raise AssessError(
                "Forklift cannot pause one VM's migration: cancel it, or pause its wave before it starts"
            )
        if wave is not None:
            store.mark("paused", "waves", str(wave), on=action == "pause")
        if kubevirt:
            strategy = "Halted" if action == "pause" else params.run_strategy
            changed = _patch_vms(cluster, params, rows, {"spec": {"runStrategy": strategy}})
    elif action == "cancel":
        if wave is not None:
            store.mark("canceled", "waves", str(wave))
        if kubevirt:
            changed = _patch_vms(
                cluster,
                params,
                rows,
                {"metadata": {"labels": {CANCELED_LABEL: "true"}}, "spec": {"runStrategy": "Halted"}},
            )
        else:
            changed = _cancel_forklift(cluster, params, table, rows)
    else:
        raise AssessError(f"unknown action {action!r}: pause, resume or cancel")
    store.log(action, wave=wave, vm=vm, objects=changed)
    return {"action": action, "wave": wave, "vm": vm, "objects": changed}


def cleanup(
    run_folder: Path, wave: int, params: ExecuteParams | None = None, cluster: Cluster | None = None
) -> dict:
    """Delete a failed wave's leftovers: its Plans/Migrations (Forklift) and its failed VMs' objects.

    Refuses a wave that is not recorded as failed; VMs that succeeded are never touched.
    """
    params = params or ExecuteParams()
    table, store, cluster = _context(run_folder, params, cluster)
    record = store.wave(wave)
    if record.get("status") not in ("failed", "passed_with_failures"):
        raise AssessError(
            f"wave {wave} is {record.get('status') or 'not started'}; "
            "only a wave with failed VMs is cleaned up"
        )
    failed = set(record.get("failed", [])) | set(record.get("canceled", []))
    deleted = []
    rows = table[(table["wave"] == wave) & table["name"].isin(failed)]
    for target in rows["target_name"]:
        if delete_object(cluster, "VirtualMachine", params.target_namespace, target):
            deleted.append(f"VirtualMachine/{target}")
    if params.backend != "kubevirt" and record.get("status") == "failed":
        for name in wave_plan_names(params, table, wave):
            for kind in ("Migration", "Plan"):
                if delete_object(cluster, kind, params.forklift_namespace, name):
                    deleted.append(f"{kind}/{name}")
        store.set_wave(wave, status="cleaned")
    store.log("cleanup", wave=wave, deleted=deleted)
    return {"action": "cleanup", "wave": wave, "deleted": deleted}
