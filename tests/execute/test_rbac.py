"""Least privilege, checked by the real authorizer (RBAC) of a real kube-apiserver.

The executor runs as the ServiceAccount `assess execute rbac` emits, with a token from the
TokenRequest API. The whole cycle (pre-flight, server and client dry runs, apply, watch, gate,
cancel or pause, cleanup) succeeds with the emitted roles; with any one verb, resource or
resource name removed, some step of it fails.
"""

import copy

import pytest
import yaml

from assess.execute.control import cleanup, control
from assess.execute.params import ExecuteParams
from assess.execute.rbac import EXECUTOR, executor_rbac, reader_rbac
from assess.execute.runner import execute
from assess.model import AssessError
from tests.execute.live import admin_apply, can_i, check, service_account_token
from tests.execute.run_folder import write_run

THUMBPRINT = "20:6C:8A:5D:44:40:B3:79:4B:28:EA:76:13:60:90:6E:49:D9:D9:A3"


def _removals(backend):
    """(object index, rule index, field, value) of every single thing that can be taken away."""
    objects = executor_rbac(ExecuteParams(backend=backend, target_namespace="vms", forklift_namespace="mtv"))
    out = []
    for i, obj in enumerate(objects):
        for j, rule in enumerate(obj.get("rules", [])):
            for field in ("verbs", "resources", "resourceNames"):
                values = rule.get(field) or []
                for k, value in enumerate(values):
                    if field != "verbs" and len(values) == 1:
                        continue  # the only resource (or name): the same as removing the rule's verbs
                    where = f"{obj['kind']}:{','.join(rule['resources'])}"
                    out.append(pytest.param(i, j, field, k, id=f"{backend}-{where}-{field}-{value}"))
    return out


def _without(objects, i, j, field, k):
    """``objects`` with the k-th entry of one rule's ``field`` taken away (the rule too, if left empty)."""
    objects = copy.deepcopy(objects)
    rule = objects[i]["rules"][j]
    rule[field] = rule[field][:k] + rule[field][k + 1 :]
    if not rule["verbs"] or not rule["resources"]:
        objects[i]["rules"].pop(j)
    return objects


def _as_service_account(live, backend, removal=None):
    """Apply the emitted RBAC (minus ``removal``) and return a kubeconfig with the SA's token."""
    params = live.params(backend=backend)
    objects = executor_rbac(params, namespace=live.vms_ns)
    if removal is not None:
        objects = _without(objects, *removal)
    for obj in objects:
        admin_apply(live.plane, obj)
    token = service_account_token(live.plane, live.vms_ns, EXECUTOR)
    return live.plane.kubeconfig(live.tmp / "sa-kubeconfig", token=token)


def _cycle(live, backend, kubeconfig):
    """Everything the executor does to a cluster, in the order an operator would do it."""
    extra = {"vddk_thumbprint": THUMBPRINT} if backend == "kubevirt" else {}
    params = live.params(backend=backend, kubeconfig=str(kubeconfig), **extra)
    execute(live.run, params.model_copy(update={"dry_run": "server"}))
    execute(live.run, params.model_copy(update={"dry_run": "client"}))
    if backend == "kubevirt":
        live.controllers.fail["app-w1-0"] = "DataVolume"
    else:
        live.controllers.fail["vm-100"] = "DiskTransfer"
    summary = execute(live.run, params.model_copy(update={"apply": True}))
    assert summary["status"] == "stopped", summary
    if backend == "kubevirt":
        control("pause", live.run, params, vm="app-w1-1")
    else:
        control("cancel", live.run, params, vm="app-w1-1")
    return cleanup(live.run, 1, params)


def _prepare(live, backend):
    write_run(live.run, waves=2, per_wave=2)
    if backend == "kubevirt":
        live.add_secret(live.vms_ns)


@pytest.mark.parametrize("backend", ["forklift", "kubevirt"])
def test_the_whole_cycle_succeeds_as_the_emitted_service_account(live, backend):
    _prepare(live, backend)
    out = _cycle(live, backend, _as_service_account(live, backend))
    expected = (
        ["VirtualMachine/app-w1-0"]
        if backend == "kubevirt"
        else ["Migration/assess-wave-01-cold", "Plan/assess-wave-01-cold"]
    )
    assert out["deleted"] == expected
    user = f"system:serviceaccount:{live.vms_ns}:{EXECUTOR}"
    # and it cannot do what it does not need: delete the target namespace, read other secrets
    assert not can_i(live.plane, user, "delete", "namespaces")
    assert not can_i(live.plane, user, "list", "secrets", live.mtv_ns)
    assert not can_i(live.plane, user, "get", "secrets", live.vms_ns)


@pytest.mark.parametrize(("i", "j", "field", "k"), _removals("forklift") + _removals("kubevirt"))
def test_every_rule_is_needed(live, request, i, j, field, k):
    backend = request.node.callspec.id.split("-", 1)[0]
    _prepare(live, backend)
    kubeconfig = _as_service_account(live, backend, (i, j, field, k))
    with pytest.raises(AssessError, match="403|Forbidden|forbidden"):
        _cycle(live, backend, kubeconfig)


def test_the_scheduled_assessment_account_can_read_nothing(live, kube):
    from pathlib import Path

    deploy = Path(__file__).resolve().parents[2] / "deploy" / "cronjob.yaml"
    docs = list(yaml.safe_load_all(deploy.read_text()))
    check(kube.request("POST", "/api/v1/namespaces", {"metadata": {"name": "assess"}}), 201, 409)
    for doc in docs:  # the real server validates every document of deploy/ (CronJob included)
        admin_apply(kube, doc)
    assert [d for d in docs if d["kind"] == "ServiceAccount"] == reader_rbac()
    user = "system:serviceaccount:assess:assess-reader"
    for verb, resource, group in [
        ("list", "nodes", ""),
        ("list", "storageclasses", "storage.k8s.io"),
        ("get", "secrets", ""),
        ("list", "plans", "forklift.konveyor.io"),
    ]:
        assert not can_i(kube, user, verb, resource, "assess", group), (verb, resource)
