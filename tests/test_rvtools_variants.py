"""RVTools variations real exports have, and bad input: small workbooks and CSV folders built here."""

import datetime as dt
import shutil

import pandas as pd
import pytest
import xlsxwriter

from assess.collect.rvtools import read_rvtools
from assess.model import AssessError

UUID_A = "aaaaaaaa-0000-0000-0000-000000000001"
UUID_B = "BBBBBBBB-0000-0000-0000-000000000002"

VINFO = ["VM", "Powerstate", "Template", "SRM Placeholder", "CPUs", "Memory", "Creation date",
         "PowerOn", "EnableUUID", "CBT", "Provisioned MiB", "In Use MiB", "Cluster rule(s)",
         "Cluster rule name(s)", "Firmware", "Annotation", "Owner", "Datacenter", "Cluster",
         "Host", "OS according to the configuration file", "OS according to the VMware Tools",
         "VM ID", "VM UUID", "VI SDK Server", "VI SDK UUID"]


def vm(name, moref, uuid=UUID_A, **values):
    row = {"VM": name, "Powerstate": "poweredOn", "Template": "False", "SRM Placeholder": "False",
           "CPUs": 2.0, "Memory": 4096.0, "Provisioned MiB": 10240.0, "In Use MiB": 5120.0,
           "Firmware": "efi", "Owner": f"team-{name}", "Datacenter": "DC1", "Cluster": "C1",
           "Host": "esx1", "VM ID": moref, "VM UUID": f"50{moref[3:]:0>6}-x",
           "VI SDK Server": f"vc-{uuid[:4].lower()}", "VI SDK UUID": uuid}
    row.update(values)
    return row


def table(header, dicts):
    return [header] + [[d.get(h, "") for h in header] for d in dicts]


def write_xlsx(path, sheets, blank_rows=0):
    workbook = xlsxwriter.Workbook(str(path), {"default_date_format": "yyyy-mm-dd hh:mm:ss"})
    fmt = workbook.add_format({"bg_color": "#DDEEFF"})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value == "":
                    continue
                sheet.write(r, c, value)
        for r in range(len(rows), len(rows) + blank_rows):
            for c in range(len(rows[0])):
                sheet.write_blank(r, c, None, fmt)
    workbook.close()
    return path


def write_csv_folder(folder, sheets, sep=",", encoding="utf-8-sig"):
    folder.mkdir()
    for name, rows in sheets.items():
        lines = [sep.join(f'"{str(v).replace(chr(34), chr(34) * 2)}"' for v in row) for row in rows]
        (folder / f"RVTools_tab{name}.csv").write_text("\r\n".join(lines) + "\r\n",
                                                      encoding=encoding)
    return folder


def codes(estate):
    return estate.warnings["code"].tolist()


def odd(estate):
    """Warnings other than the sheets and columns a small test workbook leaves out."""
    absent = ("rvtools.sheet.missing", "rvtools.column.missing")
    return [c for c in codes(estate) if c not in absent]


def test_3x_headers_and_old_three_sheet_export(tmp_path):
    # RVTools 3.x names, hand-edited spacing/casing, and only vInfo/vHost/vPartition.
    header = ["VM", "Powerstate", "Template", "CPUs", " memory ", "Provisioned MB", "In Use MB",
              "disk.EnableUUID", "Annotation", "Datacenter", "Cluster", "Host",
              "OS according to the VMware tools", "VM ID", "VM UUID", "VI SDK Server",
              "vCenter UUID"]
    info = table(header, [{"VM": "old1", "Powerstate": "poweredOn", "Template": "False",
                           "CPUs": 4.0, " memory ": 8192.0, "Provisioned MB": 20480.0,
                           "In Use MB": 1024.0, "disk.EnableUUID": "True",
                           "OS according to the VMware tools": "Ubuntu Linux (64-bit)",
                           "VM ID": "vm-7", "VI SDK Server": "vc3", "vCenter UUID": UUID_B}])
    part = table(["VM", "Disk", "Capacity MB", "Free MB", "Free % ", "VM ID", "VI SDK UUID"],
                 [{"VM": "old1", "Disk": "/", "Capacity MB": 1000.0, "Free MB": 400.0,
                   "Free % ": 40.0, "VM ID": "vm-7", "VI SDK UUID": UUID_B}])
    hosts = table(["Host", "Datacenter", "Cluster", "# Cores", "# Memory", "VI SDK Server"],
                  [{"Host": "esx9", "Datacenter": "DC", "Cluster": "C", "# Cores": 16.0,
                    "# Memory": 262144.0, "VI SDK Server": "vc3"}])
    est = read_rvtools([write_xlsx(tmp_path / "old.xlsx",
                                   {"vInfo": info, "vPartition": part, "vHost": hosts})])
    v = est["vms"].iloc[0]
    assert v["vm_id"] == UUID_B.lower() + "/vm-7"  # vCenter UUID lower-cased for stable keys
    # MB-labelled columns hold MiB: read as-is, no 1000/1024 conversion.
    assert (v["memory_mib"], v["provisioned_mib"], v["in_use_mib"]) == (8192.0, 20480.0, 1024.0)
    assert v["disk_enable_uuid"] and v["guest_os_tools"] == "Ubuntu Linux (64-bit)"
    assert v["cbt_enabled"] is pd.NA  # no CBT column at all: unknown, not False
    p = est["partitions"].iloc[0]
    assert (p["vm_id"], p["capacity_mib"], p["free_mib"]) == (v["vm_id"], 1000.0, 400.0)
    assert est["hosts"].iloc[0]["host_id"] == "vc3/esx9"
    prov = est.provenance[0]
    absent = {"vCPU", "vMemory", "vTools", "vDisk", "vNetwork", "vSnapshot", "vUSB", "vCD",
              "vCluster", "vDatastore", "vPort", "dvPort", "vSource", "vMetaData"}
    assert set(prov["absent_sheets"]) == absent
    assert codes(est).count("rvtools.sheet.missing") == len(absent) == 14
    absent_vms = set(prov["absent_columns"]["vms"])
    assert {"cores_per_socket", "tools_status", "cbt_enabled", "created_at"} <= absent_vms
    assert not {"name", "moref", "instance_uuid", "vcenter_uuid"} & absent_vms  # vInfo has them
    assert "disk_key" in prov["absent_columns"]["disks"]
    assert est["disks"].empty and est["nics"].empty and est["clusters"].empty


def test_keys_fall_back_to_instance_uuid_then_name(tmp_path):
    header = ["VM", "VM ID", "VM UUID", "VI SDK Server"]
    info = table(header, [{"VM": "a", "VM ID": "vm-1", "VM UUID": "5011-AA"},
                          {"VM": "b", "VI SDK Server": "vc1"},
                          {"VM": "c"}])
    part = table(["VM", "Disk", "Capacity MiB"], [{"VM": "b", "Disk": "C:\\", "Capacity MiB": 5.0}])
    est = read_rvtools([write_xlsx(tmp_path / "trim.xlsx", {"vInfo": info, "vPartition": part})])
    # a: no vCenter UUID -> instance UUID; b: vCenter name + VM name; c: file name + VM name.
    assert est["vms"]["vm_id"].tolist() == ["5011-aa", "vc1:b", "trim.xlsx:c"]
    assert est["partitions"]["vm_id"].tolist() == ["vc1:b"]  # linked by the VM name
    warning = est.warnings[est.warnings["code"] == "rvtools.key.name"].iloc[0]
    assert "2 VM(s)" in warning["message"] and warning["row"] == "3"


def test_two_vcenters_same_names_do_not_collide(tmp_path):
    a = write_xlsx(tmp_path / "a.xlsx", {"vInfo": table(VINFO, [vm("web", "vm-1"), vm("db", "vm-2")])})
    header_b = [h if h != "Owner" else "CostCenter" for h in VINFO]
    rows_b = [dict(vm("web", "vm-1", UUID_B), CostCenter="cc-9"), vm("db", "vm-2", UUID_B)]
    b = write_xlsx(tmp_path / "b.xlsx", {"vInfo": table(header_b, rows_b)})
    est = read_rvtools([a, b])
    assert sorted(est["vms"]["vm_id"]) == sorted(
        [f"{UUID_A}/vm-1", f"{UUID_A}/vm-2", f"{UUID_B.lower()}/vm-1", f"{UUID_B.lower()}/vm-2"])
    attrs = est["attributes"].set_index(["vm_id", "name"])["value"]
    # Each vCenter keeps its own custom-attribute columns: 2 VMs x 1 column per export.
    assert len(attrs) == 4
    assert attrs[(f"{UUID_A}/vm-1", "Owner")] == "team-web"
    assert attrs[(f"{UUID_B.lower()}/vm-1", "CostCenter")] == "cc-9"
    assert pd.isna(attrs[(f"{UUID_B.lower()}/vm-2", "CostCenter")])
    assert [p["path"] for p in est.provenance] == [str(a), str(b)]


def test_formatted_empty_rows_dropped_and_unnamed_row_warned(tmp_path):
    rows = [vm("a", "vm-1"), {"CPUs": 4.0, "Host": "esx1"}, vm("b", "vm-2")]
    xlsx = write_xlsx(tmp_path / "pad.xlsx", {"vInfo": table(VINFO, rows)}, blank_rows=3000)
    # The CSV form carries the blank rows as cells: 3000 lines of empty fields.
    csv_rows = table(VINFO, rows) + [[""] * len(VINFO)] * 3000
    folder = write_csv_folder(tmp_path / "pad", {"vInfo": csv_rows})
    for est in (read_rvtools([xlsx]), read_rvtools([folder])):
        assert est["vms"]["name"].tolist() == ["a", "b"]
        # Blank rows vanish silently; the row with values but no VM name (sheet row 3:
        # the header is row 1) is skipped with a warning naming it.
        assert odd(est) == ["rvtools.row.unnamed"]
        assert est.warnings.set_index("code").loc["rvtools.row.unnamed", "row"] == "3"


def test_value_forms_booleans_serial_dates_percentages(tmp_path):
    rows = [vm("a", "vm-1", Template=True, **{"Creation date": 45000.5, "CBT": "TRUE",
                                              "PowerOn": dt.datetime(2025, 1, 2, 3, 4, 5)}),
            vm("b", "vm-2", **{"SRM Placeholder": "True", "CPUs": "lots", "EnableUUID": "FALSE"})]
    part = table(["VM", "Disk", "Capacity MiB", "Free %", "VM ID", "VI SDK UUID"],
                 [{"VM": "a", "Disk": "/", "Capacity MiB": 1000.0, "Free %": "25%",
                   "VM ID": "vm-1", "VI SDK UUID": UUID_A}])
    est = read_rvtools([write_xlsx(tmp_path / "v.xlsx", {"vInfo": table(VINFO, rows),
                                                         "vPartition": part})])
    a, b = (est["vms"].set_index("name").loc[n] for n in "ab")
    # Excel serial 45000.5 = 1899-12-30 + 45000.5 days = 2023-03-15 12:00.
    assert a["created_at"] == pd.Timestamp("2023-03-15 12:00", tz="UTC")
    assert a["powered_on_at"] == pd.Timestamp("2025-01-02 03:04:05", tz="UTC")
    assert a["template"] and not a["srm_placeholder"] and a["cbt_enabled"]
    assert b["srm_placeholder"] and not b["template"]  # kept, flagged: readiness excludes them
    assert b["cbt_enabled"] is False or b["cbt_enabled"] == False  # noqa: E712  empty = unset = off
    assert b["disk_enable_uuid"] == False  # noqa: E712
    assert pd.isna(b["vcpus"])
    bad = est.warnings[est.warnings["code"] == "rvtools.value.invalid"].iloc[0]
    assert (bad["row"], bad["column"]) == ("3", "CPUs") and "'lots'" in bad["message"]
    # Free MiB absent: 25% of 1000 MiB = 250 MiB free.
    assert est["partitions"].iloc[0]["free_mib"] == 250.0


def test_duplicate_vm_warned_with_row_and_same_file_twice(tmp_path):
    path = write_xlsx(tmp_path / "d.xlsx", {
        "vInfo": table(VINFO, [vm("a", "vm-1"), vm("b", "vm-2"), vm("a-copy", "vm-1")]),
        "vDisk": table(["VM", "Disk", "Disk Key", "Capacity MiB", "VM ID", "VI SDK UUID"],
                       [{"VM": "a", "Disk": "Hard disk 1", "Disk Key": "2000",
                         "Capacity MiB": 100.0, "VM ID": "vm-1", "VI SDK UUID": UUID_A}])})
    est = read_rvtools([path])
    assert est["vms"]["name"].tolist() == ["a", "b"]
    dup = est.warnings[est.warnings["code"] == "rvtools.vm.duplicate"]
    assert dup["row"].tolist() == ["4"] and "row 2" in dup.iloc[0]["message"]
    twice = read_rvtools([path, path])
    # 2 VMs; the second copy's 2 rows plus its repeat all warned; its disk is not added again.
    assert len(twice["vms"]) == 2 and len(twice["disks"]) == 1
    assert codes(twice).count("rvtools.vm.duplicate") == 1 + 3


def test_rules_usb_and_unused_sheets(tmp_path):
    rows = [vm("a", "vm-1", **{"Cluster rule(s)": "ClusterAntiAffinityRuleSpec, ClusterVmHostRuleInfo",
                               "Cluster rule name(s)": "keep-apart, pin-to-rack"}),
            vm("b", "vm-2", **{"Cluster rule(s)": "ClusterAntiAffinityRuleSpec",
                               "Cluster rule name(s)": "keep-apart"})]
    usb = table(["VM", "Device Node", "Device Type", "Connected", "VM ID", "VI SDK UUID"],
                [{"VM": "b", "Device Node": "USB 1", "Device Type": "Dongle",
                  "Connected": "True", "VM ID": "vm-2", "VI SDK UUID": UUID_A}])
    est = read_rvtools([write_xlsx(tmp_path / "r.xlsx", {
        "vInfo": table(VINFO, rows), "vUSB": usb, "vHealth": [["Name", "Message"], ["x", "y"]]})])
    rules = est["affinity_rules"].sort_values(["rule", "member"])
    assert rules[["rule", "kind", "member", "cluster"]].values.tolist() == [
        ["keep-apart", "vm_anti_affinity", f"{UUID_A}/vm-1", "C1"],
        ["keep-apart", "vm_anti_affinity", f"{UUID_A}/vm-2", "C1"],
        ["pin-to-rack", "vm_host", f"{UUID_A}/vm-1", "C1"]]
    dev = est["devices"].iloc[0]
    assert (dev["kind"], dev["label"], dev["detail"], dev["connected"]) == \
        ("usb_device", "USB 1", "Dongle", True)
    assert est.provenance[0]["unused_sheets"] == ["vHealth"]


def test_hand_edited_headers_duplicate_and_missing(tmp_path):
    header = VINFO + ["cpus", ""]
    info = table(header, [vm("a", "vm-1")])
    info[1][-2:] = [64.0, "stray"]  # a second 'CPUs' column and a value under no header
    est = read_rvtools([write_xlsx(tmp_path / "h.xlsx", {"vInfo": info})])
    assert est["vms"].iloc[0]["vcpus"] == 2  # the first 'CPUs' column wins
    assert {"rvtools.header.duplicate", "rvtools.header.missing"} <= set(odd(est))
    missing = est.warnings.set_index("code").loc["rvtools.header.missing", "message"]
    # 26 vInfo headers + 'cpus' = 27 columns, so the stray value sits in column 28.
    assert "values in column 28 have no header" in missing


def test_csv_folder_thousands_separators_and_multiline_cells(tmp_path):
    # RVTools 3.x CSV as written on an English system: "16,384" quoted, notes spanning lines.
    # A quoted decimal comma that is no thousands group ('512,25') is read as 512.25.
    rows = [vm("a", "vm-1", Memory="16,384", Annotation='line one\nline "two"',
               **{"Creation date": "2017/11/28 16:14:28", "In Use MiB": "512,25",
                  "Provisioned MiB": "1,048,576.5"})]
    folder = write_csv_folder(tmp_path / "csv", {"vInfo": table(VINFO, rows)})
    est = read_rvtools([folder])
    v = est["vms"].iloc[0]
    assert v["memory_mib"] == 16384.0 and v["annotation"] == 'line one\nline "two"'
    assert (v["in_use_mib"], v["provisioned_mib"]) == (512.25, 1048576.5)
    assert v["created_at"] == pd.Timestamp("2017-11-28 16:14:28", tz="UTC")
    assert odd(est) == []


def test_csv_folder_semicolons_and_decimal_commas(tmp_path):
    rows = [vm("a", "vm-1", **{"Provisioned MiB": "1.234,5", "In Use MiB": "512,25",
                               "Creation date": "03/04/2024 10:00"})]
    snaps = table(["VM", "Name", "Date / time", "Size MiB (total)", "VM ID", "VI SDK UUID"],
                  [{"VM": "a", "Name": "s1", "Date / time": "21/3/2025 11:46",
                    "Size MiB (total)": "49982,5", "VM ID": "vm-1", "VI SDK UUID": UUID_A}])
    folder = write_csv_folder(tmp_path / "eu", {"vInfo": table(VINFO, rows), "vSnapshot": snaps},
                              sep=";")
    est = read_rvtools([folder])
    v = est["vms"].iloc[0]
    assert (v["provisioned_mib"], v["in_use_mib"]) == (1234.5, 512.25)
    assert v["created_at"] == pd.Timestamp("2024-04-03 10:00", tz="UTC")  # day first
    s = est["snapshots"].iloc[0]
    assert s["size_mib"] == 49982.5 and s["created_at"] == pd.Timestamp("2025-03-21 11:46", tz="UTC")
    locale = est.warnings[est.warnings["code"] == "rvtools.csv.locale"]
    assert len(locale) == 1 and "decimal commas" in locale.iloc[0]["message"]


@pytest.fixture
def bad_inputs(tmp_path, shared):
    real = shared / "data/rvtools/rvtools-4.7.1.4-133vms.xlsx"
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(real.read_bytes()[: real.stat().st_size // 2])
    empty = tmp_path / "empty"
    empty.mkdir()
    novm = table([h if h != "VM" else "Name " for h in VINFO], [vm("a", "vm-1")])
    novm[1][0] = "a"
    return {
        "missing": (tmp_path / "missing.xlsx", "missing.xlsx: no such file or folder"),
        "not_rvtools": (write_xlsx(tmp_path / "budget.xlsx", {"Sheet1": [["a", "b"], [1, 2]]}),
                        "budget.xlsx: not an RVTools export (no vInfo sheet; found sheets: sheet1)"),
        "no_vinfo": (write_xlsx(tmp_path / "hosts.xlsx", {"vHost": [["Host"], ["esx1"]]}),
                     "hosts.xlsx, sheet vInfo: missing"),
        "no_vm_column": (write_xlsx(tmp_path / "novm.xlsx", {"vInfo": novm}),
                         "novm.xlsx, sheet vInfo: no 'VM' column"),
        "truncated": (cut, "cut.xlsx: cannot be read as an xlsx workbook"),
        "empty_folder": (empty, "empty: no RVTools_tab*.csv files"),
    }


@pytest.mark.parametrize("case", ["missing", "not_rvtools", "no_vinfo", "no_vm_column",
                                  "truncated", "empty_folder"])
def test_bad_input_raises_one_clear_line(bad_inputs, case):
    path, message = bad_inputs[case]
    with pytest.raises(AssessError) as err:
        read_rvtools([path])
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_child_sheet_without_any_vm_key_is_skipped_with_a_warning(tmp_path):
    info = table(VINFO, [vm("a", "vm-1")])
    path = write_xlsx(tmp_path / "x.xlsx", {"vInfo": info, "vDisk": [["Disk", "Capacity MiB"],
                                                                      ["Hard disk 1", 1.0]]})
    est = read_rvtools([path])
    assert len(est["vms"]) == 1 and est["disks"].empty
    skipped = est.warnings[est.warnings["code"] == "rvtools.sheet.no_vm_key"]
    assert skipped["message"].str.contains(r"x\.xlsx, sheet vDisk: no 'VM', 'VM ID' or 'VM UUID'").all()
    assert "vDisk" in est.provenance[0]["absent_sheets"]


def test_child_sheet_with_only_vm_id_is_accepted(tmp_path):
    info = table(VINFO, [vm("a", "vm-1"), vm("b", "vm-2")])
    disks = [["Disk", "Capacity MiB", "VM ID"], ["Hard disk 1", 1024.0, "vm-2"]]
    est = read_rvtools([write_xlsx(tmp_path / "x.xlsx", {"vInfo": info, "vDisk": disks})])
    names = est["vms"].set_index("vm_id")["name"]
    assert est["disks"]["vm_id"].map(names).tolist() == ["b"]


def test_edited_away_vm_header_is_found_by_position(tmp_path):
    info = table(VINFO, [vm("a", "vm-1")])
    parts = [["Virtual machine name", "Disk", "Capacity MiB", "Free MiB"], ["a", "/", 2048.0, 1024.0]]
    est = read_rvtools([write_xlsx(tmp_path / "x.xlsx", {"vInfo": info, "vPartition": parts})])
    assert est["partitions"]["mount"].tolist() == ["/"]
    assert "rvtools.header.vm_by_position" in codes(est)


def test_unreadable_sheet_in_csv_folder(tmp_path):
    folder = write_csv_folder(tmp_path / "c", {"vInfo": [["VM"], ["a"]]})
    (folder / "RVTools_tabvInfo.csv").write_text("")
    shutil.copy(folder / "RVTools_tabvInfo.csv", folder / "RVTools_tabvHost.csv")
    with pytest.raises(AssessError, match=r"sheet vInfo: the sheet is empty"):
        read_rvtools([folder])


def test_csv_ragged_rows(tmp_path):
    folder = tmp_path / "ragged"
    folder.mkdir()
    # Row 2 stops after CPUs (trailing empty fields trimmed); row 3 has one field too many.
    (folder / "RVTools_tabvInfo.csv").write_text(
        "VM,CPUs,Memory,VM UUID\r\nshort,2\r\nlong,4,8192,5011-ab,extra\r\n", encoding="utf-8")
    est = read_rvtools([folder])
    vms = est["vms"].set_index("name")
    assert vms.loc["short", "vcpus"] == 2 and pd.isna(vms.loc["short", "memory_mib"])
    assert vms.loc["long", "vm_id"] == "5011-ab" and vms.loc["long", "memory_mib"] == 8192.0
    assert "rvtools.header.missing" in odd(est)
