"""The vCenter collector against a SOAP double that speaks genuine vim25 (pyVmomi's serializer).

Covers what vcsim cannot: paging, session expiry, objects deleted mid-collection, bad
passwords, certificate pinning. Every test counts the SOAP calls the server answered.
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from soap_double import SoapDouble
from typer.testing import CliRunner
from vcsim_harness import server_certificate

from assess.cli.common import app
from assess.collect.vcenter import Target, collect_vcenter
from assess.model import AssessError

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "secret"
UUID = "8b2c6f43-0a7e-4b63-9f3f-5b1a2d3c4e5f"
# The double holds 10 inventory objects besides the VMs: root folder, datacenter, vm and host
# folders, cluster, 2 hosts, resource pool, datastore, network.
OTHER_OBJECTS = 10


@pytest.fixture(scope="module")
def cert():
    return server_certificate()


@pytest.fixture
def double(cert):
    with SoapDouble(str(cert[0]), str(cert[1]), vms=10, password=PASSWORD, max_query_metrics=18) as server:
        yield server


def _target(double, cert, password=PASSWORD, **tls):
    tls = tls or {"ca_file": cert[0]}
    return Target("127.0.0.1", "reader@vsphere.local", password, port=double.port, **tls)


def test_inventory_is_paged_through_continue_calls(double, cert):
    estate = collect_vcenter(_target(double, cert), page_size=4)
    # 20 objects in pages of 4 -> 5 pages: 1 RetrievePropertiesEx + 4 ContinueRetrievePropertiesEx.
    assert double.calls["ContinueRetrievePropertiesEx"] == 4
    assert estate.provenance[0]["pages"] == 5
    # The view read + 2 single-object reads (custom fields, performance manager).
    assert double.calls["RetrievePropertiesEx"] == 3
    vms = estate["vms"].set_index("vm_id")
    assert sorted(vms.index) == sorted(f"{UUID}/vm-{k}" for k in range(1, 11))
    vm1 = vms.loc[f"{UUID}/vm-1"]
    assert (vm1["name"], vm1["cluster"], vm1["host"], vm1["folder"], vm1["datacenter"]) == (
        "app001", "C1", "esx2.example.test", "/DC1/vm", "DC1")
    assert (vm1["vcpus"], vm1["memory_mib"], vm1["firmware"], vm1["hw_version"]) == (3, 4096.0, "efi", 19)
    # committed 10 GiB + uncommitted 30 GiB = 40960 MiB provisioned.
    assert (vm1["in_use_mib"], vm1["provisioned_mib"]) == (10240.0, 40960.0)
    rules = estate["affinity_rules"]
    assert sorted(rules["member"]) == [f"{UUID}/vm-1", f"{UUID}/vm-2"]
    assert set(rules["kind"]) == {"vm_anti_affinity"}
    assert estate["clusters"].loc[0, "ha_enabled"] and estate["clusters"].loc[0, "drs_enabled"]
    # The double has no vSphere Automation endpoint: a warning, the inventory is still there.
    assert "vcenter.tags.unavailable" in set(estate.warnings["code"])


def test_utilization_uses_history_and_batches_within_max_query_metrics(double, cert):
    estate = collect_vcenter(_target(double, cert), page_size=100)
    perf = estate.provenance[0]["performance"]
    # 30 days fits the 'past month' interval (7200 s x 2592000 s); level 1 recorded for sizing.
    assert (perf["interval_s"], perf["level"]) == (7200, 1)
    assert [i["period_s"] for i in perf["historical_intervals"]] == [300, 1800, 7200, 86400]
    # maxQueryMetrics 18 / 9 counters = 2 VMs per call; 10 VMs -> 5 QueryPerf calls.
    assert perf["vms_per_call"] == 2 and double.calls["QueryPerf"] == 5
    assert double.perf_formats == {"csv": 10}  # the compact format, parsed from CSV strings
    util = estate["utilization"]
    vm4 = util[util["vm_id"] == f"{UUID}/vm-4"].groupby("metric")["value"].agg(["first", "size"])
    assert (vm4["size"] == 3).all()  # three 2-hour samples per metric
    assert vm4.loc["cpu_usage_mhz", "first"] == 400.0  # 100 MHz x VM number
    assert vm4.loc["cpu_usage_pct", "first"] == 25.0  # 2500 hundredths of a percent
    assert vm4.loc["mem_consumed_mib", "first"] == 1024.0  # 1048576 KB / 1024
    assert vm4.loc["disk_iops", "first"] == 15.0  # reads 5 + 7, writes 3 + 0 over two disks
    assert (util["interval_s"] == 7200).all()


def test_session_expiry_mid_paging_logs_in_again_and_restarts(double, cert):
    double.expire_after = {"ContinueRetrievePropertiesEx": 2}
    estate = collect_vcenter(_target(double, cert), page_size=4)
    assert double.calls["Login"] == 2 and estate.provenance[0]["relogins"] == 1
    # The old view and token died with the session: a new view, read again from the start
    # (1 continue served + 1 refused, then 4 more).
    assert double.calls["CreateContainerView"] == 2
    assert double.calls["ContinueRetrievePropertiesEx"] == 6
    assert len(estate["vms"]) == 10 and estate["vms"]["vm_id"].is_unique


def test_session_expiry_during_perf_logs_in_again_and_continues(double, cert):
    double.expire_after = {"QueryPerf": 3}
    estate = collect_vcenter(_target(double, cert), page_size=100)
    assert double.calls["Login"] == 2
    assert double.calls["QueryPerf"] == 6  # 5 batches + the refused one repeated
    assert estate["utilization"]["vm_id"].nunique() == 10


def test_vm_deleted_mid_collection_is_a_warning_and_the_rest_is_collected(double, cert):
    # vm-3 disappears between inventory pages, vm-7 before utilization is read.
    double.delete_after = {"ContinueRetrievePropertiesEx": (1, "vm-3")}
    first = collect_vcenter(_target(double, cert), page_size=4)
    assert len(first["vms"]) == 9 and f"{UUID}/vm-3" not in set(first["vms"]["vm_id"])
    deleted = first.warnings[first.warnings["code"] == "vcenter.object.deleted"]
    assert deleted["row"].tolist() == [f"{UUID}/vm-3"]

    double.delete_after = {"QueryPerf": (1, "vm-7")}
    double.calls.clear()
    second = collect_vcenter(_target(double, cert), page_size=100)
    assert len(second["vms"]) == 9  # vm-7 was there when the inventory was read
    # 9 VMs in batches of 2 = 5 calls; the one naming vm-7 faults and is repeated without it.
    assert double.calls["QueryPerf"] == 6
    assert second["utilization"]["vm_id"].nunique() == 8
    messages = second.warnings.loc[second.warnings["code"] == "vcenter.object.deleted", "message"]
    assert len(messages) == 1 and "vm-7" in messages.iloc[0]


def test_bad_password_is_one_clear_error(double, cert):
    with pytest.raises(AssessError, match="refused the login"):
        collect_vcenter(_target(double, cert, password="wrong"))
    assert double.calls["Login"] == 1 and double.calls["RetrievePropertiesEx"] == 0


def test_cli_bad_password_exits_2_with_one_line_and_no_secret(double, cert, tmp_path):
    env = dict(os.environ, VSPHERE_PASSWORD="hunter2-wrong", VSPHERE_USER="reader")
    done = subprocess.run(
        [sys.executable, "-m", "assess", "collect", "vcenter", "--server", f"127.0.0.1:{double.port}",
         "--ca-file", str(cert[0]), "--out", str(tmp_path / "estate")],
        env=env, capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert done.returncode == 2
    assert "InvalidLogin" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "hunter2" not in done.stderr + done.stdout
    assert not (tmp_path / "estate").exists()


def test_password_is_never_an_argv_option(tmp_path):
    result = CliRunner().invoke(app, ["collect", "vcenter", "--server", "vc", "--user", "u",
                                      "--password", "x", "--out", str(tmp_path / "e")])
    assert result.exit_code == 2 and "No such option" in result.output


def test_wrong_thumbprint_is_refused_before_any_soap_call(double, cert):
    wrong = "AA:" * 31 + "AA"
    with pytest.raises(AssessError, match="does not match the pinned thumbprint"):
        collect_vcenter(_target(double, cert, thumbprint=wrong))
    assert sum(double.calls.values()) == 0


def test_right_thumbprint_is_accepted(double, cert):
    der = ssl.PEM_cert_to_DER_cert(cert[0].read_text())
    pin = ":".join(f"{b:02x}" for b in hashlib.sha256(der).digest())
    estate = collect_vcenter(_target(double, cert, thumbprint=pin), utilization=False)
    assert len(estate["vms"]) == 10 and double.calls["Login"] == 1


def test_property_unknown_to_an_older_server_is_dropped_with_a_warning(double, cert):
    double.unknown_paths = {"config.bootOptions.efiSecureBootEnabled"}
    estate = collect_vcenter(_target(double, cert), page_size=100, utilization=False)
    assert len(estate["vms"]) == 10 and estate["vms"]["secure_boot"].isna().all()
    assert (estate["vms"]["firmware"] == "efi").all()  # everything else still read
    unsupported = estate.warnings[estate.warnings["code"] == "vcenter.property.unsupported"]
    assert len(unsupported) == 1 and "efiSecureBootEnabled" in unsupported["message"].iloc[0]
    # The refused read is repeated once without the path: 2 view reads + custom fields.
    assert double.calls["RetrievePropertiesEx"] == 3


def test_cli_reads_the_password_from_a_file_and_merges_into_the_estate(double, cert, tmp_path, monkeypatch):
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    monkeypatch.delenv("VSPHERE_PASSWORD", raising=False)
    monkeypatch.setenv("VSPHERE_SERVER", f"127.0.0.1:{double.port}")
    out = tmp_path / "estate"
    args = ["collect", "vcenter", "--user", "reader", "--password-file", str(secret),
            "--ca-file", str(cert[0]), "--out", str(out), "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # --json: no progress bar mixed into stdout
    assert summary["added"]["vms"] == 10 and summary["counts"]["vms"] == 10
    assert PASSWORD not in result.output and PASSWORD not in (out / "estate.json").read_text()
