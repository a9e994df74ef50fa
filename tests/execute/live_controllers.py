"""Forklift, CDI and KubeVirt controllers played through a real kube-apiserver.

Watch threads (list + watch, like an informer) keep a cache of Migrations, Plans, VirtualMachines,
DataVolumes and VirtualMachineInstances; a loop ticking every ``tick`` seconds moves each object
through the phases the real controllers report and writes them through the ``status``
subresource. Forklift: the vSphere cold pipeline Initialize, DiskTransfer, ImageConversion,
VirtualMachineCreation per VM, ``spec.cancel`` honoured, then a VirtualMachine and a running VMI.
CDI: a DataVolume per ``dataVolumeTemplates`` entry, owned by its VM (ImportScheduled,
ImportInProgress "NN.NN%", Succeeded or Failed). KubeVirt: the VM controller's finalizer on every
VM; on deletion it removes the VMI and the VM's DataVolumes (what the garbage collector does in a
full cluster: no kube-controller-manager runs here), then drops its finalizer.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from datetime import UTC, datetime

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

STEPS = ["Initialize", "DiskTransfer", "ImageConversion", "VirtualMachineCreation"]
PHASE_OF_STEP = {
    "Initialize": "StorePowerState",
    "DiskTransfer": "CopyDisks",
    "ImageConversion": "ConvertGuest",
    "VirtualMachineCreation": "CreateVM",
}
KINDS = {
    "Migration": ("forklift.konveyor.io", "v1beta1", "migrations"),
    "Plan": ("forklift.konveyor.io", "v1beta1", "plans"),
    "VirtualMachine": ("kubevirt.io", "v1", "virtualmachines"),
    "VirtualMachineInstance": ("kubevirt.io", "v1", "virtualmachineinstances"),
    "DataVolume": ("cdi.kubevirt.io", "v1beta1", "datavolumes"),
}
FORKLIFT_KINDS = ("Migration", "Plan")  # watched in the Forklift namespace, the rest in the target one
VM_FINALIZER = "kubevirt.io/virtualMachineControllerFinalize"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LiveControllers:
    """``with LiveControllers(kubeconfig, forklift_ns, target_ns) as c:``; knobs for timing and failures."""

    def __init__(
        self, kubeconfig, forklift_ns, target_ns, tick=0.05, transfer_ticks=4, boot_ticks=2, max_inflight=20
    ):
        self.namespaces = {k: forklift_ns if k in FORKLIFT_KINDS else target_ns for k in KINDS}
        self.api_client = config.new_client_from_config(config_file=str(kubeconfig))
        self.api = client.CustomObjectsApi(self.api_client)
        self.tick, self.transfer_ticks, self.boot_ticks = tick, transfer_ticks, boot_ticks
        self.max_inflight = max_inflight
        self.fail: dict[str, str] = {}  # moref -> Forklift step, or VM name -> "DataVolume"
        self.no_agent: set[str] = set()
        self.migrations_started: Counter = Counter()
        self.imports_started: Counter = Counter()
        self.cache: dict[str, dict[tuple[str, str], dict]] = {k: {} for k in KINDS}
        self.lock = threading.Lock()
        self._clock: dict = {}
        self._forklift: dict[str, dict] = {}  # Migration uid -> status this controller owns
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._reflect, args=(k,), daemon=True) for k in KINDS]
        self._threads.append(threading.Thread(target=self._loop, daemon=True))

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=10)
        self.api_client.close()

    # -- informers ------------------------------------------------------------------------------
    def _reflect(self, kind: str) -> None:
        """List, then watch from the list's resourceVersion; re-list only on 410 (an informer)."""
        group, version, plural = KINDS[kind]
        namespace = self.namespaces[kind]
        version_seen = None
        while not self._stop.is_set():
            try:
                if version_seen is None:
                    listing = self.api.list_namespaced_custom_object(group, version, namespace, plural)
                    with self.lock:
                        self.cache[kind] = {(namespace, o["metadata"]["name"]): o for o in listing["items"]}
                    version_seen = listing["metadata"]["resourceVersion"]
                stream = watch.Watch()
                for event in stream.stream(
                    self.api.list_namespaced_custom_object,
                    group,
                    version,
                    namespace,
                    plural,
                    resource_version=version_seen,
                    timeout_seconds=1,
                ):
                    obj = event["object"]
                    version_seen = obj["metadata"]["resourceVersion"]
                    key = (namespace, obj["metadata"]["name"])
                    with self.lock:
                        if event["type"] == "DELETED":
                            self.cache[kind].pop(key, None)
                        else:
                            self.cache[kind][key] = obj
            except ApiException as exc:
                if exc.status == 410:
                    version_seen = None
                self._stop.wait(0.1)
            except (OSError, ValueError):
                self._stop.wait(0.1)

    def _items(self, kind: str) -> list[dict]:
        with self.lock:
            return [copy.deepcopy(o) for o in self.cache[kind].values()]

    def _status(self, kind: str, namespace: str, name: str, status: dict) -> None:
        group, version, plural = KINDS[kind]
        try:
            self.api.patch_namespaced_custom_object_status(
                group, version, namespace, plural, name, {"status": status}
            )
        except ApiException as exc:
            if exc.status not in (404, 409):
                raise

    def _create(self, kind: str, namespace: str, body: dict) -> bool:
        group, version, plural = KINDS[kind]
        try:
            self.api.create_namespaced_custom_object(group, version, namespace, plural, body)
            return True
        except ApiException as exc:
            if exc.status == 409:
                return False
            raise

    def _loop(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                self._forklift_tick()
                self._kubevirt_tick()
                self._boot_tick()
            except ApiException as exc:  # keep playing; the test sees the effect
                print(f"controllers: {exc.status} {exc.reason}")

    # -- Forklift -------------------------------------------------------------------------------
    def _forklift_tick(self) -> None:
        plans = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in self._items("Plan")}
        for mig in self._items("Migration"):
            ns, uid = mig["metadata"]["namespace"], mig["metadata"]["uid"]
            status = self._forklift.get(uid) or mig.get("status") or {}
            if _final(status.get("conditions")):
                continue
            plan = plans.get((ns, mig["spec"]["plan"]["name"]))
            if plan is None:
                continue
            before = [c["type"] for c in status.get("conditions") or []]
            status = self._advance(mig, plan, copy.deepcopy(status))
            self._forklift[uid] = status
            self._status("Migration", ns, mig["metadata"]["name"], status)
            if [c["type"] for c in status["conditions"]] != before:  # the Plan follows its transitions
                plan_status = {"started": status["started"], "vms": status["vms"]}
                self._status(
                    "Plan",
                    ns,
                    plan["metadata"]["name"],
                    {"conditions": status["conditions"], "migration": plan_status},
                )

    def _advance(self, mig: dict, plan: dict, status: dict) -> dict:
        if not status.get("vms"):
            status = {
                "started": now(),
                "conditions": [_cond("Executing", "Migration is executing.")],
                "vms": [
                    {
                        "id": vm["id"],
                        "name": vm.get("targetName", vm["id"]),
                        "phase": "Started",
                        "pipeline": [_step(s) for s in STEPS],
                    }
                    for vm in plan["spec"]["vms"]
                ],
            }
        canceled = {c.get("id") for c in mig["spec"].get("cancel") or []}
        active = [vm for vm in status["vms"] if vm.get("started") and "completed" not in vm]
        for vm in status["vms"]:
            if "completed" in vm:
                continue
            if vm["id"] in canceled:
                vm.update(
                    phase="Completed",
                    completed=now(),
                    conditions=[_cond("Canceled", "The VM migration was canceled.")],
                )
                continue
            if not vm.get("started"):
                if len(active) >= self.max_inflight:
                    continue
                vm["started"] = now()
                active.append(vm)
                self.migrations_started[vm["id"]] += 1
            self._advance_vm(mig["metadata"]["uid"], vm, plan)
        if all("completed" in vm for vm in status["vms"]):
            kinds = {c["type"] for vm in status["vms"] for c in vm.get("conditions", [])}
            final = "Failed" if "Failed" in kinds else ("Canceled" if "Canceled" in kinds else "Succeeded")
            status["completed"] = now()
            status["conditions"] = [_cond(final, f"The migration has {final.lower()}.")]
        return status

    def _advance_vm(self, uid: str, vm: dict, plan: dict) -> None:
        key = (uid, vm["id"])
        step = next(s for s in vm["pipeline"] if s["phase"] != "Completed")
        if step["phase"] == "Pending":
            step.update(phase="Running", started=now())
            vm["phase"] = PHASE_OF_STEP[step["name"]]
            self._clock[key] = 0
            return
        self._clock[key] += 1
        ticks = self._clock[key]
        if self.fail.get(vm["id"]) == step["name"] and ticks >= 2:
            reasons = [
                f"Import of disk [datastore1] {vm['name']}/{vm['name']}.vmdk failed: nbdkit: VDDK error"
            ]
            vm.update(
                error={"phase": vm["phase"], "reasons": reasons},
                phase="Completed",
                completed=now(),
                conditions=[_cond("Failed", "The VM migration has FAILED.")],
            )
            return
        if step["name"] == "DiskTransfer":
            total = step["progress"]["total"]
            step["progress"]["completed"] = min(total, total * ticks // self.transfer_ticks)
            if ticks < self.transfer_ticks:
                return
        step.update(phase="Completed", completed=now())
        step["progress"]["completed"] = step["progress"]["total"]
        if step["name"] == "VirtualMachineCreation":
            namespace = plan["spec"]["targetNamespace"]
            labels = {**(plan["spec"].get("targetLabels") or {}), "vmID": vm["id"]}
            self._create(
                "VirtualMachine",
                namespace,
                {
                    "apiVersion": "kubevirt.io/v1",
                    "kind": "VirtualMachine",
                    "metadata": {"name": vm["name"], "labels": labels, "finalizers": [VM_FINALIZER]},
                    "spec": {"runStrategy": "Always", "template": {"spec": {"domain": {"devices": {}}}}},
                },
            )
            self._start_vmi(namespace, vm["name"], labels)
            vm.update(
                phase="Completed",
                completed=now(),
                conditions=[_cond("Succeeded", "The VM migration has SUCCEEDED.")],
            )

    # -- KubeVirt / CDI ---------------------------------------------------------------------------
    def _kubevirt_tick(self) -> None:
        dvs = {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in self._items("DataVolume")}
        vmis = {
            (v["metadata"]["namespace"], v["metadata"]["name"]) for v in self._items("VirtualMachineInstance")
        }
        for vm in self._items("VirtualMachine"):
            meta, spec = vm["metadata"], vm["spec"]
            ns, name = meta["namespace"], meta["name"]
            if meta.get("deletionTimestamp"):
                self._finalize(vm, dvs)
                continue
            if VM_FINALIZER not in (meta.get("finalizers") or []):
                self._patch_vm(
                    ns, name, {"metadata": {"finalizers": [*(meta.get("finalizers") or []), VM_FINALIZER]}}
                )
            phases = [
                self._data_volume(vm, t, dvs.get((ns, t["metadata"]["name"])))
                for t in spec.get("dataVolumeTemplates") or []
            ]
            running = spec.get("runStrategy") in ("Always", "RerunOnFailure")
            if not phases:
                continue  # a Forklift-created VM: its VMI was started with it
            if running and (ns, name) not in vmis and all(p == "Succeeded" for p in phases):
                self._start_vmi(ns, name, (spec["template"].get("metadata") or {}).get("labels") or {})
            elif not running and (ns, name) in vmis:
                self._delete("VirtualMachineInstance", ns, name)

    def _patch_vm(self, ns: str, name: str, patch: dict) -> None:
        try:
            self.api.patch_namespaced_custom_object("kubevirt.io", "v1", ns, "virtualmachines", name, patch)
        except ApiException as exc:
            if exc.status not in (404, 409):
                raise

    def _delete(self, kind: str, ns: str, name: str) -> None:
        group, version, plural = KINDS[kind]
        try:
            self.api.delete_namespaced_custom_object(group, version, ns, plural, name)
        except ApiException as exc:
            if exc.status != 404:
                raise

    def _finalize(self, vm: dict, dvs: dict) -> None:
        meta = vm["metadata"]
        ns = meta["namespace"]
        self._delete("VirtualMachineInstance", ns, meta["name"])
        for (dv_ns, dv_name), dv in dvs.items():
            owners = [o.get("uid") for o in dv["metadata"].get("ownerReferences") or []]
            if dv_ns == ns and meta["uid"] in owners:
                self._delete("DataVolume", ns, dv_name)
        rest = [f for f in meta.get("finalizers") or [] if f != VM_FINALIZER]
        if len(rest) != len(meta.get("finalizers") or []):
            self._patch_vm(
                ns,
                meta["name"],
                {"metadata": {"finalizers": rest or None, "resourceVersion": meta["resourceVersion"]}},
            )

    def _data_volume(self, vm: dict, template: dict, dv: dict | None) -> str:
        ns, name = vm["metadata"]["namespace"], template["metadata"]["name"]
        if dv is None:
            owner = {
                "apiVersion": "kubevirt.io/v1",
                "kind": "VirtualMachine",
                "name": vm["metadata"]["name"],
                "uid": vm["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
            if self._create(
                "DataVolume",
                ns,
                {
                    "apiVersion": "cdi.kubevirt.io/v1beta1",
                    "kind": "DataVolume",
                    "metadata": {"name": name, "ownerReferences": [owner]},
                    "spec": template["spec"],
                },
            ):
                self.imports_started[name] += 1
            return "Pending"
        status = dict(dv.get("status") or {})
        if status.get("phase") in ("Succeeded", "Failed"):
            return status["phase"]
        key = (ns, name)
        ticks = self._clock.get(key, 0) + 1
        self._clock[key] = ticks
        if self.fail.get(vm["metadata"]["name"]) == "DataVolume" and ticks >= 2:
            status.update(
                phase="Failed",
                conditions=[
                    {
                        "type": "Running",
                        "status": "False",
                        "reason": "Error",
                        "message": "Unable to connect to vddk data source: NBD error",
                    }
                ],
            )
        elif ticks >= self.transfer_ticks:
            status.update(phase="Succeeded", progress="100.0%")
        elif ticks == 1:
            status.update(phase="ImportScheduled", progress="N/A")
        else:
            status.update(phase="ImportInProgress", progress=f"{100.0 * ticks / self.transfer_ticks:.2f}%")
        self._status("DataVolume", ns, name, status)
        return status["phase"]

    def _start_vmi(self, ns: str, name: str, labels: dict) -> None:
        body = {
            "apiVersion": "kubevirt.io/v1",
            "kind": "VirtualMachineInstance",
            "metadata": {"name": name, "labels": labels},
            "spec": {"domain": {"devices": {}}},
        }
        if self._create("VirtualMachineInstance", ns, body):
            self._clock[("vmi", ns, name)] = 0
            self._status("VirtualMachineInstance", ns, name, {"phase": "Scheduling"})

    def _boot_tick(self) -> None:
        for key, ticks in list(self._clock.items()):
            if key[0] != "vmi" or ticks is None:
                continue
            _, ns, name = key
            self._clock[key] = ticks + 1
            conditions = [{"type": "Ready", "status": "True"}]
            if ticks + 1 >= self.boot_ticks:
                if name not in self.no_agent:
                    conditions.append({"type": "AgentConnected", "status": "True"})
                self._clock[key] = None
            self._status("VirtualMachineInstance", ns, name, {"phase": "Running", "conditions": conditions})


def _final(conditions) -> bool:
    return any(
        c["type"] in ("Succeeded", "Failed", "Canceled") and c["status"] == "True" for c in conditions or []
    )


def _step(name: str) -> dict:
    total = 10240 if name == "DiskTransfer" else 1
    return {
        "name": name,
        "description": name,
        "phase": "Pending",
        "progress": {"completed": 0, "total": total},
    }


def _cond(kind: str, message: str) -> dict:
    return {
        "type": kind,
        "status": "True",
        "category": "Advisory" if kind == "Executing" else "Required",
        "message": message,
        "lastTransitionTime": now(),
    }
