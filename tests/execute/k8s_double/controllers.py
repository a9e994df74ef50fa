"""The controllers the double plays on a fast clock: Forklift (Plan/Migration) and KubeVirt/CDI.

Forklift: each VM of a Migration goes through the vSphere cold pipeline steps Initialize,
DiskTransfer (progress in MB), ImageConversion, VirtualMachineCreation, with the VM phases
Forklift reports; at most ``max_inflight`` VMs at once; conditions Succeeded/Failed/Canceled on
each VM, on the Migration and on the Plan; ``spec.cancel`` honoured. The VirtualMachine it
creates starts and its VMI reports ``AgentConnected``. KubeVirt: a VirtualMachine with
``dataVolumeTemplates`` gets DataVolumes (ImportScheduled, ImportInProgress with "NN.NN%",
Succeeded or Failed), then a VMI (Scheduling, Running, AgentConnected).
"""

from __future__ import annotations

import copy
import threading
from collections import Counter

from tests.execute.k8s_double.store import now

STEPS = ["Initialize", "DiskTransfer", "ImageConversion", "VirtualMachineCreation"]
PHASE_OF_STEP = {
    "Initialize": "StorePowerState",
    "DiskTransfer": "CopyDisks",
    "ImageConversion": "ConvertGuest",
    "VirtualMachineCreation": "CreateVM",
}


class Controllers:
    """Ticks every ``tick`` seconds; knobs for timing and failure injection."""

    def __init__(self, double, tick=0.005, transfer_ticks=4, boot_ticks=2, max_inflight=20):
        self.double, self.store = double, double.store
        self.tick, self.transfer_ticks, self.boot_ticks = tick, transfer_ticks, boot_ticks
        self.max_inflight = max_inflight
        self.fail = {}  # moref or target name -> step (Forklift) / "DataVolume"
        self.no_agent = set()  # target names whose guest agent never connects
        self.migrations_started = Counter()  # moref -> times a Migration started transferring it
        self.imports_started = Counter()  # DataVolume name -> times an import started
        self._vm_clock = {}  # (migration uid, moref) -> ticks in current step
        self._booting = {}  # (ns, vmi name) -> ticks
        self._dv_ticks = {}  # (ns, DataVolume name) -> ticks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _loop(self):
        while not self._stop.wait(self.tick):
            with self.store.lock:
                self._forklift()
                self._kubevirt()
                self._boot()

    # -- Forklift ------------------------------------------------------------------------------
    def _forklift(self):
        plan_kind, mig_kind = self.double.by_kind("Plan"), self.double.by_kind("Migration")
        for mig in self.store.live("Migration"):
            status = mig.get("status") or {}
            if any(
                c["type"] in ("Succeeded", "Failed", "Canceled") and c["status"] == "True"
                for c in status.get("conditions") or []
            ):
                continue
            ns = mig["metadata"]["namespace"]
            plan = self.store.objects.get(("Plan", ns, mig["spec"]["plan"]["name"]))
            if plan is None:
                continue
            status = self._advance(mig, plan, status)
            self.store.set_status(mig_kind, ns, mig["metadata"]["name"], status)
            plan_status = {
                "conditions": status["conditions"],
                "migration": {
                    "started": status["started"],
                    "vms": status["vms"],
                    **({"completed": status["completed"]} if "completed" in status else {}),
                },
            }
            self.store.set_status(plan_kind, ns, plan["metadata"]["name"], plan_status)

    def _advance(self, mig, plan, status):
        status = copy.deepcopy(status)
        uid = mig["metadata"]["uid"]
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
            self._advance_vm(uid, vm, plan)
        done = [vm for vm in status["vms"] if "completed" in vm]
        if len(done) == len(status["vms"]):
            failed = any(_true(vm, "Failed") for vm in done)
            any_canceled = any(_true(vm, "Canceled") for vm in done)
            final = "Failed" if failed else ("Canceled" if any_canceled else "Succeeded")
            status["completed"] = now()
            status["conditions"] = [_cond(final, f"The migration has {final.lower()}.")]
        return status

    def _advance_vm(self, uid, vm, plan):
        key = (uid, vm["id"])
        step = next(s for s in vm["pipeline"] if s["phase"] != "Completed")
        if step["phase"] == "Pending":
            step.update(phase="Running", started=now())
            vm["phase"] = PHASE_OF_STEP[step["name"]]
            self._vm_clock[key] = 0
            return
        self._vm_clock[key] += 1
        ticks = self._vm_clock[key]
        if self.fail.get(vm["id"]) == step["name"] and ticks >= 2:
            reasons = [
                f"Import of disk [datastore1] {vm['name']}/{vm['name']}.vmdk failed: nbdkit: VDDK error"
            ]
            step.update(error={"phase": vm["phase"], "reasons": reasons})
            vm.update(
                error={"phase": vm["phase"], "reasons": reasons},
                phase="Completed",
                completed=now(),
                conditions=[_cond("Failed", "The VM migration has FAILED.")],
            )
            return
        if step["name"] == "DiskTransfer":
            step["progress"]["completed"] = min(
                step["progress"]["total"], step["progress"]["total"] * ticks // self.transfer_ticks
            )
            if ticks < self.transfer_ticks:
                return
        step.update(phase="Completed", completed=now())
        if step["progress"]["total"] and step["name"] != "DiskTransfer":
            step["progress"]["completed"] = step["progress"]["total"]
        if step["name"] == "VirtualMachineCreation":
            self._create_forklift_vm(vm, plan)
            vm.update(
                phase="Completed",
                completed=now(),
                conditions=[_cond("Succeeded", "The VM migration has SUCCEEDED.")],
            )

    def _create_forklift_vm(self, vm, plan):
        ns, name = plan["spec"]["targetNamespace"], vm["name"]
        vm_kind = self.double.by_kind("VirtualMachine")
        if self.store.get(vm_kind, ns, name) is None:
            self.store.create(
                vm_kind,
                ns,
                {
                    "metadata": {"name": name, "labels": {"vmID": vm["id"]}},
                    "spec": {"runStrategy": "Always", "template": {"spec": {}}},
                },
            )
        self._start_vmi(ns, name, {"vmID": vm["id"]})

    # -- KubeVirt / CDI ------------------------------------------------------------------------
    def _kubevirt(self):
        dv_kind = self.double.by_kind("DataVolume")
        vmi_kind = self.double.by_kind("VirtualMachineInstance")
        for vm in self.store.live("VirtualMachine"):
            meta, spec = vm["metadata"], vm["spec"]
            ns, name = meta["namespace"], meta["name"]
            templates = spec.get("dataVolumeTemplates") or []
            if not templates:
                continue  # created by the Forklift double
            dvs = []
            for t in templates:
                dv = self.store.get(dv_kind, ns, t["metadata"]["name"])
                if dv is None:
                    dv = self.store.create(
                        dv_kind,
                        ns,
                        {
                            "metadata": {
                                "name": t["metadata"]["name"],
                                "ownerReferences": [
                                    {
                                        "apiVersion": "kubevirt.io/v1",
                                        "kind": "VirtualMachine",
                                        "name": name,
                                        "uid": meta["uid"],
                                        "controller": True,
                                    }
                                ],
                            },
                            "spec": t["spec"],
                            "status": {"phase": "ImportScheduled", "progress": "N/A"},
                        },
                    )
                    self.imports_started[t["metadata"]["name"]] += 1
                dvs.append(self._advance_dv(dv_kind, dv, name))
            running = spec.get("runStrategy") in ("Always", "RerunOnFailure")
            vmi = self.store.get(vmi_kind, ns, name)
            if running and vmi is None and all(d == "Succeeded" for d in dvs):
                labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
                self._start_vmi(ns, name, labels)
            elif not running and vmi is not None:
                self.store.delete(vmi_kind, ns, name)

    def _advance_dv(self, dv_kind, dv, vm_name):
        status = dict(dv.get("status") or {})
        phase = status.get("phase")
        if phase in ("Succeeded", "Failed"):
            return phase
        key = (dv["metadata"]["namespace"], dv["metadata"]["name"])
        ticks = self._dv_ticks.get(key, 0) + 1
        self._dv_ticks[key] = ticks
        if self.fail.get(vm_name) == "DataVolume" and ticks >= 2:
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
        else:
            status.update(phase="ImportInProgress", progress=f"{100.0 * ticks / self.transfer_ticks:.2f}%")
        self.store.set_status(dv_kind, dv["metadata"]["namespace"], dv["metadata"]["name"], status)
        return status["phase"]

    def _start_vmi(self, ns, name, labels):
        vmi_kind = self.double.by_kind("VirtualMachineInstance")
        if self.store.get(vmi_kind, ns, name) is None:
            self.store.create(
                vmi_kind,
                ns,
                {"metadata": {"name": name, "labels": labels}, "spec": {}, "status": {"phase": "Scheduling"}},
            )
            self._booting[(ns, name)] = 0

    def _boot(self):
        vmi_kind = self.double.by_kind("VirtualMachineInstance")
        for (ns, name), ticks in list(self._booting.items()):
            self._booting[(ns, name)] = ticks + 1
            conditions = [{"type": "Ready", "status": "True"}]
            if ticks + 1 >= self.boot_ticks:
                if name not in self.no_agent:
                    conditions.append({"type": "AgentConnected", "status": "True"})
                del self._booting[(ns, name)]
            self.store.set_status(vmi_kind, ns, name, {"phase": "Running", "conditions": conditions})


def _step(name):
    total = 10240 if name == "DiskTransfer" else 1
    return {
        "name": name,
        "description": name,
        "phase": "Pending",
        "progress": {"completed": 0, "total": total},
    }


def _cond(kind, message):
    return {
        "type": kind,
        "status": "True",
        "category": "Advisory" if kind == "Executing" else "Required",
        "message": message,
        "lastTransitionTime": now(),
    }


def _true(vm, kind):
    return any(c["type"] == kind and c["status"] == "True" for c in vm.get("conditions") or [])
