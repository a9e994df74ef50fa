import json
from pathlib import Path

import pytest
import yaml

from assess.execute.cluster import Cluster
from assess.execute.control import cleanup, control
from assess.execute.rbac import executor_rbac, reader_rbac
from assess.execute.runner import execute
from assess.model import AssessError
from tests.execute.k8s_double import Fault


def _watch_lists(double, plural):
    return [
        r
        for r in double.requests
        if r.method == "GET" and r.path.endswith(f"/{plural}") and "watch" not in r.query
    ]


def test_a_dropped_watch_and_a_410_are_survived(k8s):
    k8s.double.drop_next_watch_after = 2  # the first watch (wave 1 Migrations) is cut after 2 events ...
    k8s.double.expire_on_drop = True  # ... and its resourceVersion is gone by the time it reconnects
    summary = execute(k8s.run, k8s.params(apply=True))
    assert summary["status"] == "completed"
    # the VMI watch of wave 1 may also hit the 410 (the history is gone for every watch)
    assert k8s.double.dropped_watches == 1 and k8s.double.gone_sent in (1, 2)
    # one list per wave for Migrations, plus the re-list after the 410
    assert len(_watch_lists(k8s.double, "migrations")) == 3 + 1
    assert len(_watch_lists(k8s.double, "virtualmachineinstances")) == 3 + k8s.double.gone_sent - 1
    assert sorted(k8s.controllers.migrations_started.values()) == [1] * 6


def test_500_and_429_are_retried_with_backoff(k8s):
    k8s.double.faults += [
        Fault("PATCH", "/plans/", 500, times=2),
        Fault("PATCH", "/migrations/", 429, times=1, retry_after=0),
        Fault("GET", "/migrations$", 503, times=1),  # the watch's initial list
    ]
    slept = []
    cluster = Cluster(k8s.params(apply=True), sleep=slept.append)
    summary = execute(k8s.run, k8s.params(apply=True), cluster=cluster)
    assert summary["status"] == "completed"
    assert (k8s.created("Plan"), k8s.created("Migration")) == (3, 3)
    # backoff_s=0.01 doubling for the two 500s, Retry-After: 0 for the 429, 0.01 for the 503
    assert slept == [0.01, 0.02, 0.0, 0.01]


def test_422_shows_the_server_message_and_field(k8s):
    k8s.double.faults.append(
        Fault(
            "PATCH",
            "/migrations/",
            422,
            message='Migration.forklift.konveyor.io "assess-wave-01-cold" is invalid: '
            'spec.cutover: Invalid value: "soon": must be RFC 3339',
            causes=[{"reason": "FieldValueInvalid", "field": "spec.cutover", "message": "must be RFC 3339"}],
        )
    )
    with pytest.raises(AssessError) as err:
        execute(k8s.run, k8s.params(apply=True))
    text = str(err.value)
    assert text.startswith(
        "Migration openshift-mtv/assess-wave-01-cold: rejected by the server: HTTP 422 Invalid"
    )
    assert "[spec.cutover: must be RFC 3339]" in text


def test_an_apply_conflict_names_the_other_manager_and_force_takes_over(k8s):
    plan_kind = k8s.double.by_kind("Plan")
    k8s.double.store.apply(
        plan_kind,
        "openshift-mtv",
        "assess-wave-01-cold",
        {"metadata": {"name": "assess-wave-01-cold"}, "spec": {"type": "warm"}},
        "kubectl",
    )
    with pytest.raises(AssessError) as err:
        execute(k8s.run, k8s.params(apply=True, waves=[1]))
    assert 'conflict with "kubectl": .spec.type' in str(err.value)
    assert "--force-conflicts" in str(err.value)
    summary = execute(k8s.run, k8s.params(apply=True, waves=[1], force_conflicts=True))
    assert summary["status"] == "completed"
    assert k8s.double.store.get(plan_kind, "openshift-mtv", "assess-wave-01-cold")["spec"]["type"] == "cold"


def test_cancel_rereads_on_a_409_and_forklift_cancels_the_vm(k8s):
    k8s.controllers.transfer_ticks = 400  # keep wave 1 running while we cancel
    k8s.controllers.fail.clear()
    import threading

    result = {}
    runner = threading.Thread(
        target=lambda: result.update(execute(k8s.run, k8s.params(apply=True, waves=[1])))
    )
    runner.start()
    mig = k8s.double.by_kind("Migration")
    import time

    while k8s.double.store.get(mig, "openshift-mtv", "assess-wave-01-cold") is None:
        time.sleep(0.01)
    k8s.double.faults.append(Fault("PATCH", "/migrations/assess-wave-01-cold", 409))
    out = control("cancel", k8s.run, k8s.params(), vm="app-w1-0")
    assert out["objects"] == ["assess-wave-01-cold"]
    assert k8s.double.store.get(mig, "openshift-mtv", "assess-wave-01-cold")["spec"]["cancel"] == [
        {"id": "vm-100"}
    ]
    k8s.controllers.transfer_ticks = 4
    runner.join(timeout=30)
    wave = result["waves"][0]
    assert (wave["canceled"], wave["succeeded"], wave["status"]) == (["app-w1-0"], ["app-w1-1"], "succeeded")


def test_an_expired_token_is_renewed_from_the_kubeconfig(k8s):
    cluster = Cluster(k8s.params(apply=True))
    k8s.double.tokens = {"token-2"}  # the old token expires ...
    k8s.double.kubeconfig(k8s.kubeconfig, token="token-2")  # ... and the kubeconfig holds a fresh one
    summary = execute(k8s.run, k8s.params(apply=True, waves=[1]), cluster=cluster)
    assert summary["status"] == "completed"
    assert sum(1 for r in k8s.double.requests if r.status == 401) == 1


def test_a_token_that_stays_rejected_is_a_clear_error(k8s):
    k8s.double.tokens = {"someone-else"}
    with pytest.raises(AssessError, match="credentials rejected even after re-reading the kubeconfig"):
        execute(k8s.run, k8s.params(apply=True))


def test_kubevirt_backend_caps_concurrency_and_checks_the_guest_agent(k8s):
    k8s.add_secret("migrated-vms")  # CDI reads the vddk secret from the VM's namespace
    summary = execute(k8s.run, k8s.params(apply=True, backend="kubevirt", max_concurrent=1))
    assert summary["status"] == "completed"
    events = [json.loads(x) for x in (k8s.run / "execute" / "events.jsonl").read_text().splitlines()]
    in_flight, peak = set(), 0
    for e in events:
        if e["event"] == "applied" and e["kind"] == "VirtualMachine":
            in_flight.add(e["name"])
        elif e["event"] == "vm" and e["outcome"] in ("succeeded", "failed", "canceled"):
            in_flight.discard(e["target"])
        peak = max(peak, len(in_flight))
    assert peak == 1
    assert k8s.created("VirtualMachine") == 6 and k8s.created("DataVolume") == 6


def test_kubevirt_datavolume_failure_and_missing_agent_fail_the_wave(k8s):
    k8s.add_secret("migrated-vms")
    k8s.controllers.fail["app-w1-0"] = "DataVolume"
    k8s.controllers.no_agent.add("app-w1-1")
    summary = execute(k8s.run, k8s.params(apply=True, backend="kubevirt", wave_timeout_s=2))
    wave = summary["waves"][0]
    assert summary["status"] == "stopped" and wave["failed"] == ["app-w1-0", "app-w1-1"]
    assert (
        wave["errors"]["app-w1-0"]
        == "DataVolume app-w1-0-disk0: Unable to connect to vddk data source: NBD error"
    )
    assert wave["errors"]["app-w1-1"] == "timed out after 2 s in DataVolume Succeeded"
    out = cleanup(k8s.run, 1, k8s.params(backend="kubevirt"))
    # both failed VMs go, with their DataVolumes (owner references); nothing of wave 2 exists
    assert out["deleted"] == ["VirtualMachine/app-w1-0", "VirtualMachine/app-w1-1"]
    assert k8s.double.store.list(k8s.double.by_kind("DataVolume"))[0] == []


def test_cleanup_refuses_a_wave_that_succeeded(k8s):
    execute(k8s.run, k8s.params(apply=True, waves=[1]))
    with pytest.raises(AssessError, match="wave 1 is succeeded"):
        cleanup(k8s.run, 1, k8s.params())


def test_executor_rbac_has_the_least_verbs_and_reader_matches_the_cronjob():
    from assess.execute.params import ExecuteParams

    objects = executor_rbac(ExecuteParams())
    rules = [r for o in objects if o["kind"] in ("Role", "ClusterRole") for r in o["rules"]]
    assert all("*" not in r["verbs"] and "*" not in r["resources"] for r in rules)
    secret = [r for r in rules if r["resources"] == ["secrets"]]
    assert secret == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "verbs": ["get"],
            "resourceNames": ["vsphere-credentials"],
        }
    ]
    forklift = next(
        o for o in objects if o["kind"] == "Role" and o["metadata"]["namespace"] == "openshift-mtv"
    )
    assert forklift["rules"][1] == {
        "apiGroups": ["forklift.konveyor.io"],
        "resources": ["plans", "migrations"],
        "verbs": ["get", "list", "watch", "create", "patch", "delete"],
    }
    cronjob = Path(__file__).resolve().parents[2] / "deploy" / "cronjob.yaml"
    deploy = [
        d
        for d in yaml.safe_load_all(cronjob.read_text())
        if d["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding")
    ]
    assert reader_rbac() == deploy
