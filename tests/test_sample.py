import gzip
import json

import pytest
from python_calamine import CalamineWorkbook

from assess.model import AssessError
from assess.sample import generate_sample
from assess.sample.layout import SHEETS

REAL = "data/rvtools/rvtools-4.7.1.4-133vms.xlsx"
REAL_ATTRIBUTES = {"Backup status", "ClusterInvariantVMMId", "Last backup", "AutoDeploy.MachineIdentity",
                   "com.vmware.vcenter.cluster.edrs.upgradeHostAdded"}
OURS = {"app", "env", "owner"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    paths = generate_sample(out, vms=150, seed=7)
    truth = json.loads(paths["ground_truth"].read_text())
    return paths, truth


def _sheet(path, name):
    rows = CalamineWorkbook.from_path(path).get_sheet_by_name(name).to_python()
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_same_seed_gives_same_files_and_other_seed_differs(sample, tmp_path):
    paths, truth = sample
    again = generate_sample(tmp_path / "a", vms=150, seed=7)
    for kind in ("rvtools", "utilization", "flows", "ground_truth"):
        assert again[kind].read_bytes() == paths[kind].read_bytes(), kind
    other = generate_sample(tmp_path / "b", vms=150, seed=8)
    assert json.loads(other["ground_truth"].read_text())["vms"] != truth["vms"]


def test_sheets_and_headers_match_the_real_export(sample, shared):
    paths, _ = sample
    real = CalamineWorkbook.from_path(shared / REAL)
    ours = CalamineWorkbook.from_path(paths["rvtools"])
    assert ours.sheet_names == real.sheet_names  # all 27, same order
    for name in real.sheet_names:
        real_header = real.get_sheet_by_name(name).to_python(nrows=1)[0]
        real_header = [c for c in real_header if c not in REAL_ATTRIBUTES]
        our_header = [c for c in ours.get_sheet_by_name(name).to_python(nrows=1)[0] if c not in OURS]
        assert our_header == real_header, name
    info = ours.get_sheet_by_name("vInfo").to_python(nrows=1)[0]
    # custom attributes sorted, right after Annotation, before Datacenter
    assert info[info.index("Annotation") + 1 : info.index("Datacenter")] == ["app", "env", "owner"]
    assert len(SHEETS) == 27


def test_counts_in_the_export_match_the_ground_truth(sample):
    paths, truth = sample
    counts = truth["counts"]
    assert counts["vms"] == 150 and counts["clusters"] == 3 and counts["vcenters"] == 1
    # hosts: max(8, round(150 / 40)) = 8
    assert counts["hosts"] == 8
    x = paths["rvtools"]
    assert len(_sheet(x, "vInfo")) == 150
    assert len(_sheet(x, "vHost")) == counts["hosts"]
    assert len(_sheet(x, "vCluster")) == 3
    assert len(_sheet(x, "vDisk")) == counts["disks"]
    assert len(_sheet(x, "vNetwork")) == counts["nics"]
    assert len(_sheet(x, "vSnapshot")) == counts["snapshots"]
    assert len(_sheet(x, "vPartition")) == counts["partitions"]
    assert len(_sheet(x, "vUSB")) == counts["usb_devices"] == len(truth["concerns"]["usb"])


def test_planted_concerns_are_in_the_export(sample):
    paths, truth = sample
    x, c = paths["rvtools"], truth["concerns"]
    info = {r["VM"]: r for r in _sheet(x, "vInfo")}
    disks = _sheet(x, "vDisk")
    rdm = {r["VM"]: r["Raw Comp. Mode"] for r in disks if r["Raw"] == "True"}
    assert set(rdm) == set(c["rdm"]) and set(rdm.values()) == {"physicalMode", "virtualMode"}
    shared = [r for r in disks if r["Sharing mode"] == "sharingMultiWriter"]
    assert {r["VM"] for r in shared} == set(c["shared_disk"]) and len({r["Path"] for r in shared}) == 1
    assert {r["VM"] for r in disks if r["Disk Mode"].startswith("independent")} == set(c["independent_disk"])
    assert {r["VM"] for r in _sheet(x, "vSnapshot")} == set(c["snapshots"])
    assert {n for n, r in info.items() if r["CBT"] != "TRUE"} == set(c["cbt_off"])
    assert {n for n, r in info.items() if r["Template"] == "True"} == set(c["template"])
    assert {n for n, r in info.items() if r["SRM Placeholder"] == "True"} == set(c["srm_placeholder"])
    assert {n for n, r in info.items() if r["EFI Secure boot"] == "True"} == set(c["secure_boot"])
    assert {n for n, r in info.items() if r["Fixed Passthru HotPlug"] == "True"} == set(c["pci_passthrough"])
    assert all("Windows 11" in info[n]["OS according to the configuration file"]
               or "2022" in info[n]["OS according to the configuration file"] for n in c["vtpm"])
    assert all(info[n]["Firmware"] == "efi" for n in c["vtpm"])
    full = {r["VM"] for r in _sheet(x, "vPartition") if r["Free MiB"] < 100}
    assert full == set(c["guest_fs_full"])
    cpu = {r["VM"]: r["Hot Add"] for r in _sheet(x, "vCPU")}
    assert {n for n, v in cpu.items() if v == "True"} == set(c["hot_add"])
    assert all(n != n.lower() for n in c["name_not_dns1123"])
    off = {n for n, r in info.items() if r["Powerstate"] == "poweredOff"}
    assert off == set(c["template"]) | set(c["srm_placeholder"]) | set(c["powered_off_long"])


def test_vms_without_a_concern_are_clean(sample):
    paths, truth = sample
    flagged = {n for names in truth["concerns"].values() for n in names}
    info = {r["VM"]: r for r in _sheet(paths["rvtools"], "vInfo")}
    tools = {r["VM"]: r["Tools"] for r in _sheet(paths["rvtools"], "vTools")}
    clean = set(info) - flagged
    assert len(clean) > 100
    for name in clean:
        r = info[name]
        state = (r["Powerstate"], r["CBT"], tools[name], r["EFI Secure boot"])
        assert state == ("poweredOn", "TRUE", "toolsOk", "False")
        assert name == name.lower()
        os = r["OS according to the configuration file"]
        assert any(k in os for k in ("Red Hat Enterprise Linux 8", "Red Hat Enterprise Linux 9", "Ubuntu",
                                     "Windows Server 2019", "Windows Server 2016")), os
    for p in _sheet(paths["rvtools"], "vPartition"):
        if p["VM"] in clean:
            assert p["Free %"] >= 25


def test_utilization_has_360_samples_per_vm_except_planted(sample):
    paths, truth = sample
    per_vm: dict[str, int] = {}
    metrics: dict[str, set] = {}
    with gzip.open(paths["utilization"], "rt") as f:
        assert f.readline() == "vm,timestamp,metric,value,interval_s\n"
        for line in f:
            vm, _ts, metric, _v, interval = line.rstrip("\n").split(",")
            assert interval == "7200"
            if metric == "cpu_usage_mhz":
                per_vm[vm] = per_vm.get(vm, 0) + 1
            metrics.setdefault(vm, set()).add(metric)
    by_uuid = {v["instance_uuid"]: n for n, v in truth["vms"].items()}
    u = truth["utilization"]
    for uuid, n in per_vm.items():
        assert n == u["samples"].get(by_uuid[uuid], 360)  # 30 days * 12 samples/day = 360
    partial = [n for n, k in u["samples"].items() if 0 < k < 360]
    assert len(partial) >= 3
    missing = {n for n, k in u["samples"].items() if k == 0}
    assert missing == set(truth["concerns"]["template"]) | set(truth["concerns"]["srm_placeholder"]) | set(
        truth["concerns"]["powered_off_long"])
    assert len(u["no_memory"]) == 2
    for name in u["no_memory"]:
        assert metrics[truth["vms"][name]["instance_uuid"]] == {"cpu_usage_mhz", "disk_kbps", "net_kbps"}


def test_idle_vms_are_idle_and_others_are_not(sample):
    import pandas as pd

    paths, truth = sample
    df = pd.read_csv(paths["utilization"])
    p95 = df[df.metric == "cpu_usage_mhz"].groupby("vm").value.quantile(0.95)
    by_uuid = {v["instance_uuid"]: n for n, v in truth["vms"].items()}
    idle = {by_uuid[u] for u, v in p95.items() if v <= 100}
    assert idle == set(truth["idle"]) and len(idle) >= 5  # max(5, 5% of 150 = 7.5 -> 8)


def test_flows_have_the_azure_migrate_layout_and_planted_links(sample):
    import csv

    paths, truth = sample
    with open(paths["flows"], newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["Time slot", "Source server name", "Source IP", "Source application",
                             "Source process", "Destination server name", "Destination IP",
                             "Destination application", "Destination process", "Destination port"]
    edges = {(r["Source server name"], r["Destination server name"], r["Destination port"]) for r in rows}
    assert len(edges) == truth["flows"]["edges"] and len(rows) == truth["flows"]["rows"]
    for app in truth["applications"].values():
        tiers = app["tiers"]
        for a in tiers.get("app", []):
            for d in tiers.get("db", []):
                assert (a, d, str(app["db_port"])) in edges
    dns = [n for n, s in truth["shared_services"].items() if s["service"] == "dns"]
    talkers = {s for s, d, p in edges if d in dns and p == "53"}
    assert len(talkers) >= 0.8 * (150 - len(truth["idle"]) - 5)  # nearly every powered-on, non-idle VM
    assert any(r["Source server name"] == "" and r["Source IP"].startswith("203.0.113.") for r in rows)


def test_too_small_estate_is_refused(tmp_path):
    with pytest.raises(AssessError, match="at least 100"):
        generate_sample(tmp_path, vms=50)


def test_rvtools_import_gets_the_ground_truth_counts(sample):
    from assess.collect.rvtools import read_rvtools

    paths, truth = sample
    estate = read_rvtools([paths["rvtools"]])
    c = truth["counts"]
    assert len(estate["vms"]) == c["vms"]
    assert len(estate["hosts"]) == c["hosts"]
    assert len(estate["clusters"]) == c["clusters"]
    assert len(estate["disks"]) == c["disks"]
    assert len(estate["nics"]) == c["nics"]
    assert len(estate["snapshots"]) == c["snapshots"]
    vm_ids = set(estate["vms"]["vm_id"])
    assert vm_ids == {v["vm_id"] for v in truth["vms"].values()}
