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
        {
            "vm_id": ["vc/vm-1"],
            "timestamp": ["2025-01-01T00:00:00Z"],
            "metric": ["cpu_usage_mhz"],
            "value": [12.5],
            "interval_s": [7200],
        }
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


def _flows(connections, first, last):
    return pd.DataFrame(
        {
            "src": ["a"],
            "dst": ["b"],
            "port": [443],
            "protocol": ["tcp"],
            "connections": [connections],
            "bytes": [1000.0 * connections],
            "first_seen": [first],
            "last_seen": [last],
        }
    )


def test_flows_from_disjoint_periods_add_up_and_a_reimport_replaces():
    week1 = Estate()
    week1["flows"] = _flows(10, "2025-01-01T00:00Z", "2025-01-07T00:00Z")
    week2 = Estate()
    week2["flows"] = _flows(4, "2025-01-08T00:00Z", "2025-01-14T00:00Z")
    both = week1.merge(week2)["flows"]
    assert len(both) == 1 and both.loc[0, "connections"] == 14 and both.loc[0, "bytes"] == 14000.0
    assert (
        str(both.loc[0, "first_seen"].date()) == "2025-01-01"
        and str(both.loc[0, "last_seen"].date()) == "2025-01-14"
    )
    again = week1.merge(week1)["flows"]  # the same export imported twice counts once
    assert again["connections"].tolist() == [10]


def test_merged_sources_keep_distinct_ids_and_rows_follow_them():
    first, second = Estate(), Estate()
    for est, name in ((first, "a.xlsx"), (second, "b.xlsx")):
        sid = est.add_source("rvtools", path=name)
        est["vms"] = _vms((f"vc/{name}", name, 1, "False")).assign(source=sid)
    merged = first.merge(second)
    assert [(p["id"], p["path"]) for p in merged.provenance] == [
        ("rvtools-1", "a.xlsx"),
        ("rvtools-2", "b.xlsx"),
    ]
    assert dict(zip(merged["vms"]["name"], merged["vms"]["source"])) == {
        "a.xlsx": "rvtools-1",
        "b.xlsx": "rvtools-2",
    }


def test_conform_of_a_conformed_table_copies_nothing_and_shares_nothing_writable():
    """An already canonical table comes back as a new frame over the same data (the second conform of
    14 million utilization samples cost 0.5 s); writing to it leaves the original as it was."""
    first = conform("utilization", pd.DataFrame({
        "vm_id": ["vc/a", "vc/b"], "timestamp": ["2026-01-01T00:00:00Z", "2026-01-01T02:00:00Z"],
        "metric": ["cpu_usage_mhz", "disk_kbps"], "value": [1.0, 2.0], "interval_s": [7200, 7200]}))
    again = conform("utilization", first)
    assert again is not first and again.equals(first)
    assert again.dtypes.astype(str).tolist() == first.dtypes.astype(str).tolist()
    again.loc[0, "value"] = 99.0
    assert first.loc[0, "value"] == 1.0
    shuffled = conform("utilization", first.iloc[::-1])  # not a 0..n index: conformed the long way
    assert shuffled.index.tolist() == [0, 1] and shuffled["vm_id"].tolist() == ["vc/b", "vc/a"]
