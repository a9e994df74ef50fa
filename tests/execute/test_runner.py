"""The wave loop against a real kube-apiserver + etcd, with the controllers played through its API."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assess.execute.runner import execute
from assess.model import AssessError
from tests.execute.run_folder import write_run

ROOT = Path(__file__).resolve().parents[2]
FORKLIFT = "forklift.konveyor.io/v1beta1"


def _uids(items):
    return {o["metadata"]["uid"] for o in items}


def test_three_waves_run_to_the_end(live):
    summary = execute(live.run, live.params(apply=True))
    assert summary["status"] == "completed"
    assert [(w["wave"], w["status"], w["succeeded"]) for w in summary["waves"]] == [
        (1, "succeeded", ["app-w1-0", "app-w1-1"]),
        (2, "succeeded", ["app-w2-0", "app-w2-1"]),
        (3, "succeeded", ["app-w3-0", "app-w3-1"]),
    ]
    assert (len(live.plans()), len(live.migrations())) == (3, 3)
    assert sorted(live.controllers.migrations_started.values()) == [1] * 6
    assert [e["wave"] for e in live.events() if e["event"] == "gate"] == [1, 2, 3]
    plan = live.get(FORKLIFT, "plans", live.mtv_ns, "assess-wave-02-cold")
    assert plan["metadata"]["labels"] == {"assess.io/plan": "assess", "assess.io/wave": "2"}
    assert [vm["id"] for vm in plan["spec"]["vms"]] == ["vm-102", "vm-103"]
    assert {vm["instanceType"] for vm in plan["spec"]["vms"]} == {"u1.medium"}
    # the server-side apply recorded our field manager on the fields we set
    managers = {m["manager"] for m in plan["metadata"]["managedFields"]}
    assert managers >= {"assess"}
    provider = live.get(FORKLIFT, "providers", live.mtv_ns, "vsphere")
    assert provider["spec"]["url"] == "https://vcenter.example.com/sdk"


def test_a_failed_vm_stops_the_next_wave(live):
    live.controllers.fail["vm-102"] = "DiskTransfer"  # app-w2-0
    summary = execute(live.run, live.params(apply=True))
    assert summary["status"] == "stopped"
    last = summary["waves"][-1]
    assert (last["wave"], last["status"], last["failed"], last["succeeded"]) == (
        2,
        "failed",
        ["app-w2-0"],
        ["app-w2-1"],
    )
    assert last["errors"]["app-w2-0"].startswith("CopyDisks: Import of disk")
    assert len(live.plans()) == 2  # wave 3 never started


def test_a_failure_within_the_budget_lets_the_next_wave_start(live):
    live.controllers.fail["vm-102"] = "DiskTransfer"
    summary = execute(live.run, live.params(apply=True, failure_budget=1))
    assert summary["status"] == "completed"
    assert [w["status"] for w in summary["waves"]] == ["succeeded", "passed_with_failures", "succeeded"]
    assert len(live.plans()) == 3


def test_a_rerun_after_completion_creates_nothing_and_skips_done_waves(live):
    execute(live.run, live.params(apply=True))
    before = _uids(live.plans()) | _uids(live.migrations())
    versions = {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in live.plans()}
    summary = execute(live.run, live.params(apply=True))
    assert summary["status"] == "completed"
    assert _uids(live.plans()) | _uids(live.migrations()) == before
    # the Plans were not even re-applied (their waves are done)
    assert {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in live.plans()} == versions
    assert [e["wave"] for e in live.events() if e["event"] == "skipped"] == [1, 2, 3]


def test_killing_the_executor_mid_wave_and_rerunning_creates_nothing_twice(live):
    live.controllers.transfer_ticks = 20  # ~1 s of DiskTransfer per VM: time to kill during wave 2
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "assess",
        "execute",
        "apply",
        str(live.run),
        "--json",
        "--kubeconfig",
        str(live.kubeconfig),
        "--params",
        str(_params_file(live)),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while live.get(FORKLIFT, "migrations", live.mtv_ns, "assess-wave-02-cold") is None:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = _uids(live.plans()) | _uids(live.migrations())
    summary = execute(live.run, live.params(apply=True))
    assert summary["status"] == "completed"
    # the Plan and Migration of wave 2 are the ones made before the kill: same uid, not re-created
    assert first <= _uids(live.plans()) | _uids(live.migrations())
    assert (len(live.plans()), len(live.migrations())) == (3, 3)
    assert sorted(live.controllers.migrations_started.values()) == [1] * 6
    events = live.events()
    assert [e["wave"] for e in events if e["event"] == "resumed"] == [2]
    assert [e["wave"] for e in events if e["event"] == "skipped"] == [1]


def _params_file(live):
    path = live.tmp / "params.yaml"
    path.write_text(
        f"target_namespace: {live.vms_ns}\nforklift_namespace: {live.mtv_ns}\nbackoff_s: 0.01\n"
        "vsphere_url: https://vcenter.example.com/sdk\n"
    )
    return path


def test_server_dry_run_validates_for_real_and_writes_nothing(live):
    summary = execute(live.run, live.params(dry_run="server"))
    assert summary["status"] == "dry-run"
    # shared: Provider + NetworkMap + StorageMap; 3 waves x (Plan + Migration) = 9 objects to create
    assert [c["action"] for c in summary["changes"]] == ["created"] * 9
    assert live.plans() == [] and live.migrations() == []


def test_server_dry_run_rejects_what_the_crd_forbids(live):
    # vms[].id must be a string: kube-apiserver refuses 42 (as a 500 for apply), never retried
    from assess.execute.apply import apply_object
    from assess.execute.cluster import Cluster

    slept = []
    cluster = Cluster(live.params(), sleep=slept.append)
    bad = {
        "apiVersion": FORKLIFT,
        "kind": "Plan",
        "metadata": {"name": "bad", "namespace": live.mtv_ns},
        "spec": {"vms": [{"id": 42}], "provider": {}, "map": {}, "targetNamespace": "x"},
    }
    with pytest.raises(
        AssessError, match=r"rejected by the server: HTTP 500 .*spec.vms\[0\].id: expected string"
    ):
        apply_object(cluster, bad, dry_run=True)
    good_spec = {"vms": [], "provider": {}, "map": {}, "targetNamespace": "x"}
    bad_name = dict(bad, metadata={"name": "Bad_Name!", "namespace": live.mtv_ns}, spec=good_spec)
    with pytest.raises(AssessError, match="HTTP 422"):
        apply_object(cluster, bad_name, dry_run=True)
    unknown = dict(
        bad,
        metadata={"name": "ok", "namespace": live.mtv_ns},
        spec={"vms": [], "provider": {}, "map": {}, "targetNamespace": "x", "targetNamspace": "typo"},
    )
    with pytest.raises(AssessError, match="targetNamspace"):  # strict field validation: no silent pruning
        apply_object(cluster, unknown, dry_run=True)
    missing_ns = dict(
        bad,
        metadata={"name": "ok", "namespace": "no-such-namespace"},
        spec={"vms": [], "provider": {}, "map": {}, "targetNamespace": "x"},
    )
    with pytest.raises(AssessError, match="HTTP 404"):
        apply_object(cluster, missing_ns, dry_run=True)
    assert live.plans() == [] and slept == []


def test_client_preview_after_apply_shows_unchanged_and_changed_fields(live):
    execute(live.run, live.params(apply=True, waves=[1]))
    summary = execute(
        live.run, live.params(dry_run="client", waves=[1], vsphere_url="https://vc2.example.com/sdk")
    )
    by_name = {c["name"]: c for c in summary["changes"]}
    assert by_name["vsphere"]["action"] == "configured" and by_name["vsphere"]["fields"] == ["spec.url"]
    assert by_name["assess-networks"]["action"] == "unchanged"


def test_preflight_lists_every_problem_and_writes_nothing(kube, tmp_path):
    from tests.execute.live import Live

    env = Live(kube, tmp_path, host_provider=False, secret=False)
    write_run(env.run, verdicts={"app-w2-1": "not_ready"}, cpu=100.0, storage_class="fast")
    with pytest.raises(AssessError) as err:
        execute(env.run, env.params(apply=True))
    text = str(err.value)
    assert f"secret {env.mtv_ns}/vsphere-credentials (vCenter credentials) does not exist" in text
    assert "storage class fast does not exist" in text
    # 6 VMs x 100 cores = 600 requested; 3 nodes x 64 = 192 allocatable
    assert "request 600.0 CPU cores, the 3 node(s) have 192.0 allocatable" in text
    assert "VM app-w2-1 (wave 2) has a Critical concern" in text
    assert env.plans() == []


def test_a_not_ready_vm_passes_with_an_explicit_override(live):
    write_run(live.run, verdicts={"app-w1-0": "not_ready"})
    with pytest.raises(AssessError, match="app-w1-0"):
        execute(live.run, live.params(apply=True, waves=[1]))
    summary = execute(live.run, live.params(apply=True, waves=[1], allow_critical=["app-w1-0"]))
    assert summary["waves"][0]["succeeded"] == ["app-w1-0", "app-w1-1"]


def test_a_paused_wave_is_not_started_until_resumed(live):
    from assess.execute.control import control

    control("pause", live.run, live.params(), wave=2)
    summary = execute(live.run, live.params(apply=True))
    assert summary["status"] == "paused" and [w["wave"] for w in summary["waves"]] == [1]
    assert len(live.plans()) == 1
    control("resume", live.run, live.params(), wave=2)
    assert execute(live.run, live.params(apply=True))["status"] == "completed"


def test_kubevirt_preflight_asks_for_the_thumbprint(live):
    live.add_secret(live.vms_ns)
    with pytest.raises(AssessError, match="vddk_thumbprint is not set"):
        execute(live.run, live.params(apply=True, backend="kubevirt"))
