"""What needs no cluster: names, parameters, the offline preview, and what the manifests carry."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from assess.execute.manifests import build_manifests
from assess.execute.objects import LABEL, child_name, dns1123, unique_names
from assess.execute.params import ExecuteParams, StorageTarget
from assess.execute.runner import load_plan, plan_table
from assess.model import AssessError
from tests.execute.run_folder import write_run
from tests.schemas import validation_errors

ROOT = Path(__file__).resolve().parents[2]
THUMBPRINT = "20:6C:8A:5D:44:40:B3:79:4B:28:EA:76:13:60:90:6E:49:D9:D9:A3"


def _manifests(run, **params):
    estate, plan = load_plan(run)
    table = plan_table(estate, plan)
    return build_manifests(estate, table, ExecuteParams(**params), plan["pvcs"]), table


def _objects(manifests, kind):
    return [o for group in manifests.values() for o in group if o["kind"] == kind]


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=90), st.integers(min_value=0, max_value=30))
def test_generated_names_are_valid_labels(name, disk):
    label = dns1123(name)
    assert LABEL.match(label), label
    assert LABEL.match(child_name(label, f"disk{disk}"))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abc-_.AB", min_size=1, max_size=70), min_size=2, max_size=6, unique=True))
def test_distinct_vm_names_never_give_one_object_name(names):
    targets = unique_names([dns1123(n) for n in names], names)
    assert len(set(targets)) == len(names)
    dvs = [child_name(t, f"disk{i}") for t in targets for i in range(3)]
    assert len(set(dvs)) == len(dvs) and all(LABEL.match(d) for d in dvs)


@pytest.mark.parametrize("length", [60, 61, 62, 63])
def test_long_vm_names_with_three_disks_get_distinct_valid_datavolume_names(tmp_path, length):
    names = [("a" * (length - 2)) + f"-{i}" for i in range(2)]
    run = write_run(tmp_path / "run", waves=1, per_wave=2, names=names, disks_per_vm=3)
    manifests, _ = _manifests(run, backend="kubevirt")
    dvs = [
        t["metadata"]["name"]
        for vm in _objects(manifests, "VirtualMachine")
        for t in vm["spec"]["dataVolumeTemplates"]
    ]
    assert len(set(dvs)) == 6 and all(LABEL.match(d) for d in dvs)
    for vm in _objects(manifests, "VirtualMachine"):
        volumes = [v["dataVolume"]["name"] for v in vm["spec"]["template"]["spec"]["volumes"]]
        assert volumes == [t["metadata"]["name"] for t in vm["spec"]["dataVolumeTemplates"]]


def test_target_names_that_collide_are_made_unique(tmp_path):
    run = write_run(tmp_path / "run", waves=1, per_wave=3, names=["Web_01", "web-01", "web.01"])
    _, table = _manifests(run)
    assert table["target_name"].is_unique and all(LABEL.match(t) for t in table["target_name"])


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("provider_name", "Bad_Name!", "provider_name"),
        ("target_namespace", "Not A Namespace", "target_namespace"),
        ("provider_name", "../../x", "provider_name"),
        ("default_storage", {"storage_class": "Fast SSD"}, "default_storage.storage_class"),
    ],
)
def test_parameters_that_become_names_are_refused_in_one_line(tmp_path, option, value, field):
    run = write_run(tmp_path / "run")
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({option: value}))
    done = _cli(["execute", "plan", str(run), "--dry-run", "client", "--params", str(params)], tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"invalid executor parameters: {field}: the value" in lines[0]
    assert "Traceback" not in done.stderr


def _cli(args, home):
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST")}
    env |= {"HOME": str(home), "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "assess", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("backend", ["forklift", "kubevirt"])
def test_offline_preview_prints_the_objects_without_a_cluster(tmp_path, backend):
    run = write_run(tmp_path / "run")
    done = _cli(["execute", "plan", str(run), "--dry-run", "client", "--backend", backend], tmp_path)
    assert done.returncode == 0, done.stderr
    objects = list(yaml.safe_load_all(done.stdout))
    kinds = sorted({o["kind"] for o in objects})
    expected = (
        ["Migration", "NetworkMap", "Plan", "Provider", "StorageMap"]
        if backend == "forklift"
        else ["VirtualMachine"]
    )
    assert kinds == expected
    assert all(validation_errors(o) == [] for o in objects)
    assert "no cluster configured" in done.stderr


def test_offline_preview_writes_the_objects_to_a_folder(tmp_path):
    run = write_run(tmp_path / "run")
    done = _cli(["execute", "gitops", str(run), "--out", str(tmp_path / "out"), "--json"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["files"] == 9 + 4 + 1  # objects, one kustomization per group, the root
    assert (tmp_path / "out" / "wave-03" / "plan-assess-wave-03-cold.yaml").is_file()


def test_the_provider_url_comes_from_the_inventorys_vcenter(tmp_path):
    run = write_run(tmp_path / "run")
    manifests, _ = _manifests(run)
    assert _objects(manifests, "Provider")[0]["spec"]["url"] == "https://vc01.example.com/sdk"
    manifests, _ = _manifests(run, vsphere_url="https://vc-override.example.com/sdk")
    assert _objects(manifests, "Provider")[0]["spec"]["url"] == "https://vc-override.example.com/sdk"
    vms = pd.read_parquet(run / "tables" / "vms.parquet")
    vms.loc[0, "vcenter"] = "vc02.example.com"
    vms.to_parquet(run / "tables" / "vms.parquet")
    with pytest.raises(AssessError, match=r"from 2 vCenters \(vc01.example.com, vc02.example.com\)"):
        _manifests(run)


def test_storage_class_and_volume_mode_are_sizings_pvc_plan_unless_overridden(tmp_path):
    run = write_run(tmp_path / "run", storage_class="ceph-rbd")
    manifests, _ = _manifests(run, backend="kubevirt")
    storage = [
        t["spec"]["storage"]
        for vm in _objects(manifests, "VirtualMachine")
        for t in vm["spec"]["dataVolumeTemplates"]
    ]
    assert {(s["storageClassName"], s["volumeMode"]) for s in storage} == {("ceph-rbd", "Filesystem")}
    manifests, _ = _manifests(run)
    assert _objects(manifests, "StorageMap")[0]["spec"]["map"] == [
        {
            "source": {"name": "ds1"},
            "destination": {
                "storageClass": "ceph-rbd",
                "accessMode": "ReadWriteOnce",
                "volumeMode": "Filesystem",
            },
        }
    ]
    override = {"ds1": StorageTarget(storage_class="fast", volume_mode="Block")}
    manifests, _ = _manifests(run, storage=override)
    assert _objects(manifests, "StorageMap")[0]["spec"]["map"][0]["destination"]["storageClass"] == "fast"
    write_run(tmp_path / "old", with_pvcs=False)  # a run without the PVC plan: sizing's defaults
    run = tmp_path / "old"
    manifests, _ = _manifests(run)
    assert _objects(manifests, "StorageMap")[0]["spec"]["map"][0]["destination"]["storageClass"] == "default"


def test_a_custom_shape_gets_explicit_cpu_and_memory_and_no_instancetype(tmp_path):
    run = write_run(tmp_path / "run", waves=1, per_wave=2)
    sizing = pd.read_parquet(run / "tables" / "sizing.parquet")
    sizing["shape"] = ["instancetype", "custom"]
    sizing["guest_vcpus"] = [2, 6]
    sizing["guest_memory_mib"] = [4096.0, 12288.0]
    sizing.loc[1, "instancetype"] = None
    sizing.to_parquet(run / "tables" / "sizing.parquet")
    manifests, _ = _manifests(run, backend="kubevirt")
    vms = {o["metadata"]["name"]: o["spec"] for o in _objects(manifests, "VirtualMachine")}
    assert (
        vms["app-w1-0"]["instancetype"]["name"] == "u1.medium"
        and vms["app-w1-0"]["preference"]["name"] == "rhel.9"
    )
    custom = vms["app-w1-1"]
    assert "instancetype" not in custom and custom["preference"]["name"] == "rhel.9"
    domain = custom["template"]["spec"]["domain"]
    assert domain["cpu"] == {"sockets": 1, "cores": 6, "threads": 1} and domain["memory"] == {
        "guest": "12288Mi"
    }
    plan = _objects(_manifests(run)[0], "Plan")[0]
    assert plan["spec"]["vms"] == [
        {"id": "vm-100", "targetName": "app-w1-0", "instanceType": "u1.medium"},
        {"id": "vm-101", "targetName": "app-w1-1"},
    ]
