import pandas as pd
import pytest

from assess.model import AssessError, Estate, conform
from assess.model.estate import merge_into_folder


def _vms(*rows):
    return pd.DataFrame(rows, columns=["vm_id", "name", "vcpus", "template"])


def test_estate_round_trips_to_disk_identically(tmp_path):
    est = Estate()
    est["vms"] = _vms(("vc/vm-1", "web01", 2, "False"), ("vc/vm-2", "db01", 8.0, "True"))
    est["disks"] = pd.DataFrame({"vm_id": ["vc/vm-1"], "disk_key": ["2000"], "capacity_mib": [1024]})
    est["utilization"] = pd.DataFrame(
        {"vm_id": ["vc/vm-1"], "timestamp": ["2025-01-01T00:00:00Z"], "metric": ["cpu_usage_mhz"],
         "value": [12.5], "interval_s": [7200]}
    )
    est.add_source("rvtools", path="x.xlsx")
    est.warn("test.code", "something odd", row=3, table="vms")
    loaded = Estate.load(est.save(tmp_path / "estate"))
    for name, frame in est.tables.items():
        pd.testing.assert_frame_equal(frame, loaded[name], check_exact=True)
    assert loaded.provenance == est.provenance
    assert loaded["vms"]["template"].tolist() == [False, True]
    assert loaded["vms"]["vcpus"].tolist() == [2, 8]


def test_missing_required_column_names_table_and_column():
    with pytest.raises(AssessError, match=r"'vms'.*required column\(s\): name"):
        conform("vms", pd.DataFrame({"vm_id": ["a"]}))


def test_validate_records_dangling_references_and_duplicate_keys():
    est = Estate()
    est["vms"] = _vms(("a", "x", 1, "False"), ("a", "y", 1, "False"))
    est["disks"] = pd.DataFrame({"vm_id": ["a", "ghost"], "disk_key": ["1", "1"]})
    est.validate()
    codes = est.warnings["code"].tolist()
    assert codes.count("model.key.duplicate") == 1
    assert codes.count("model.reference.dangling") == 1
    assert len(est["vms"]) == 1
    dangling = est.warnings[est.warnings["code"] == "model.reference.dangling"].iloc[0]
    assert dangling["table"] == "disks" and "ghost" in dangling["message"]


def test_merge_replaces_vm_rows_and_their_children_by_key(tmp_path):
    first = Estate()
    first["vms"] = _vms(("a", "old-name", 1, "False"), ("b", "keep", 1, "False"))
    first["disks"] = pd.DataFrame({"vm_id": ["a", "a", "b"], "disk_key": ["1", "2", "1"]})
    merge_into_folder(tmp_path, first)
    second = Estate()
    second["vms"] = _vms(("a", "new-name", 4, "False"))
    second["disks"] = pd.DataFrame({"vm_id": ["a"], "disk_key": ["1"]})
    merged = merge_into_folder(tmp_path, second)
    assert sorted(merged["vms"]["name"]) == ["keep", "new-name"]
    assert sorted(zip(merged["disks"]["vm_id"], merged["disks"]["disk_key"])) == [("a", "1"), ("b", "1")]
    assert Estate.load(tmp_path).counts()["vms"] == 2
