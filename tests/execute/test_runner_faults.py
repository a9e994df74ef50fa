"""Faults, conflicts, watches and cleanup against the real kube-apiserver.

What the real server does on demand is tested on it directly (422 from the CRD schema, apply
conflicts between field managers, 410 after an etcd compaction, bookmarks, pagination, expired
ServiceAccount tokens, finalizers). What it does not do on demand (5xx, 429, a dropped watch
stream, a 409 in the middle of a read-modify-write) is injected by a small TLS proxy in front of it.
"""

import json
import queue
import socket
import threading
import time

import pytest

from assess.execute import apply
from assess.execute.apply import apply_object, list_objects
from assess.execute.cluster import Cluster
from assess.execute.control import cleanup, control
from assess.execute.rbac import executor_rbac
from assess.execute.runner import execute
from assess.execute.watch import Watcher
from assess.model import AssessError
from tests.execute.fault_proxy import Fault, FaultProxy
from tests.execute.live import admin_apply, check, service_account_token
from tests.execute.run_folder import write_run

FORKLIFT = "forklift.konveyor.io/v1beta1"


def _plan_spec(live):
    ref = {"name": "vsphere", "namespace": live.mtv_ns}
    return {
        "vms": [],
        "targetNamespace": live.vms_ns,
        "provider": {"source": ref, "destination": ref},
        "map": {
            "network": {"name": "n", "namespace": live.mtv_ns},
            "storage": {"name": "s", "namespace": live.mtv_ns},
        },
    }


THUMBPRINT = "20:6C:8A:5D:44:40:B3:79:4B:28:EA:76:13:60:90:6E:49:D9:D9:A3"


@pytest.fixture
def proxy(live):
    pki = live.plane.folder / "pki"
    with FaultProxy(
        live.plane.host, str(live.plane.ca), str(pki / "server.pem"), str(pki / "server-key.pem")
    ) as p:
        live.kubeconfig = live.plane.kubeconfig(live.tmp / "proxied", server=p.url)
        yield p


def _watches(proxy, plural):
    return [s for s in proxy.seen if s.path.endswith(f"/{plural}") and "watch=true" in s.query]


def _lists(proxy, plural):
    return [s for s in proxy.seen if s.path.endswith(f"/{plural}") and "watch=true" not in s.query]


def test_a_dropped_watch_resumes_from_the_last_resource_version(live, proxy):
    proxy.faults.append(Fault("GET", r"/migrations\?.*watch=true", 0, drop_after=2))
    summary = execute(live.run, live.params(apply=True))
    assert summary["status"] == "completed"
    # one list per wave, never a re-list: the cut stream resumed where it was
    assert len(_lists(proxy, "migrations")) == 3
    assert len(_watches(proxy, "migrations")) >= 4
    assert sorted(live.controllers.migrations_started.values()) == [1] * 6


def test_a_watch_from_a_compacted_resource_version_gets_410_and_relists(live, kube):
    # VirtualMachineInstances have no watch cache here: the watch goes to etcd itself
    body = {
        "kind": "VirtualMachineInstance",
        "metadata": {"name": "vmi-a"},
        "spec": {"domain": {"devices": {}}},
    }
    old = live.create("kubevirt.io/v1", "virtualmachineinstances", live.vms_ns, body)["metadata"][
        "resourceVersion"
    ]
    for i in range(3):
        live.create(
            "kubevirt.io/v1",
            "virtualmachineinstances",
            live.vms_ns,
            dict(body, metadata={"name": f"vmi-{i}"}),
        )
    kube.compact()
    events = queue.Queue()
    watcher = Watcher(Cluster(live.params()), "VirtualMachineInstance", live.vms_ns, None, events)
    watcher.resource_version = old
    watcher.start()
    synced = {events.get(timeout=20)[2]["metadata"]["name"] for _ in range(4)}
    watcher.stop()
    assert watcher.relists == 1 and synced == {"vmi-a", "vmi-0", "vmi-1", "vmi-2"}


def test_a_quiet_watch_moves_on_with_bookmarks(live):
    events = queue.Queue()
    cluster = Cluster(live.params(watch_timeout_s=5))
    watcher = Watcher(cluster, "Migration", live.mtv_ns, None, events)
    watcher.start()
    deadline = time.monotonic() + 20
    while watcher.resource_version is None and time.monotonic() < deadline:
        time.sleep(0.1)
    first = watcher.resource_version
    # changes elsewhere move the resource's version on; this namespace sees none of them
    spec = {"plan": {"name": "p", "namespace": live.vms_ns}}
    for i in range(3):
        live.create(
            FORKLIFT,
            "migrations",
            live.vms_ns,
            {"kind": "Migration", "metadata": {"name": f"m{i}"}, "spec": spec},
        )
    while watcher.bookmarks == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    watcher.stop()
    assert watcher.bookmarks >= 1 and events.empty()
    assert int(watcher.resource_version) > int(first)  # resumes from there, not from the start


def test_lists_are_read_in_pages(live, proxy, monkeypatch):
    for i in range(5):
        live.create(
            FORKLIFT,
            "plans",
            live.mtv_ns,
            {
                "kind": "Plan",
                "metadata": {"name": f"p{i}"},
                "spec": _plan_spec(live),
            },
        )
    monkeypatch.setattr(apply, "PAGE_SIZE", 2)
    listing = list_objects(Cluster(live.params()), "Plan", live.mtv_ns)
    assert [p["metadata"]["name"] for p in listing["items"]] == [f"p{i}" for i in range(5)]
    pages = _lists(proxy, "plans")
    assert len(pages) == 3 and all("limit=2" in p.query for p in pages)
    assert ["continue=" in p.query for p in pages] == [False, True, True]


def test_500_and_429_are_retried_with_backoff(live, proxy):
    proxy.faults += [
        Fault("PATCH", "/plans/", 500, times=2),
        Fault("PATCH", "/migrations/", 429, times=1, retry_after=0),
        Fault("GET", r"/migrations\?(?!.*watch=true)", 503, times=1),  # the watch's initial list
    ]
    slept = []
    cluster = Cluster(live.params(apply=True), sleep=slept.append)
    summary = execute(live.run, live.params(apply=True), cluster=cluster)
    assert summary["status"] == "completed"
    assert (len(live.plans()), len(live.migrations())) == (3, 3)
    # backoff_s=0.01 doubling for the two 500s, Retry-After: 0 for the 429, 0.01 for the 503
    assert slept == [0.01, 0.02, 0.0, 0.01]


def test_422_shows_the_server_message_and_field(live):
    bad = {
        "apiVersion": FORKLIFT,
        "kind": "Migration",
        "metadata": {"name": "m", "namespace": live.mtv_ns},
        "spec": {"plan": {"name": "p", "namespace": live.mtv_ns}, "cutover": "soon"},
    }
    with pytest.raises(AssessError) as err:
        apply_object(Cluster(live.params()), bad)
    text = str(err.value)
    assert text.startswith(f"Migration {live.mtv_ns}/m: rejected by the server: HTTP 422 Invalid")
    assert "spec.cutover" in text


def test_an_apply_conflict_names_the_other_manager_and_force_takes_over(live):
    theirs = {
        "apiVersion": FORKLIFT,
        "kind": "Plan",
        "metadata": {"name": "assess-wave-01-cold"},
        "spec": {**_plan_spec(live), "type": "warm"},
    }
    path = f"/apis/{FORKLIFT}/namespaces/{live.mtv_ns}/plans/assess-wave-01-cold?fieldManager=kubectl"
    check(live.plane.request("PATCH", path, theirs, content_type="application/apply-patch+yaml"), 201)
    with pytest.raises(AssessError) as err:
        execute(live.run, live.params(apply=True, waves=[1]))
    assert 'conflict with "kubectl"' in str(err.value) and ".spec.type" in str(err.value)
    assert "--force-conflicts" in str(err.value)
    summary = execute(live.run, live.params(apply=True, waves=[1], force_conflicts=True))
    assert summary["status"] == "completed"
    plan = live.get(FORKLIFT, "plans", live.mtv_ns, "assess-wave-01-cold")
    assert plan["spec"]["type"] == "cold"
    owners = {m["manager"]: m for m in plan["metadata"]["managedFields"]}
    assert "f:type" in json.dumps(owners["assess"]["fieldsV1"])
    assert "f:type" not in json.dumps(owners.get("kubectl", {}).get("fieldsV1", {}))


def test_cancel_rereads_on_a_409_and_forklift_cancels_the_vm(live, proxy):
    live.controllers.transfer_ticks = 200  # keep wave 1 running while we cancel
    result = {}
    runner = threading.Thread(
        target=lambda: result.update(execute(live.run, live.params(apply=True, waves=[1])))
    )
    runner.start()
    deadline = time.monotonic() + 30
    while live.get(FORKLIFT, "migrations", live.mtv_ns, "assess-wave-01-cold") is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proxy.faults.append(Fault("PATCH", "/migrations/assess-wave-01-cold", 409))
    out = control("cancel", live.run, live.params(), vm="app-w1-0")
    assert out["objects"] == ["assess-wave-01-cold"]
    migration = live.get(FORKLIFT, "migrations", live.mtv_ns, "assess-wave-01-cold")
    assert migration["spec"]["cancel"] == [{"id": "vm-100"}]
    # the injected 409, and real ones: the controller writes the status between our read and write
    assert sum(1 for s in proxy.seen if s.method == "PATCH" and s.status == 409) >= 1
    live.controllers.transfer_ticks = 4
    runner.join(timeout=60)
    wave = result["waves"][0]
    assert (wave["canceled"], wave["succeeded"], wave["status"]) == (["app-w1-0"], ["app-w1-1"], "succeeded")


def _service_account(live, name="assess-executor"):
    for obj in executor_rbac(live.params(), namespace=live.vms_ns):
        admin_apply(live.plane, obj)
    return service_account_token(live.plane, live.vms_ns, name)


def test_an_invalidated_token_is_renewed_from_the_kubeconfig(live):
    first = _service_account(live)
    kubeconfig = live.plane.kubeconfig(live.tmp / "sa", token=first)
    cluster = Cluster(live.params(apply=True, kubeconfig=str(kubeconfig)))
    # the ServiceAccount is re-created: tokens bound to the old one are rejected (401)
    check(live.plane.request("DELETE", f"/api/v1/namespaces/{live.vms_ns}/serviceaccounts/assess-executor"))
    second = _service_account(live)
    live.plane.kubeconfig(kubeconfig, token=second)
    summary = execute(
        live.run, live.params(apply=True, waves=[1], kubeconfig=str(kubeconfig)), cluster=cluster
    )
    assert summary["status"] == "completed"


def test_a_token_that_stays_rejected_is_a_clear_error(live):
    kubeconfig = live.plane.kubeconfig(live.tmp / "bad", token="not-a-token")
    with pytest.raises(AssessError, match="credentials rejected even after re-reading the kubeconfig"):
        execute(live.run, live.params(apply=True, kubeconfig=str(kubeconfig)))


def test_an_unreachable_cluster_is_one_line_at_once(live):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket closes
    kubeconfig = live.plane.kubeconfig(live.tmp / "nowhere", server=f"https://127.0.0.1:{port}")
    seen = []
    start = time.monotonic()
    with pytest.raises(AssessError, match=f"https://127.0.0.1:{port}: cluster unreachable"):
        execute(live.run, live.params(apply=True, kubeconfig=str(kubeconfig)), on_event=seen.append)
    assert time.monotonic() - start < 5
    assert seen[0]["event"] == "connecting" and "timeout 10 s" in seen[0]["message"]


def test_a_server_that_never_answers_times_out(live):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)  # accepts TCP connections into the backlog, never speaks TLS
        server = f"https://127.0.0.1:{sock.getsockname()[1]}"
        kubeconfig = live.plane.kubeconfig(live.tmp / "silent", server=server)
        start = time.monotonic()
        with pytest.raises(AssessError, match="cluster unreachable"):
            execute(
                live.run, live.params(kubeconfig=str(kubeconfig), connect_timeout_s=1, request_timeout_s=1)
            )
        assert time.monotonic() - start < 10


def test_kubevirt_backend_caps_concurrency_and_checks_the_guest_agent(live):
    live.add_secret(live.vms_ns)  # CDI reads the vddk secret from the VM's namespace
    params = live.params(apply=True, backend="kubevirt", max_concurrent=1, vddk_thumbprint=THUMBPRINT)
    summary = execute(live.run, params)
    assert summary["status"] == "completed"
    in_flight, peak = set(), 0
    for e in live.events():
        if e["event"] == "applied" and e["kind"] == "VirtualMachine":
            in_flight.add(e["name"])
        elif e["event"] == "vm" and e["outcome"] in ("succeeded", "failed", "canceled"):
            in_flight.discard(e["target"])
        peak = max(peak, len(in_flight))
    assert peak == 1
    assert len(live.items("kubevirt.io/v1", "virtualmachines", live.vms_ns)) == 6
    dvs = live.items("cdi.kubevirt.io/v1beta1", "datavolumes", live.vms_ns)
    assert len(dvs) == 6 and {d["status"]["phase"] for d in dvs} == {"Succeeded"}
    assert {d["spec"]["storage"]["storageClassName"] for d in dvs} == {"standard"}


def test_kubevirt_datavolume_failure_and_missing_agent_fail_the_wave(live):
    live.add_secret(live.vms_ns)
    live.controllers.fail["app-w1-0"] = "DataVolume"
    live.controllers.no_agent.add("app-w1-1")
    params = live.params(apply=True, backend="kubevirt", wave_timeout_s=3, vddk_thumbprint=THUMBPRINT)
    summary = execute(live.run, params)
    wave = summary["waves"][0]
    assert summary["status"] == "stopped" and wave["failed"] == ["app-w1-0", "app-w1-1"]
    assert (
        wave["errors"]["app-w1-0"]
        == "DataVolume app-w1-0-disk0: Unable to connect to vddk data source: NBD error"
    )
    assert wave["errors"]["app-w1-1"] == "timed out after 3 s in DataVolume Succeeded"
    vm = live.get("kubevirt.io/v1", "virtualmachines", live.vms_ns, "app-w1-0")
    assert vm["metadata"]["finalizers"] == ["kubevirt.io/virtualMachineControllerFinalize"]
    out = cleanup(live.run, 1, live.params(backend="kubevirt"))
    assert out["deleted"] == ["VirtualMachine/app-w1-0", "VirtualMachine/app-w1-1"]
    # the VM controller's finalizer runs: VMI and DataVolumes go, then the VMs themselves
    deadline = time.monotonic() + 20
    while live.items("kubevirt.io/v1", "virtualmachines", live.vms_ns) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live.items("kubevirt.io/v1", "virtualmachines", live.vms_ns) == []
    assert live.items("cdi.kubevirt.io/v1beta1", "datavolumes", live.vms_ns) == []


def test_cleanup_refuses_a_wave_that_succeeded(live):
    execute(live.run, live.params(apply=True, waves=[1]))
    with pytest.raises(AssessError, match="wave 1 is succeeded"):
        cleanup(live.run, 1, live.params())


@pytest.mark.parametrize("length", [60, 61, 62, 63])
def test_long_vm_names_with_several_disks_apply_with_unique_valid_names(live, length):
    live.add_secret(live.vms_ns)
    names = [("a" * (length - 2)) + f"-{i}" for i in range(2)]
    write_run(live.run, waves=1, per_wave=2, names=names, disks_per_vm=3)
    params = live.params(apply=True, backend="kubevirt", vddk_thumbprint=THUMBPRINT)
    assert execute(live.run, params)["status"] == "completed"
    dvs = [d["metadata"]["name"] for d in live.items("cdi.kubevirt.io/v1beta1", "datavolumes", live.vms_ns)]
    assert len(dvs) == len(set(dvs)) == 6
    assert all(len(n) <= 63 and n[-1].isalnum() for n in dvs)
