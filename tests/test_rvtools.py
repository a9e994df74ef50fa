"""RVTools import of the real 4.7.1.4 export: exact counts, values, CSV folder form, CLI."""

import csv
import datetime as dt
import json
import subprocess
import sys

import pandas as pd
import pytest
import python_calamine
from typer.testing import CliRunner

from assess.cli import app
from assess.collect.rvtools import read_rvtools
from assess.model import Estate

REAL = "data/rvtools/rvtools-4.7.1.4-133vms.xlsx"
VCENTER = "b4509789-2388-4298-aee8-97cf83caf1ba"


@pytest.fixture(scope="module")
def real_path(shared):
    return shared / REAL


@pytest.fixture(scope="module")
def real(real_path):
    return read_rvtools([real_path])


def test_real_export_counts(real):
    # Hand-counted in the workbook (data rows under the header of each sheet):
    # vInfo 133 rows; vDisk 246; vPartition 682; vNetwork 179; vSnapshot 201; vHost 9;
    # vCluster 3; vDatastore 15; vCD 118 CD/DVD drives; vUSB 0 rows.
    # networks: vPort has 151 rows = 68 distinct (switch, port group) pairs across 9 hosts,
    # plus 19 dvPort port groups -> 87. attributes: 3 custom columns x 133 VMs = 399.
    counts = real.counts()
    assert counts["vms"] == 133
    assert counts["disks"] == 246
    assert counts["partitions"] == 682
    assert counts["nics"] == 179
    assert counts["snapshots"] == 201
    assert counts["hosts"] == 9
    assert counts["clusters"] == 3
    assert counts["datastores"] == 15
    assert counts["networks"] == 68 + 19
    assert counts["devices"] == 118
    assert counts["attributes"] == 3 * 133
    assert counts["affinity_rules"] == 0  # 'Cluster rule name(s)' is empty on all 133 rows
    assert real.warnings.empty, real.warnings["message"].tolist()


def test_real_export_vm_values(real):
    vms = real["vms"]
    # Powerstate column: 116 'poweredOn', 17 'poweredOff'; no templates or SRM placeholders.
    assert vms["power_state"].value_counts().to_dict() == {"poweredOn": 116, "poweredOff": 17}
    assert not vms["template"].any() and not vms["srm_placeholder"].any()
    # Firmware: 67 bios, 66 efi; CBT 'TRUE' on 106 rows, empty (unset = off) on 27;
    # EnableUUID 'TRUE' on 15 rows, empty on 118.
    assert vms["firmware"].value_counts().to_dict() == {"bios": 67, "efi": 66}
    assert vms["cbt_enabled"].sum() == 106 and vms["cbt_enabled"].notna().all()
    assert vms["disk_enable_uuid"].sum() == 15
    assert vms["vm_id"].is_unique
    assert vms["vm_id"].str.startswith(VCENTER + "/vm-").all()
    vm = vms.set_index("vm_id").loc[f"{VCENTER}/vm-218"]
    # vInfo row 2: D-CUSTOM-01, 8 CPUs, 12288 MiB, HW 21, created 2023-03-06 10:30,
    # Provisioned 484603 MiB; vCPU 'Cores p/s' 1; vTools 'Tools Version' 12389.
    assert vm["name"] == "D-CUSTOM-01"
    assert (vm["vcpus"], vm["cores_per_socket"], vm["memory_mib"]) == (8, 1, 12288.0)
    assert vm["hw_version"] == 21 and vm["provisioned_mib"] == 484603.0
    assert vm["created_at"] == pd.Timestamp("2023-03-06 10:30", tz="UTC")
    assert vm["tools_status"] == "toolsOk" and vm["tools_version"] == "12389"
    assert vm["instance_uuid"] == "5034ec9f-fe95-9c95-240a-ac7c2a49b3a7"
    assert vm["folder"] == "/USFQ/Discovered virtual machine"  # from vCPU: vInfo's is empty
    # Total vCPUs over vInfo 'CPUs' and memory sum, cross-checked with a bare calamine read.
    rows = python_calamine.CalamineWorkbook.from_path(real.provenance[0]["path"]) \
        .get_sheet_by_name("vInfo").to_python()
    cpus = sum(r[rows[0].index("CPUs")] for r in rows[1:])
    assert vms["vcpus"].sum() == cpus


def test_real_export_keeps_custom_attributes(real):
    attrs = real["attributes"]
    assert set(attrs["name"]) == {"Backup status", "ClusterInvariantVMMId", "Last backup"}
    per_vm = attrs.groupby("vm_id")["name"].nunique()
    assert len(per_vm) == 133 and (per_vm == 3).all()
    # 'Backup status' column: 95 'OK', 12 'Error', 26 empty.
    status = attrs[attrs["name"] == "Backup status"]["value"]
    assert status.value_counts().to_dict() == {"OK": 95, "Error": 12}
    assert status.isna().sum() == 26
    one = attrs[attrs["vm_id"] == f"{VCENTER}/vm-218"].set_index("name")["value"]
    assert one["Last backup"] == "2025-12-16 23:04:30"
    assert one["ClusterInvariantVMMId"] == "243acbad-80d9-4bee-8661-749837454386"


def test_real_export_children_and_inventory(real):
    disks = real["disks"]
    first = disks[disks["vm_id"] == f"{VCENTER}/vm-218"].iloc[0]
    assert (first["disk_key"], first["capacity_mib"], first["datastore"]) == \
        ("2000", 112647.0, "FS1-T-ESX-VM-01")
    assert set(disks["disk_mode"]) == {"persistent", "independent_nonpersistent"}
    assert set(real["devices"]["kind"]) == {"cdrom"}
    hosts = real["hosts"].set_index("name")
    # vHost p-esx-01: 2 x 18 cores = 36, 2300 MHz, 784897 MiB, HT not active -> 36 threads.
    h = hosts.loc["p-esx-01.usfq.edu.ec"]
    assert (h["sockets"], h["cores"], h["threads"], h["cpu_mhz"]) == (2, 36, 36, 2300.0)
    assert h["host_id"] == f"{VCENTER}/host-522"
    clusters = real["clusters"].set_index("name")
    assert clusters.loc["USFQ-PRODUCCION", "cores"] == 144
    assert clusters.loc["USFQ-PRODUCCION", "datacenter"] == "USFQ"
    nets = real["networks"]
    dv = nets[nets["network_id"] == f"{VCENTER}/dvportgroup-1642"].iloc[0]
    assert (dv["name"], dv["vlan"], dv["kind"]) == ("V-CAMARAS-161", "161", "distributed")
    prov = real.provenance[0]
    assert prov["tool_version"] == "4.7.1.4" and prov["vcenter_version"] == "8.0.2"
    assert prov["vcenter_uuid"] == VCENTER and prov["absent_sheets"] == []


def _to_csv_folder(xlsx, folder):
    """Write every sheet as RVTools' 'export all to CSV' does: RVTools_tab<sheet>.csv."""
    folder.mkdir()
    workbook = python_calamine.CalamineWorkbook.from_path(str(xlsx))
    for name in workbook.sheet_names:
        rows = workbook.get_sheet_by_name(name).to_python()
        with open(folder / f"RVTools_tab{name}.csv", "w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
            for row in rows:
                writer.writerow([_csv_cell(v) for v in row])


def _csv_cell(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y/%m/%d %H:%M:%S")
    return value


def test_csv_folder_reads_the_same_as_xlsx(real, real_path, tmp_path):
    _to_csv_folder(real_path, tmp_path / "csv")
    from_csv = read_rvtools([tmp_path / "csv"])
    assert from_csv.counts() == real.counts()
    assert from_csv.provenance[0]["format"] == "csv"
    for table in ("vms", "disks", "partitions", "nics", "snapshots", "attributes", "hosts"):
        pd.testing.assert_frame_equal(from_csv[table], real[table], check_exact=True)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "assess", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_cli_import_twice_merges_by_key(real_path, tmp_path):
    out = tmp_path / "estate"
    runner = CliRunner()
    args = ["import", "rvtools", str(real_path), "--out", str(out), "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["counts"]["vms"] == 133
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    counts = json.loads(second.stdout)["counts"]
    # Same file twice: every keyed row is replaced, nothing duplicated.
    assert (counts["vms"], counts["disks"], counts["snapshots"], counts["attributes"]) == \
        (133, 246, 201, 399)
    loaded = Estate.load(out)
    assert loaded["vms"]["vm_id"].is_unique and len(loaded["hosts"]) == 9


def test_cli_bad_input_exits_2_with_one_line(tmp_path):
    truncated = tmp_path / "cut.xlsx"
    truncated.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    for path, needle in ((tmp_path / "nope.xlsx", "no such file"),
                         (truncated, "cannot be read as an xlsx workbook")):
        result = _cli("import", "rvtools", path, "--out", tmp_path / "estate")
        assert result.returncode == 2
        assert needle in result.stderr and str(path.name) in result.stderr
        assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "estate").exists()
