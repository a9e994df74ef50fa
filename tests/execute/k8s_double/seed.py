"""Seed the double with what an installed cluster has, and write small run folders to execute."""

from __future__ import annotations

import pandas as pd

from assess.model import Estate
from assess.model.results import StageResult
from assess.run import Run

VC = "5f82c2d9-cfeb-0fa3-21d7-d982f8bd1045"


def seed_cluster(
    double,
    namespaces=("migrated-vms", "openshift-mtv"),
    secret=("openshift-mtv", "vsphere-credentials"),
    storage_classes=("standard",),
    nodes=3,
    node_cpu="64",
    node_memory="256Gi",
    host_provider=True,
):
    s = double.store
    for ns in namespaces:
        s.create(double.by_kind("Namespace"), None, {"metadata": {"name": ns}, "status": {"phase": "Active"}})
    if secret:
        s.create(
            double.by_kind("Secret"),
            secret[0],
            {
                "metadata": {"name": secret[1]},
                "type": "Opaque",
                "data": {"user": "YWRtaW4=", "password": "c2VjcmV0"},
            },
        )
    for sc in storage_classes:
        s.create(
            double.by_kind("StorageClass"), None, {"metadata": {"name": sc}, "provisioner": "csi.example.com"}
        )
    for i in range(nodes):
        s.create(
            double.by_kind("Node"),
            None,
            {
                "metadata": {"name": f"worker-{i}"},
                "status": {
                    "allocatable": {"cpu": node_cpu, "memory": node_memory, "pods": "250"},
                    "capacity": {"cpu": node_cpu, "memory": node_memory, "pods": "250"},
                },
            },
        )
    if host_provider:
        s.create(
            double.by_kind("Provider"),
            "openshift-mtv",
            {"metadata": {"name": "host"}, "spec": {"type": "openshift"}},
        )


def write_run(
    folder,
    waves=3,
    per_wave=2,
    verdicts=None,
    tools=None,
    power=None,
    cpu=0.5,
    memory_mib=4096.0,
    method="cold",
):
    """A run folder with ``waves`` x ``per_wave`` VMs named vm-w<wave>-<i> (morefs vm-<n>)."""
    n = waves * per_wave
    ids = [f"{VC}/vm-{100 + i}" for i in range(n)]
    names = [f"app-w{i // per_wave + 1}-{i % per_wave}" for i in range(n)]
    vms = pd.DataFrame(
        {
            "vm_id": ids,
            "name": names,
            "moref": [f"vm-{100 + i}" for i in range(n)],
            "instance_uuid": [f"5000{i:04d}-0000-0000-0000-000000000000" for i in range(n)],
            "vcpus": [2] * n,
            "memory_mib": [memory_mib] * n,
            "firmware": ["bios"] * n,
            "secure_boot": [False] * n,
            "power_state": (power or {}).get("all", None) or ["poweredOn"] * n,
            "tools_status": [(tools or {}).get(nm, "toolsOk") for nm in names],
        }
    )
    disks = pd.DataFrame(
        {
            "vm_id": ids,
            "disk_key": ["2000"] * n,
            "capacity_mib": [10240.0] * n,
            "datastore": ["ds1"] * n,
            "file": [f"[ds1] {nm}/{nm}.vmdk" for nm in names],
            "sharing": ["sharingNone"] * n,
        }
    )
    nics = pd.DataFrame(
        {
            "vm_id": ids,
            "label": ["Network adapter 1"] * n,
            "network": ["VM Network"] * n,
            "mac": [f"00:50:56:00:{i // 256:02x}:{i % 256:02x}" for i in range(n)],
        }
    )
    readiness = pd.DataFrame(
        {
            "vm_id": ids,
            "name": names,
            "target_name": names,
            "method": [method] * n,
            "firmware": ["bios"] * n,
            "secure_boot": [False] * n,
            "needs_vtpm": [False] * n,
            "verdict": [(verdicts or {}).get(nm, "ready") for nm in names],
        }
    )
    sizing = pd.DataFrame(
        {
            "vm_id": ids,
            "instancetype": ["u1.medium"] * n,
            "preference": ["rhel.9"] * n,
            "cpu_request_cores": [cpu] * n,
            "pod_memory_mib": [memory_mib + 300] * n,
        }
    )
    wave_plan = pd.DataFrame(
        {
            "vm_id": ids,
            "wave": pd.array([i // per_wave + 1 for i in range(n)], dtype="Int64"),
            "reason": ["test"] * n,
        }
    )
    wave_rows = pd.DataFrame(
        {
            "wave": list(range(1, waves + 1)),
            "start": pd.date_range("2027-01-09 20:00", periods=waves, freq="7D", tz="UTC"),
        }
    )
    estate = Estate({"vms": vms, "disks": disks, "nics": nics})
    results = {
        "readiness": StageResult(tables={"readiness": readiness}),
        "sizing": StageResult(tables={"sizing": sizing}),
        "waves": StageResult(tables={"wave_plan": wave_plan, "waves": wave_rows}),
    }
    Run(estate, results).save(folder, report=False)
    return folder
