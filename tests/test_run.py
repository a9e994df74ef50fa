import json
import subprocess
import sys

import pandas as pd
import pytest

from assess.model import Estate
from assess.pipeline import run
from assess.sources import find_sources

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def estate_dir(tmp_path):
    est = Estate()
    est["vms"] = pd.DataFrame({
        "vm_id": ["vc/vm-1", "vc/vm-2", "vc/vm-3"],
        "name": ["web01", XSS, "db01"],
        "cluster": ["c1", "c1", "c2"],
        "power_state": ["poweredOn", "poweredOff", "poweredOn"],
        "vcpus": [2, 4, 8],
        "memory_mib": [4096.0, 8192.0, 16384.0],
        "guest_os_config": ["Red Hat Enterprise Linux 9 (64-bit)",
                            "Microsoft Windows Server 2022 (64-bit)", None],
        "annotation": ["</script><script>alert(2)</script>", "", ""],
    })
    est["disks"] = pd.DataFrame({"vm_id": ["vc/vm-1", "vc/vm-1"], "disk_key": ["2000", "2001"],
                                 "capacity_mib": [10240.0, 20480.0]})
    est.add_source("test", path="hand-made")
    est.warn("test.odd", "a <b>bold</b> warning", table="vms", row=2)
    return est.save(tmp_path / "estate")


def test_run_writes_report_tables_and_summary(estate_dir, tmp_path):
    out = tmp_path / "run"
    summary = run(estate_dir, out)
    assert (out / "index.html").is_file()
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["counts"]["vms"] == 3 and on_disk["counts"]["disks"] == 2
    assert summary["report"] == str(out / "index.html")
    warnings = pd.read_parquet(out / "tables" / "warnings.parquet")
    assert on_disk["warnings"] == len(warnings) and "test.odd" in set(warnings["code"])
    vms = pd.read_parquet(out / "tables" / "vms.parquet")
    assert sorted(vms["name"]) == sorted(["web01", XSS, "db01"])
    # every VM is accounted for in every per-VM result table
    for table in ("readiness", "sizing", "wave_plan"):
        assert sorted(pd.read_parquet(out / "tables" / f"{table}.parquet")["vm_id"]) == sorted(vms["vm_id"])


def test_report_escapes_estate_strings_and_lists_every_vm(estate_dir, tmp_path):
    run(estate_dir, tmp_path / "run")
    html = (tmp_path / "run" / "index.html").read_text()
    assert XSS not in html and "alert(2)</script>" not in html
    assert "a &lt;b&gt;bold&lt;/b&gt; warning" in html
    data = html.split('<script type="application/json" id="vm-data">')[1].split("</script>")[0]
    table = json.loads(data)
    names = [row[table["columns"].index("VM")] for row in table["data"]]
    assert sorted(names) == sorted(["web01", XSS, "db01"])
    disk = {row[0]: row[table["columns"].index("Disk GiB")] for row in table["data"]}
    assert disk["web01"] == 30.0  # 10240 + 20480 MiB = 30 GiB


@pytest.mark.slow
def test_cli_run_json_and_bad_source_exit_codes(estate_dir, tmp_path):
    ok = subprocess.run([sys.executable, "-m", "assess", "run", str(estate_dir), "--out",
                         str(tmp_path / "r"), "--json"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["counts"]["vms"] == 3
    assert "stage:" not in ok.stderr  # no progress output under --json
    bad = subprocess.run([sys.executable, "-m", "assess", "run", str(tmp_path / "missing")],
                         capture_output=True, text=True)
    assert bad.returncode == 2
    assert "no such file or folder" in bad.stderr and "Traceback" not in bad.stderr


def test_find_sources_classifies_files(tmp_path):
    for name in ["a.xlsx", "~$a.xlsx", "utilization.csv.gz", "flows.csv", "AzureMigrate_dependencies.csv",
                 "notes.txt"]:
        (tmp_path / name).write_text("x")
    (tmp_path / "csvexport").mkdir()
    (tmp_path / "csvexport" / "RVTools_tabvInfo.csv").write_text("x")
    found = find_sources(tmp_path)
    assert [p.name for p in found.rvtools] == ["a.xlsx", "csvexport"]
    assert [p.name for p in found.utilization] == ["utilization.csv.gz"]
    assert sorted(p.name for p in found.flows) == ["AzureMigrate_dependencies.csv", "flows.csv"]
