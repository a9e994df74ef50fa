"""The real RVTools 4.7 export edited the ways real exports differ: every variant imports.

Each test builds its variant from the real export's sheets (see ``rvtools_real``), imports it and
runs readiness; the expectations are counted from the sheets themselves.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from rvtools_real import column, drop_column, real_sheets, write_workbook

from assess.collect.rvtools import read_rvtools
from assess.readiness import assess_readiness

VMS = 133
IDENTITY = ("VI SDK Server", "VI SDK UUID", "VM UUID", "VM ID")


def vdisk_mib(sheets) -> float:
    rows = sheets["vDisk"]
    i = column(rows, "Capacity MiB")
    return float(sum(r[i] for r in rows[1:] if isinstance(r[i], (int, float))))


def run(tmp_path, sheets, name="variant.xlsx"):
    estate = read_rvtools([write_workbook(tmp_path / name, sheets)])
    return estate, assess_readiness(estate).tables["readiness"]


@pytest.fixture(scope="module")
def original(shared, tmp_path_factory):
    sheets = real_sheets(shared)
    estate, readiness = run(tmp_path_factory.mktemp("orig"), sheets)
    return sheets, estate, readiness


def test_original_storage_is_the_vdisk_sum(original):
    sheets, estate, readiness = original
    assert len(estate["vms"]) == VMS
    assert readiness["disk_gib"].sum() == pytest.approx(vdisk_mib(sheets) / 1024, abs=0.1 * VMS)
    assert set(readiness["storage_source"]) == {"vDisk"}


def test_3x_export_without_vi_sdk_server_but_with_drs_rules(shared, tmp_path):
    sheets = {name: drop_column(rows, "VI SDK Server") for name, rows in real_sheets(shared).items()}
    info = sheets["vInfo"]
    kinds, names = column(info, "Cluster rule(s)"), column(info, "Cluster rule name(s)")
    for row in info[1:4]:
        row[kinds], row[names] = "ClusterAntiAffinityRuleSpec", "keep-apart"
    estate, readiness = run(tmp_path, sheets)
    assert len(estate["vms"]) == VMS
    rules = estate["affinity_rules"]
    assert len(rules) == 3 and set(rules["kind"]) == {"vm_anti_affinity"}
    assert readiness["disk_gib"].sum() > 0


def test_edited_vpartition_header_keeps_the_sheet(shared, tmp_path, original):
    sheets = real_sheets(shared)
    sheets["vPartition"][0][0] = "Machine"
    estate, _ = run(tmp_path, sheets)
    assert len(estate["vms"]) == VMS
    # the rows keep their VMs through VM ID / VM UUID, which the sheet still has
    assert len(estate["partitions"]) == len(original[1]["partitions"]) == 682
    assert (estate["partitions"]["vm_id"] == original[1]["partitions"]["vm_id"]).all()
    # with no identity column left, the first column is taken as the VM name, with a warning
    for header in ("VM ID", "VM UUID", "VI SDK UUID", "VI SDK Server"):
        sheets["vPartition"] = drop_column(sheets["vPartition"], header)
    estate, _ = run(tmp_path, sheets, "no-ids.xlsx")
    assert len(estate["partitions"]) == 682
    assert set(estate["partitions"]["vm_id"]) == set(original[1]["partitions"]["vm_id"])
    assert "rvtools.header.vm_by_position" in estate.warnings["code"].tolist()


def test_without_vdisk_storage_comes_from_vinfo_provisioned(shared, tmp_path):
    sheets = real_sheets(shared)
    del sheets["vDisk"]
    info = sheets["vInfo"]
    provisioned = sum(r[column(info, "Provisioned MiB")] for r in info[1:])
    estate, readiness = run(tmp_path, sheets)
    assert len(estate["vms"]) == VMS and estate["disks"].empty
    assert set(readiness["storage_source"]) == {"vInfo provisioned"}
    assert readiness["disk_gib"].sum() == pytest.approx(provisioned / 1024, abs=0.1 * VMS)
    assert (readiness["verdict"] != "unknown").all()


def test_vdisk_names_differing_from_vinfo_keep_their_disks_by_vm_id(shared, tmp_path, original):
    sheets = real_sheets(shared)
    disk = sheets["vDisk"]
    names = [r[0] for r in disk[1:]]
    rotated = names[1:] + names[:1]  # every row now names another VM (same VM ID as before)
    for row, name in zip(disk[1:], rotated, strict=True):
        row[0] = name
    estate, readiness = run(tmp_path, sheets)
    before = original[2].set_index("vm_id")["disk_gib"]
    after = readiness.set_index("vm_id")["disk_gib"]
    assert len(estate["vms"]) == VMS
    assert (after.reindex(before.index) == before).all()
    renamed = estate.warnings[estate.warnings["code"] == "rvtools.row.name_mismatch"]
    differing = sum(a != b for a, b in zip(names, rotated, strict=True))
    assert renamed["message"].str.contains(f"{differing} row\\(s\\)").any()


@pytest.mark.parametrize("absent", [c for n in range(1, 5) for c in itertools.combinations(IDENTITY, n)],
                         ids=lambda c: "-".join(x.replace(" ", "") for x in c))
def test_every_combination_of_absent_identity_columns_imports(shared, tmp_path, absent):
    keep = ("vInfo", "vDisk", "vPartition", "vCPU", "vHost")
    sheets = {name: rows for name, rows in real_sheets(shared).items() if name in keep}
    for header in absent:
        sheets = {name: drop_column(rows, header) for name, rows in sheets.items()}
    estate, readiness = run(tmp_path, sheets)
    assert len(estate["vms"]) == VMS
    assert readiness["disk_gib"].sum() == pytest.approx(vdisk_mib(sheets) / 1024, abs=0.1 * VMS)
    assert not np.isnan(estate["vms"]["vcpus"].astype(float)).any()


def test_absent_ip_and_dns_columns_never_fire_their_rules(shared, tmp_path):
    sheets = real_sheets(shared)
    for header in ("Primary IP Address", "DNS Name"):
        sheets["vInfo"] = drop_column(sheets["vInfo"], header)
    del sheets["vNetwork"], sheets["vTools"]
    estate = read_rvtools([write_workbook(tmp_path / "no-ip.xlsx", sheets)])
    result = assess_readiness(estate)
    concerns = result.tables["concerns"]
    for rule_id in ("vmware.vm_missing_ip.detected", "vmware.hostname.empty"):
        statuses = concerns.loc[concerns["rule_id"] == rule_id, "status"]
        assert len(statuses) == VMS and set(statuses) == {"unknown"}, rule_id
    # the Tools status is not in this source: said so, not guessed as "not running"
    reasons = result.tables["readiness"]["method_reason"]
    assert not reasons.str.contains("Tools not running").any()
    assert reasons.str.contains("Tools status not in this source").any()
