import pandas as pd
import pytest
import yaml

from assess.execute.gitops import write_tree
from assess.execute.manifests import build_manifests, migration_table
from assess.execute.params import ExecuteParams, NetworkTarget, StorageTarget
from assess.model import AssessError, Estate
from tests.schemas import validation_errors

VC = "vc-uuid"


def _estate():
    est = Estate()
    est["vms"] = pd.DataFrame(
        {
            "vm_id": [f"{VC}/vm-1", f"{VC}/vm-2", f"{VC}/vm-3", f"{VC}/vm-4", f"{VC}/vm-5", f"{VC}/vm-6"],
            "name": ["web01", "WIN11_Desk", "sql-a", "sql-b", "app01", "broken"],
            "moref": ["vm-1", "vm-2", "vm-3", "vm-4", "vm-5", "vm-6"],
            "instance_uuid": ["u1", "u2", "u3", "u4", "u5", "u6"],
            "vcpus": [2, 4, 4, 4, 48, 1],
            "memory_mib": [4096.0, 8192.0, 16384.0, 16384.0, 393216.0, 1024.0],
            "firmware": ["bios", "efi", "bios", "bios", "bios", "bios"],
            "secure_boot": [False, True, False, False, False, False],
            "vcenter": ["vc01.lab.example"] * 6,
        }
    )
    est["disks"] = pd.DataFrame(
        {
            "vm_id": [f"{VC}/vm-1", f"{VC}/vm-2", f"{VC}/vm-3", f"{VC}/vm-4", f"{VC}/vm-5", f"{VC}/vm-6"],
            "disk_key": ["2000"] * 6,
            "capacity_mib": [40960.0, 65536.0, 102400.0, 102400.0, 20480.5, 1024.0],
            "datastore": ["ds-fast", "ds-fast", "ds-shared", "ds-shared", "ds-slow", "ds-slow"],
            "file": [
                "[ds-fast] web01/web01.vmdk",
                "[ds-fast] WIN11/WIN11.vmdk",
                "[ds-shared] q/quorum.vmdk",
                "[ds-shared] q/quorum.vmdk",
                "[ds-slow] app01/app01.vmdk",
                "[ds-slow] b/b.vmdk",
            ],
            "sharing": [
                "sharingNone",
                "sharingNone",
                "sharingMultiWriter",
                "sharingMultiWriter",
                "sharingNone",
                "sharingNone",
            ],
        }
    )
    est["nics"] = pd.DataFrame(
        {
            "vm_id": [f"{VC}/vm-1", f"{VC}/vm-2", f"{VC}/vm-3", f"{VC}/vm-4", f"{VC}/vm-5"],
            "label": ["Network adapter 1"] * 5,
            "network": ["VM Network", "VLAN-120", "VM Network", "VM Network", "VLAN-120"],
            "mac": ["00:50:56:00:00:01", "00:50:56:00:00:02", None, None, None],
        }
    )
    return est


READINESS = pd.DataFrame(
    {
        "vm_id": [f"{VC}/vm-{i}" for i in range(1, 7)],
        "target_name": ["web01", "win11-desk", "sql-a", "sql-b", "app01", "broken"],
        "method": ["cold", "cold", "cold", "cold", "warm", "blocked"],
        "firmware": ["bios", "efi", "bios", "bios", "bios", "bios"],
        "secure_boot": [False, True, False, False, False, False],
        "needs_vtpm": [False, True, False, False, False, False],
        "verdict": [
            "ready",
            "ready_with_warnings",
            "ready_with_warnings",
            "ready_with_warnings",
            "ready",
            "not_ready",
        ],
    }
)
SIZING = pd.DataFrame(
    {
        "vm_id": [f"{VC}/vm-{i}" for i in range(1, 7)],
        "instancetype": ["u1.medium", "u1.large", "u1.xlarge", "u1.xlarge", None, None],
        "preference": ["rhel.9", "windows.11.virtio", "rhel.9", "rhel.9", "rhel.9", None],
    }
)
WAVE_PLAN = pd.DataFrame(
    {
        "vm_id": [f"{VC}/vm-{i}" for i in range(1, 7)],
        "wave": pd.array([1, 1, 2, 2, 2, None], dtype="Int64"),
        "reason": ["pilot", "pilot", "shared disk", "shared disk", "app", "remediate first: RDM"],
    }
)
WAVES = pd.DataFrame(
    {"wave": [1, 2], "start": pd.to_datetime(["2027-01-09 20:00", "2027-01-16 20:00"], utc=True)}
)
PARAMS = dict(
    plan_id="acme",
    networks={"VLAN-120": NetworkTarget(type="multus", name="vlan-120", vlan=120)},
    storage={"ds-slow": StorageTarget(storage_class="ceph-rbd", volume_mode="Filesystem")},
    default_storage=StorageTarget(storage_class="ceph-block"),
    vddk_init_image="registry.example.com/vddk:8.0.3",
    vddk_thumbprint="20:6C:8A:5D:44:40:B3:79:4B:28:EA:76:13:60:90:6E:49:D9:D9:A3",
    emit_network_attachments=True,
)


@pytest.fixture
def table():
    return migration_table(_estate(), READINESS, SIZING, WAVE_PLAN, WAVES)


@pytest.mark.parametrize("backend", ["forklift", "kubevirt", "gitops"])
def test_every_manifest_validates_against_the_real_schemas(table, backend):
    manifests = build_manifests(_estate(), table, ExecuteParams(backend=backend, **PARAMS))
    objects = [o for group in manifests.values() for o in group]
    assert objects
    for obj in objects:
        assert validation_errors(obj) == [], obj["metadata"]["name"]
        assert obj["metadata"]["labels"]["assess.io/plan"] == "acme"


def test_unplanned_vm_gets_no_manifest_but_stays_listed(table):
    assert table.loc[table["name"] == "broken", "reason"].item() == "remediate first: RDM"
    manifests = build_manifests(_estate(), table, ExecuteParams(backend="kubevirt", **PARAMS))
    names = [o["metadata"]["name"] for g in manifests.values() for o in g]
    assert "broken" not in names and sorted(manifests) == ["shared", "wave-01", "wave-02"]


def test_forklift_plans_split_cold_and_warm_and_carry_cutover(table):
    m = build_manifests(_estate(), table, ExecuteParams(**PARAMS))
    kinds = {(o["kind"], o["metadata"]["name"]) for o in m["wave-02"]}
    assert kinds == {
        ("Plan", "acme-wave-02-cold"),
        ("Migration", "acme-wave-02-cold"),
        ("Plan", "acme-wave-02-warm"),
        ("Migration", "acme-wave-02-warm"),
    }
    cold = next(
        o for o in m["wave-02"] if o["metadata"]["name"] == "acme-wave-02-cold" and o["kind"] == "Plan"
    )
    assert cold["spec"]["type"] == "cold" and cold["spec"]["migrateSharedDisks"] is True
    assert cold["spec"]["targetLabels"] == {"assess.io/plan": "acme", "assess.io/wave": "2"}
    assert cold["spec"]["vms"] == [
        {"id": "vm-3", "targetName": "sql-a", "instanceType": "u1.xlarge"},
        {"id": "vm-4", "targetName": "sql-b", "instanceType": "u1.xlarge"},
    ]
    warm_migration = next(
        o for o in m["wave-02"] if o["kind"] == "Migration" and "warm" in o["metadata"]["name"]
    )
    assert warm_migration["spec"]["cutover"] == "2027-01-16T20:00:00Z"
    cold_migration = next(
        o for o in m["wave-02"] if o["kind"] == "Migration" and "cold" in o["metadata"]["name"]
    )
    assert "cutover" not in cold_migration["spec"]
    netmap = next(o for o in m["shared"] if o["kind"] == "NetworkMap")
    assert netmap["spec"]["map"] == [
        {
            "source": {"name": "VLAN-120"},
            "destination": {"type": "multus", "name": "vlan-120", "namespace": "migrated-vms"},
        },
        {"source": {"name": "VM Network"}, "destination": {"type": "pod"}},
    ]
    provider = next(o for o in m["shared"] if o["kind"] == "Provider")
    assert provider["spec"]["secret"] == {"name": "vsphere-credentials", "namespace": "openshift-mtv"}
    assert "password" not in yaml.safe_dump(m).lower()


def test_kubevirt_vms_for_bios_linux_and_secure_boot_windows(table):
    m = build_manifests(_estate(), table, ExecuteParams(backend="kubevirt", **PARAMS))
    vms = {o["metadata"]["name"]: o for o in m["wave-01"]}
    web = vms["web01"]["spec"]
    assert web["instancetype"] == {"kind": "VirtualMachineClusterInstancetype", "name": "u1.medium"}
    assert "firmware" not in web["template"]["spec"]["domain"]
    dv = web["dataVolumeTemplates"][0]
    assert dv["spec"]["source"]["vddk"] == {
        "url": "https://vc01.lab.example/sdk",
        "uuid": "u1",
        "backingFile": "[ds-fast] web01/web01.vmdk",
        "thumbprint": PARAMS["vddk_thumbprint"],
        "secretRef": "vsphere-credentials",
        "initImageURL": "registry.example.com/vddk:8.0.3",
    }
    assert dv["spec"]["storage"]["resources"]["requests"]["storage"] == "40960Mi"
    assert dv["spec"]["storage"]["storageClassName"] == "ceph-block"
    win = vms["win11-desk"]["spec"]["template"]["spec"]
    assert win["domain"]["firmware"] == {"bootloader": {"efi": {"secureBoot": True, "persistent": True}}}
    assert win["domain"]["features"] == {"smm": {"enabled": True}}
    assert win["domain"]["devices"]["tpm"] == {"persistent": True}
    assert win["networks"] == [{"name": "net0", "multus": {"networkName": "migrated-vms/vlan-120"}}]
    assert win["domain"]["devices"]["interfaces"] == [
        {"name": "net0", "bridge": {}, "macAddress": "00:50:56:00:00:02"}
    ]


def test_vm_without_instancetype_gets_explicit_resources(table):
    m = build_manifests(_estate(), table, ExecuteParams(backend="kubevirt", **PARAMS))
    app = next(o for o in m["wave-02"] if o["metadata"]["name"] == "app01")
    domain = app["spec"]["template"]["spec"]["domain"]
    assert "instancetype" not in app["spec"]
    assert domain["cpu"] == {"sockets": 1, "cores": 48, "threads": 1}
    assert domain["memory"] == {"guest": "393216Mi"}
    # 20480.5 MiB rounds up to whole MiB; Filesystem mode on ds-slow's class
    storage = app["spec"]["dataVolumeTemplates"][0]["spec"]["storage"]
    assert storage["resources"]["requests"]["storage"] == "20481Mi" and storage["volumeMode"] == "Filesystem"


def test_vlan_network_attachment_is_a_bridge_with_the_vlan(table):
    m = build_manifests(_estate(), table, ExecuteParams(backend="kubevirt", **PARAMS))
    nad = next(o for o in m["shared"] if o["kind"] == "NetworkAttachmentDefinition")
    assert nad["metadata"]["name"] == "vlan-120"
    assert yaml.safe_load(nad["spec"]["config"]) | {} == {
        "bridge": "br1",
        "cniVersion": "0.3.1",
        "ipam": {},
        "name": "vlan-120",
        "type": "bridge",
        "vlan": 120,
    }


def test_gitops_tree_is_stable_releases_one_wave_at_a_time_and_prunes_old_waves(table, tmp_path):
    params = ExecuteParams(backend="gitops", **PARAMS)
    manifests = build_manifests(_estate(), table, params)
    write_tree(manifests, tmp_path)
    top = yaml.safe_load((tmp_path / "kustomization.yaml").read_text())
    assert top["resources"] == ["shared", "wave-01"]  # wave 2 is not applied until released
    wave1 = yaml.safe_load((tmp_path / "wave-01" / "kustomization.yaml").read_text())
    assert wave1["resources"] == ["migration-acme-wave-01-cold.yaml", "plan-acme-wave-01-cold.yaml"]
    first = {p: p.read_text() for p in tmp_path.rglob("*.yaml")}
    write_tree(manifests, tmp_path)
    assert {p: p.read_text() for p in tmp_path.rglob("*.yaml")} == first
    write_tree(manifests, tmp_path, waves=[2])  # release wave 2
    assert yaml.safe_load((tmp_path / "kustomization.yaml").read_text())["resources"] == [
        "shared",
        "wave-01",
        "wave-02",
    ]
    write_tree(manifests, tmp_path)  # a re-plan keeps what was released
    assert yaml.safe_load((tmp_path / "kustomization.yaml").read_text())["resources"][-1] == "wave-02"
    write_tree({k: v for k, v in manifests.items() if k != "wave-02"}, tmp_path)
    assert not (tmp_path / "wave-02").exists()


def test_gitops_rewrite_deletes_only_its_own_files(table, tmp_path):
    manifests = build_manifests(_estate(), table, ExecuteParams(backend="gitops", **PARAMS))
    (tmp_path / "README.md").write_text("ours, not assess's")
    (tmp_path / "wave-02").mkdir()
    (tmp_path / "wave-02" / "notes.yaml").write_text("kept: true\n")
    write_tree(manifests, tmp_path)  # a non-empty folder: no traceback, foreign files untouched
    write_tree({k: v for k, v in manifests.items() if k != "wave-02"}, tmp_path)
    assert (tmp_path / "README.md").read_text() == "ours, not assess's"
    assert [p.name for p in (tmp_path / "wave-02").iterdir()] == ["notes.yaml"]


def test_gitops_refuses_to_overwrite_a_file_it_did_not_write(table, tmp_path):
    manifests = build_manifests(_estate(), table, ExecuteParams(backend="gitops", **PARAMS))
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "kustomization.yaml").write_text("someone: else\n")
    with pytest.raises(AssessError, match="would overwrite 1 file.*shared/kustomization.yaml"):
        write_tree(manifests, tmp_path)
    assert (tmp_path / "shared" / "kustomization.yaml").read_text() == "someone: else\n"


def test_schema_check_catches_a_misspelled_field():
    bad = {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {},
        "spec": {"template": {"spec": {"domain": {"devices": {"diskz": []}}}}},
    }
    assert any("diskz" in e for e in validation_errors(bad))


def test_gitops_releases_waves_in_numeric_order_and_refuses_a_wave_the_plan_lacks():
    from assess.execute.gitops import released_waves

    groups = ["shared", *(f"wave-{w:02d}" for w in range(1, 101))]
    assert released_waves(groups, [], [100])[-2:] == ["wave-99", "wave-100"]
    assert len(released_waves(groups, [], [100])) == 100
    assert released_waves(groups, ["wave-01", "wave-02"], None) == ["wave-01", "wave-02"]
    with pytest.raises(AssessError, match="--wave 101: not a wave of the plan"):
        released_waves(groups, [], [101])


def test_gitops_write_waits_for_another_writer_then_says_busy_in_one_line(table, tmp_path, monkeypatch):
    """A second writer of the same tree waits ASSESS_LOCK_WAIT seconds, then stops (never hangs)."""
    import fcntl
    import time

    from assess.execute.gitops import LOCK
    from assess.model import AssessError

    manifests = build_manifests(_estate(), table, ExecuteParams(backend="gitops", **PARAMS))
    monkeypatch.setenv("ASSESS_LOCK_WAIT", "0.3")
    with (tmp_path / LOCK).open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as another assess process writing the tree would
        began = time.monotonic()
        with pytest.raises(AssessError, match=r"GitOps tree busy: another assess process is using it"):
            write_tree(manifests, tmp_path)
        assert time.monotonic() - began < 5
    assert not (tmp_path / "kustomization.yaml").exists()
    write_tree(manifests, tmp_path)  # once released it writes
    assert (tmp_path / "kustomization.yaml").exists()
