"""migration-planner's RVTools end-to-end cases, re-created, and the facts of its example1.xlsx.

The workbooks mirror the builders of kubev2v/migration-planner ``test/e2e/utils/rvtools.go``
(valid, vInfo only, large, example, multi-cluster, different cluster sizes, concerns) and its
corrupt / empty uploads; each test asserts what migration-planner's e2e tests assert. Values
are written as text cells, as those builders write them.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
import python_calamine
import xlsxwriter

from assess.collect.rvtools import read_rvtools
from assess.model import AssessError
from assess.readiness import assess_readiness

EXAMPLE1 = "data/rvtools/migration-planner-e2e-example1-9vms.xlsx"
VINFO = ["VM", "VM ID", "VI SDK UUID", "Host", "CPUs", "Memory", "Powerstate", "Cluster"]
VHOST = ["Datacenter", "Cluster", "# Cores", "# CPU", "Object ID", "# Memory", "Model", "Vendor",
         "Host", "Config status"]
VDATASTORE = ["Hosts", "Address", "Name", "Object ID", "Free MiB", "MHA", "Capacity MiB", "Type"]


def host(n: int, cluster: str = "cluster1", cores: str = "4", memory: str = "16384") -> list[str]:
    return ["datacenter1", cluster, cores, "2", f"host-00{n}", memory, "ESXi", "VMware", f"esxi-host-{n}",
            "green"]


def datastore(n: int, free: str = "524288", capacity: str = "1048576") -> list[str]:
    return [f"esxi-host-{n}", f"10.0.0.{n}", f"datastore{n}", f"datastore-00{n}", free, "false", capacity,
            "VMFS"]


def workbook(path, sheets: dict[str, list[list[str]]]):
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            sheet.write_row(r, 0, row)  # text cells, as excelize SetCellValue with strings
    book.close()
    return path


def valid(path):
    return workbook(path, {
        "vInfo": [VINFO,
                  ["test-vm-1", "vm-001", "12345678-1234-1234-1234-123456789abc", "esxi-host-1", "4", "8192",
                   "poweredOn", "cluster1"],
                  ["test-vm-2", "vm-002", "87654321-4321-4321-4321-210987654321", "esxi-host-2", "2", "4096",
                   "poweredOff", "cluster1"]],
        "vHost": [VHOST, host(1), host(2)],
        "vDatastore": [VDATASTORE, datastore(1)],
    })


def assess(path):
    estate = read_rvtools([path])
    return estate, assess_readiness(estate)


def test_valid_workbook_counts(tmp_path):
    estate, result = assess(valid(tmp_path / "valid.xlsx"))
    vms = estate["vms"]
    assert len(vms) == 2
    assert vms["power_state"].value_counts().to_dict() == {"poweredOn": 1, "poweredOff": 1}
    assert len(estate["hosts"]) == 2 and len(estate["datastores"]) >= 1
    assert vms["vcpus"].sum() == 6
    assert vms["memory_mib"].sum() / 1024 == 12
    overcommit = result.tables["cluster_overcommit"].iloc[0]
    # 6 vCPUs on 2 hosts x 4 cores; 12 GiB on 2 x 16 GiB
    assert (overcommit["cpu_overcommit"], overcommit["memory_overcommit"]) == (0.75, 0.38)


def test_workbook_with_only_vinfo_and_a_minimal_vhost_is_accepted(tmp_path):
    path = workbook(tmp_path / "only.xlsx", {
        "vInfo": [["VM", "VM ID", "VI SDK UUID", "Host", "Cluster", "Powerstate"],
                  ["test-vm-1", "vm-001", "12345678-1234-1234-1234-123456789abc", "esxi-host-1", "cluster1",
                   "poweredOn"]],
        "vHost": [VHOST, host(1)],
    })
    estate, result = assess(path)
    assert len(estate["vms"]) == 1
    readiness = result.tables["readiness"].iloc[0]
    # no CPUs or memory anywhere: kept, excluded with the reason (never sized with NaN)
    assert (readiness["verdict"], readiness["excluded_reason"][:13]) == ("excluded", "No allocation")


def test_large_workbook_of_1000_vms(tmp_path):
    rows = [VINFO] + [[f"test-vm-{i}", f"vm-{i:03d}", f"12345678-1234-1234-1234-{i:012d}", "esxi-host-1", "4",
                       "8192", "poweredOn", "cluster1"] for i in range(1000)]
    estate, result = assess(workbook(tmp_path / "large.xlsx", {"vInfo": rows, "vHost": [VHOST, host(1)]}))
    assert len(estate["vms"]) == 1000
    assert result.tables["cluster_overcommit"]["cpu_overcommit"].iloc[0] == 1000.0  # 4000 vCPU / 4 cores


def test_generated_example_with_dvport_is_accepted(tmp_path):
    path = valid(tmp_path / "example.xlsx")
    sheets = {n: [list(r) for r in python_calamine.CalamineWorkbook.from_path(str(path))
                  .get_sheet_by_name(n).to_python()] for n in ("vInfo", "vHost", "vDatastore")}
    sheets["dvSwitch"] = [["Name"], ["dvSwitch1"]]
    sheets["dvPort"] = [["Port", "Switch", "VLAN"], ["VM Network", "dvSwitch1", "100"]]
    estate, _ = assess(workbook(tmp_path / "example1.xlsx", sheets))
    assert len(estate["vms"]) == 2
    assert estate["networks"]["name"].tolist() == ["VM Network"]


def multi_cluster(path, counts: dict[str, int], object_ids: dict[str, str]):
    rows, n = [VINFO + ["Datacenter"]], 0
    for cluster, count in counts.items():
        for _ in range(count):
            n += 1
            rows.append([f"vm-{cluster}-{n}", f"vm-{n:03d}", f"{n:08d}-1111-1111-1111-111111111111",
                         f"esxi-{cluster}", "4", "8192", "poweredOn", cluster, "datacenter1"])
    hosts = [VHOST] + [["datacenter1", c, "8", "2", f"host-{c}", "32768", "R740", "Dell", f"esxi-{c}",
                        "green"] for c in counts]
    clusters = [["Name", "Object ID"]] + [[c, object_ids[c]] for c in counts]
    return workbook(path, {"vInfo": rows, "vHost": hosts, "vCluster": clusters,
                           "vDatastore": [VDATASTORE, datastore(1)]})


def test_multi_cluster_totals(tmp_path):
    path = multi_cluster(tmp_path / "multi.xlsx", {"cluster1": 2, "cluster2": 2},
                         {"cluster1": "domain-c100", "cluster2": "domain-c200"})
    estate, result = assess(path)
    table = result.tables["cluster_overcommit"]
    assert len(estate["vms"]) == 4 and len(estate["clusters"]) == 2
    assert table["vms"].tolist() == [2, 2] and table["vms"].sum() == 4


def test_clusters_ordered_by_vm_count(tmp_path):
    counts = {"cluster-small": 1, "cluster-large": 5, "cluster-medium": 3}
    ids = {"cluster-large": "domain-c100", "cluster-medium": "domain-c200", "cluster-small": "domain-c300"}
    estate, result = assess(multi_cluster(tmp_path / "sizes.xlsx", counts, ids))
    table = result.tables["cluster_overcommit"]
    assert len(estate["vms"]) == 9 and len(estate["clusters"]) == 3
    assert table[["cluster", "vms"]].values.tolist() == [["cluster-large", 5], ["cluster-medium", 3],
                                                         ["cluster-small", 1]]
    assert estate["clusters"]["cluster_id"].nunique() == 3


def test_concerns_make_fewer_migratable_than_total(tmp_path):
    info = VINFO + ["Datacenter", "Template", "CBT", "Firmware"]
    uuid = "{0}{0}{0}{0}{0}{0}{0}{0}-1111-1111-1111-111111111111"
    disk = ["VM ID", "Disk Key", "Unit #", "Path", "Disk Path", "Capacity MiB", "Sharing mode", "Raw",
            "Shared Bus", "Disk Mode", "Disk UUID", "Thin", "Controller", "Label", "SCSI Unit #"]
    path = workbook(tmp_path / "concerns.xlsx", {
        "vInfo": [info,
                  ["vm-template", "vm-001", uuid.format(1), "esxi-host-1", "4", "8192", "poweredOff",
                   "cluster1", "datacenter1", "true", "true", "bios"],
                  ["vm-cbt-disabled", "vm-002", uuid.format(2), "esxi-host-1", "2", "4096", "poweredOn",
                   "cluster1", "datacenter1", "false", "false", "bios"],
                  ["vm-normal", "vm-003", uuid.format(3), "esxi-host-1", "4", "8192", "poweredOn", "cluster1",
                   "datacenter1", "false", "true", "bios"]],
        "vHost": [VHOST, host(1, cores="8", memory="32768")],
        "vDatastore": [VDATASTORE, datastore(1)],
        "vCluster": [["Name", "Object ID"], ["cluster1", "domain-c100"]],
        "vDisk": [disk, ["vm-003", "2000", "0", "[rdm-ds] vm-normal/rdm.vmdk", "rdm://disk-001", "102400",
                         "false", "true", "scsi0", "physical", "rdm-uuid-001", "false", "SCSI controller 0",
                         "Hard disk 1", "0"]],
    })
    estate, result = assess(path)
    readiness = result.tables["readiness"].set_index("name")
    concerns = result.tables["concerns"]
    assert len(readiness) == 3
    migratable = readiness["verdict"].isin(["ready", "ready_with_warnings"]).sum()
    assert migratable < len(readiness)
    assert readiness.loc["vm-template", "verdict"] == "excluded"
    fired = concerns[concerns["status"] == "fired"].merge(estate["vms"][["vm_id", "name"]], on="vm_id")
    by_vm = fired.groupby("name")["rule_id"].agg(set)
    assert "vmware.changed_block_tracking.disabled" in by_vm["vm-cbt-disabled"]
    # the vDisk row has only a VM ID: its RDM still lands on vm-normal
    assert "vmware.disk.rdm.detected" in by_vm["vm-normal"]


@pytest.mark.parametrize("content", [b"This is not an Excel file content", b""], ids=["corrupt", "empty"])
def test_corrupt_and_empty_files_are_refused_in_one_line(tmp_path, content):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    with pytest.raises(AssessError) as err:
        read_rvtools([path])
    assert "bad.xlsx" in str(err.value) and "\n" not in str(err.value)


# ---- example1.xlsx, the real (scrambled) export of migration-planner's e2e tests -------------

def _sheet(shared, name: str) -> pd.DataFrame:
    book = python_calamine.CalamineWorkbook.from_path(str(shared / EXAMPLE1))
    rows = book.get_sheet_by_name(name).to_python()
    frame = pd.DataFrame(rows[1:], columns=[str(h) for h in rows[0]])
    return frame[frame["VM"].astype(str) != ""]


def _owners(shared, sheet: str) -> pd.Series:
    """The vInfo VM name owning each row of ``sheet``: by VM ID when vInfo knows it, else by name."""
    info = _sheet(shared, "vInfo")
    by_id = {i: n for i, n in zip(info["VM ID"], info["VM"], strict=True) if i != ""}
    rows = _sheet(shared, sheet)
    ids = rows["VM ID"] if "VM ID" in rows else pd.Series("", index=rows.index)
    return ids.map(by_id).fillna(rows["VM"])


@pytest.fixture(scope="module")
def example1(shared):
    estate = read_rvtools([shared / EXAMPLE1])
    return estate, assess_readiness(estate)


def _per_vm(estate, table: str, value: str) -> dict:
    rows = estate[table].merge(estate["vms"][["vm_id", "name"]], on="vm_id")
    return rows.groupby("name")[value].agg(sorted).to_dict()


def test_example1_disks_and_partitions_by_vm_id(shared, example1):
    estate, _ = example1
    assert len(estate["vms"]) == 9
    for sheet, table, value, col in (("vDisk", "disks", "capacity_mib", "Capacity MiB"),
                                     ("vPartition", "partitions", "capacity_mib", "Capacity MiB")):
        rows = _sheet(shared, sheet)
        expected = rows.assign(owner=_owners(shared, sheet)).groupby("owner")[col].agg(
            lambda s: sorted(float(v) for v in s)).to_dict()
        assert _per_vm(estate, table, value) == expected, sheet
    # 6 of the 9 vDisk rows name another VM than their VM ID: counted, the VM ID wins
    renamed = estate.warnings[estate.warnings["code"] == "rvtools.row.name_mismatch"]
    assert renamed["message"].str.contains("sheet vDisk: 6 row").any()
    assert "vm-2" not in _per_vm(estate, "disks", "capacity_mib")  # vInfo: vm-2 owns no vDisk row


def test_example1_vm9_sized_from_vcpu_and_vmemory_and_no_nan(example1):
    estate, result = example1
    vms = estate["vms"].set_index("name")
    assert (vms.loc["vm-9", "vcpus"], vms.loc["vm-9", "memory_mib"]) == (18, 40960.0)
    assert not vms[["vcpus", "memory_mib"]].isna().any().any()
    readiness = result.tables["readiness"]
    assert not readiness["disk_gib"].isna().any()
    assert (readiness["verdict"] != "unknown").all()
    # vm-2 has no vDisk row: its size is vInfo's provisioned 4,332 MiB
    vm2 = readiness.set_index("name").loc["vm-2"]
    assert (vm2["storage_source"], vm2["disk_gib"]) == ("vInfo provisioned", round(4332 / 1024, 1))


def test_example1_hosts_networks_and_debian7_end_of_life(example1):
    estate, result = example1
    assert len(estate["hosts"]) == 7
    nics = estate["nics"].merge(estate["vms"][["vm_id", "name"]], on="vm_id")
    # no vNetwork sheet: vInfo 'Network #1' gives the 8 VMs that name a port group
    assert sorted(nics["name"]) == [f"vm-{i}" for i in range(1, 9)]
    assert set(nics["network"]) == {"VM Network", "Management Network"}
    readiness = result.tables["readiness"].set_index("name")
    assert readiness.loc["vm-5", "guest_os_tier"] == "end_of_life"  # Debian GNU/Linux 7
    concerns = result.tables["concerns"].merge(estate["vms"][["vm_id", "name"]], on="vm_id")
    eol = concerns[(concerns["rule_id"] == "vmware.os.end_of_life") & (concerns["status"] == "fired")]
    assert {"vm-3", "vm-5"} <= set(eol["name"])


def test_example1_sizing_sees_no_nan(example1):
    from assess.sizing import size_estate

    estate, result = example1
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        sizing = size_estate(estate, result.tables["readiness"]).tables["sizing"]
    assert len(sizing) == 9
