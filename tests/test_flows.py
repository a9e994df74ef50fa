import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from assess.cli import app
from assess.collect.flows import read_flows
from assess.model import AssessError, Estate


def _inventory():
    est = Estate()
    est["vms"] = pd.DataFrame({
        "vm_id": ["vc/vm-1", "vc/vm-2", "vc/vm-3", "vc/vm-4", "vc/vm-5"],
        "name": ["web01", "app01", "db01", "dup", "dup"],
        "hostname": ["web01.corp.local", "app01.corp.local", "DB01.corp.local", None, None],
        "primary_ip": [None, "10.0.0.21", None, None, None],
    })
    est["nics"] = pd.DataFrame({
        "vm_id": ["vc/vm-1", "vc/vm-2", "vc/vm-3", "vc/vm-4", "vc/vm-5"],
        "label": ["Network adapter 1"] * 5,
        "ipv4": ["10.0.0.11", "10.0.0.21,10.0.1.21", "10.0.0.31", "10.0.0.41", "10.0.0.51"],
    })
    return est


INV = _inventory()

AZURE = (
    "\ufeffTime slot,Source server name,Source IP,Source application,Source process,"
    "Destination server name,Destination IP,Destination application,Destination process,Destination port,"
    "Source VLAN,Destination VLAN\n"
    # one connection repeated in three 6-hour slots, once with an unknown process
    "2024-05-01 00:00 - 2024-05-01 06:00,web01,10.0.0.11,Web,nginx,app01,10.0.0.21,App,java,8080,10,20\n"
    "2024-05-01 06:00 - 2024-05-01 12:00,web01,10.0.0.11,Web,nginx,app01,10.0.0.21,App,java,8080,10,20\n"
    "2024-05-01 12:00 - 2024-05-01 18:00,web01,10.0.0.11,Web,Unknown process,app01,10.0.0.21,App,java,"
    "8080,10,20\n"
    # blank source name (match on IP), destination FQDN in other case
    "2024-05-01 00:00 - 2024-05-01 06:00,,10.0.0.21,,,db01.CORP.local,10.0.0.31,,Unknown process,5432,20,30\n"
    # blank destination name (match on IP)
    "2024-05-01 06:00 - 2024-05-01 12:00,APP01,10.0.0.21,App,java,,10.0.0.31,DB,postgres,5432,20,30\n"
    # 'dup' names two VMs: resolved by its IP
    "2024-05-01 00:00 - 2024-05-01 06:00,dup,10.0.0.41,,,app01,10.0.0.21,,,8080,,\n"
    # unknown IP twice: one external node
    "2024-05-01 00:00 - 2024-05-01 06:00,web01,10.0.0.11,Web,nginx,,203.0.113.9,,,443,,\n"
    "2024-05-01 06:00 - 2024-05-01 12:00,web01,10.0.0.11,Web,nginx,,203.0.113.9,,,443,,\n"
)

NEWER = (
    "Date,Source Appliance Name,Source Machine ARM ID,Source Server Name,Source IP,Source Application,"
    "Source Process,Destination Machine ARM ID,Destination Server Name,Destination IP,"
    "Destination Application,Destination Process,Destination Port,Connection Count\n"
    "5/1/2024,appl,/m/1,web01,10.0.0.11,Web,nginx,/m/2,app01,10.0.0.21,App,java,8080,7\n"
    "5/2/2024,appl,/m/1,web01,10.0.0.11,Web,nginx,/m/2,app01,10.0.1.21,App,java,8080,5\n"
    "5/2/2024,appl,/m/1,web01,10.0.0.11,Web,nginx,,,10.9.9.9,,,22,1\n"
)


def _t(text):
    return pd.Timestamp(text, tz="UTC")


def _rows(est):
    cols = ["src", "dst", "port", "protocol", "src_vm", "dst_vm", "src_process", "dst_process", "connections",
            "first_seen", "last_seen"]
    return [tuple(None if pd.isna(v) else v for v in r) for r in est["flows"][cols].itertuples(index=False)]


def test_azure_migrate_export_aggregates_repeats_and_resolves_endpoints(tmp_path):
    path = tmp_path / "dependencies.csv"
    path.write_text(AZURE, encoding="utf-8")
    est = read_flows([path], INV)
    assert _rows(est) == [
        # 2 slots 00:00-12:00 to the unknown IP
        ("vc/vm-1", "ext:203.0.113.9", 443, "tcp", True, False, "nginx", None, 2,
         _t("2024-05-01 00:00"), _t("2024-05-01 12:00")),
        # 3 slots 00:00-18:00; 'Unknown process' is no process
        ("vc/vm-1", "vc/vm-2", 8080, "tcp", True, True, "nginx", "java", 3,
         _t("2024-05-01 00:00"), _t("2024-05-01 18:00")),
        ("vc/vm-2", "vc/vm-3", 5432, "tcp", True, True, "java", "postgres", 2,
         _t("2024-05-01 00:00"), _t("2024-05-01 12:00")),
        ("vc/vm-4", "vc/vm-2", 8080, "tcp", True, True, None, None, 1,
         _t("2024-05-01 00:00"), _t("2024-05-01 06:00")),
    ]
    assert est["flows"]["dst_ip"].tolist() == ["203.0.113.9", "10.0.0.21", "10.0.0.31", "10.0.0.21"]
    w = est.warnings.set_index("code")["message"]
    assert "1 endpoint(s) are not VMs" in w["flows.endpoint.external"]
    assert "ext:203.0.113.9 (2)" in w["flows.endpoint.external"]
    assert "(dup)" in w["flows.endpoint.ambiguous"] and "1 occurrence(s) resolved by IP" in w[
        "flows.endpoint.ambiguous"]


def test_newer_export_sums_connection_count(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(NEWER)
    est = read_flows([path], INV, format="azure-migrate")
    assert _rows(est) == [
        ("vc/vm-1", "ext:10.9.9.9", 22, "tcp", True, False, "nginx", None, 1,
         _t("2024-05-02"), _t("2024-05-02")),
        # 7 + 5 connections; vm-2 seen on both its IPs
        ("vc/vm-1", "vc/vm-2", 8080, "tcp", True, True, "nginx", "java", 12,
         _t("2024-05-01"), _t("2024-05-02")),
    ]
    assert est["flows"]["dst_ip"].tolist() == ["10.9.9.9", "10.0.0.21, 10.0.1.21"]
    assert est.provenance[0]["format"] == "azure-migrate"


GENERIC = (
    "src,dst,port,protocol,bytes,time\n"
    "web01.corp.local,10.0.0.31,5432,TCP,1000,2024-05-01T00:00:00Z\n"
    "WEB01,db01,5432,tcp,500,2024-05-01T01:00:00Z\n"
    "dup,10.0.0.31,53,udp,10,2024-05-01T00:00:00Z\n"
    ",10.0.0.31,80,tcp,1,2024-05-01T00:00:00Z\n"
    "web01,10.0.0.31,ssh,tcp,1,2024-05-01T00:00:00Z\n"
)


def test_generic_csv_names_ips_bytes_and_unusable_rows(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text(GENERIC)
    est = read_flows([path], INV)
    flows = est["flows"]
    # web01 (FQDN and short, any case) -> db01 (IP and name): 2 records, 1000 + 500 bytes
    row = flows[(flows["src"] == "vc/vm-1") & (flows["port"] == 5432)].iloc[0]
    assert (row["dst"], row["protocol"], row["connections"], row["bytes"]) == ("vc/vm-3", "tcp", 2, 1500.0)
    assert (row["first_seen"], row["last_seen"]) == (_t("2024-05-01 00:00"), _t("2024-05-01 01:00"))
    # 'dup' without an IP cannot be told apart: external node, warned
    dns = flows[flows["port"] == 53]
    assert dns[["src", "src_vm", "dst"]].values.tolist() == [["ext:dup", False, "vc/vm-3"]]
    codes = est.warnings["code"].tolist()
    assert "flows.endpoint.ambiguous" in codes
    unusable = est.warnings[est.warnings["code"] == "flows.row.unusable"].iloc[0]
    assert "1 row(s)" in unusable["message"] and unusable["row"] == "5"
    assert "'ssh'" in est.warnings[est.warnings["code"] == "flows.port.invalid"]["message"].iloc[0]
    # 5 records: 2 aggregated, 1 udp, 1 without port, 1 unusable (reported) -> 3 flows
    assert len(flows) == 3 and flows["port"].isna().sum() == 1


def test_unknown_layout_is_a_clear_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(AssessError, match="x.csv: unknown flow layout.*--format"):
        read_flows([path], INV)


def test_cli_import_flows_reports_aggregated_count(tmp_path):
    INV.save(tmp_path / "estate")
    path = tmp_path / "dependencies.csv"
    path.write_text(AZURE, encoding="utf-8")
    args = ["import", "flows", str(path), "--out", str(tmp_path / "estate"), "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["aggregated_flows"] == 4  # 8 records -> 4 (src, dst, port, protocol) rows
    assert Estate.load(tmp_path / "estate").counts()["flows"] == 4


def test_time_slot_ranges_with_bare_end_times_get_the_start_date():
    from assess.collect.flows import _times

    slots = pd.Series(["3/1/2025 12:00-18:00", "3/1/2025 18:00-00:00", "3/1/2025 18:00-24:00",
                       "3/1/2025 06:00 - 3/1/2025 12:00", "2025-03-01 06:00-2025-03-01 12:00"])
    start, end = _times(slots)
    assert start.dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2025-03-01 12:00", "2025-03-01 18:00", "2025-03-01 18:00", "2025-03-01 06:00", "2025-03-01 06:00"]
    # a bare end time is on the start's day, or the next day when it is not after the start
    assert end.dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2025-03-01 18:00", "2025-03-02 00:00", "2025-03-02 00:00", "2025-03-01 12:00", "2025-03-01 12:00"]


def test_a_time_column_with_no_readable_time_is_kept_without_times(tmp_path):
    # found by the fuzz suite: every slot unreadable mapped to naive NaT and crashed the import
    path = tmp_path / "flows.csv"
    path.write_text("src,dst,port,time\nweb01,db01,443,never\nweb01,db01,443,\n")
    est = Estate()
    est["vms"] = pd.DataFrame({"vm_id": ["vc/web01", "vc/db01"], "name": ["web01", "db01"]})
    out = read_flows([path], est, format="csv")
    assert out["flows"]["first_seen"].isna().all() and out["flows"]["connections"].tolist() == [2]
    assert "flows.time.invalid" in set(out.warnings["code"])
