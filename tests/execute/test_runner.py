import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assess.execute.runner import execute
from assess.model import AssessError
from tests.execute.k8s_double.seed import write_run

ROOT = Path(__file__).resolve().parents[2]


def _events(run):
    return [json.loads(line) for line in (run / "execute" / "events.jsonl").read_text().splitlines()]


def test_three_waves_run_to_the_end(k8s):
    summary = execute(k8s.run, k8s.params(apply=True))
    assert summary["status"] == "completed"
    assert [(w["wave"], w["status"], w["succeeded"]) for w in summary["waves"]] == [
        (1, "succeeded", ["app-w1-0", "app-w1-1"]),
        (2, "succeeded", ["app-w2-0", "app-w2-1"]),
        (3, "succeeded", ["app-w3-0", "app-w3-1"]),
    ]
    # 3 waves x 1 (cold) Plan + 1 Migration each; 6 VMs each migrated exactly once
    assert (k8s.created("Plan"), k8s.created("Migration")) == (3, 3)
    assert sorted(k8s.controllers.migrations_started.values()) == [1] * 6
    gates = [e for e in _events(k8s.run) if e["event"] == "gate"]
    assert [g["wave"] for g in gates] == [1, 2, 3]
    # the Plan carries the wave label, the Migration points at it
    plan = k8s.double.store.get(k8s.double.by_kind("Plan"), "openshift-mtv", "assess-wave-02-cold")
    assert plan["metadata"]["labels"] == {"assess.io/plan": "assess", "assess.io/wave": "2"}
    assert [vm["id"] for vm in plan["spec"]["vms"]] == ["vm-102", "vm-103"]


def test_a_failed_vm_stops_the_next_wave(k8s):
    k8s.controllers.fail["vm-102"] = "DiskTransfer"  # app-w2-0
    summary = execute(k8s.run, k8s.params(apply=True))
    assert summary["status"] == "stopped"
    last = summary["waves"][-1]
    assert (last["wave"], last["status"], last["failed"], last["succeeded"]) == (
        2,
        "failed",
        ["app-w2-0"],
        ["app-w2-1"],
    )
    assert last["errors"]["app-w2-0"].startswith("CopyDisks: Import of disk")
    assert k8s.created("Plan") == 2  # wave 3 never started


def test_a_failure_within_the_budget_lets_the_next_wave_start(k8s):
    k8s.controllers.fail["vm-102"] = "DiskTransfer"
    summary = execute(k8s.run, k8s.params(apply=True, failure_budget=1))
    assert summary["status"] == "completed"
    assert [w["status"] for w in summary["waves"]] == ["succeeded", "passed_with_failures", "succeeded"]
    assert k8s.created("Plan") == 3


def test_a_rerun_after_completion_creates_nothing_and_skips_done_waves(k8s):
    execute(k8s.run, k8s.params(apply=True))
    before = dict(k8s.double.store.created)
    summary = execute(k8s.run, k8s.params(apply=True))
    assert summary["status"] == "completed"
    assert k8s.double.store.created == before
    assert [e["wave"] for e in _events(k8s.run) if e["event"] == "skipped"] == [1, 2, 3]


def test_killing_the_executor_mid_wave_and_rerunning_creates_nothing_twice(k8s):
    k8s.controllers.transfer_ticks = 60  # ~0.3 s of DiskTransfer per VM: time to kill during wave 2
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "assess",
        "execute",
        "apply",
        str(k8s.run),
        "--kubeconfig",
        str(k8s.kubeconfig),
        "--json",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    mig = k8s.double.by_kind("Migration")
    deadline = time.monotonic() + 40
    while k8s.double.store.get(mig, "openshift-mtv", "assess-wave-02-cold") is None:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    summary = execute(k8s.run, k8s.params(apply=True))
    assert summary["status"] == "completed"
    # each Plan and Migration created once (3 + 3), each VM migrated once, though wave 2 was in flight
    assert (k8s.created("Plan"), k8s.created("Migration")) == (3, 3)
    assert sorted(k8s.controllers.migrations_started.values()) == [1] * 6
    events = _events(k8s.run)
    assert {"event": "resumed", "wave": 2} == {
        k: events[[e["event"] for e in events].index("resumed")][k] for k in ("event", "wave")
    }
    assert [e["wave"] for e in events if e["event"] == "skipped"] == [1]


def test_dry_run_writes_nothing_and_lists_the_changes(k8s):
    for mode in ("server", "client"):
        summary = execute(k8s.run, k8s.params(dry_run=mode))
        assert summary["status"] == "dry-run"
        # shared: Provider + NetworkMap + StorageMap; 3 waves x (Plan + Migration) = 9 objects to create
        assert [c["action"] for c in summary["changes"]] == ["created"] * 9
    assert k8s.double.mutating() == []
    assert k8s.created("Plan") == 0


def test_server_without_dry_run_falls_back_to_a_client_preview(k8s):
    k8s.double.dry_run_supported = False
    summary = execute(k8s.run, k8s.params())
    assert len(summary["changes"]) == 9 and k8s.double.mutating() == []


def test_client_preview_after_apply_shows_unchanged_and_changed_fields(k8s):
    execute(k8s.run, k8s.params(apply=True, waves=[1]))
    summary = execute(
        k8s.run, k8s.params(dry_run="client", waves=[1], vsphere_url="https://vc2.example.com/sdk")
    )
    by_name = {c["name"]: c for c in summary["changes"]}
    assert by_name["vsphere"]["action"] == "configured" and by_name["vsphere"]["fields"] == ["spec.url"]
    assert by_name["assess-networks"]["action"] == "unchanged"


def test_preflight_lists_every_problem_and_writes_nothing(tmp_path):
    from tests.execute.k8s_double import Controllers, Double
    from tests.execute.k8s_double.seed import seed_cluster

    run = write_run(tmp_path / "run", verdicts={"app-w2-1": "not_ready"}, cpu=100.0)
    with Double(installed=("kubevirt.io", "cdi.kubevirt.io")) as double, Controllers(double):
        seed_cluster(double, secret=None, storage_classes=("fast",), host_provider=False)
        from assess.execute.params import ExecuteParams

        params = ExecuteParams(kubeconfig=str(double.kubeconfig(tmp_path / "kc")), apply=True)
        with pytest.raises(AssessError) as err:
            execute(run, params)
        assert double.mutating() == []
    text = str(err.value)
    assert "does not serve Plan (forklift.konveyor.io/v1beta1): install Forklift" in text
    assert "secret openshift-mtv/vsphere-credentials (vCenter credentials) does not exist" in text
    assert "storage class standard does not exist" in text
    # 6 VMs x 100 cores = 600 requested; 3 nodes x 64 = 192 allocatable
    assert "request 600.0 CPU cores, the 3 node(s) have 192.0 allocatable" in text
    assert "VM app-w2-1 (wave 2) has a Critical concern" in text


def test_a_not_ready_vm_passes_with_an_explicit_override(k8s):
    write_run(k8s.run, verdicts={"app-w1-0": "not_ready"})
    with pytest.raises(AssessError, match="app-w1-0"):
        execute(k8s.run, k8s.params(apply=True, waves=[1]))
    summary = execute(k8s.run, k8s.params(apply=True, waves=[1], allow_critical=["app-w1-0"]))
    assert summary["waves"][0]["succeeded"] == ["app-w1-0", "app-w1-1"]


def test_a_paused_wave_is_not_started_until_resumed(k8s):
    from assess.execute.control import control

    control("pause", k8s.run, k8s.params(), wave=2)
    summary = execute(k8s.run, k8s.params(apply=True))
    assert summary["status"] == "paused" and [w["wave"] for w in summary["waves"]] == [1]
    assert k8s.created("Plan") == 1
    control("resume", k8s.run, k8s.params(), wave=2)
    assert execute(k8s.run, k8s.params(apply=True))["status"] == "completed"
