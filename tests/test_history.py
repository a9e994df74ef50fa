import pandas as pd
import pytest

from assess.history.snapshot import VM_STATE_COLUMNS, diff_snapshots
from assess.history.store import RunStore
from assess.model import AssessError


def _snap(rows, deps=(), figures=None):
    state = pd.DataFrame(rows, columns=list(VM_STATE_COLUMNS)).astype(VM_STATE_COLUMNS)
    dep = pd.DataFrame(list(deps), columns=["src", "dst"]).astype("string")
    fig = pd.DataFrame(list((figures or {"nodes": 4}).items()), columns=["figure", "value"])
    return {
        "vm_state": state,
        "dependencies": dep,
        "figures": fig.astype({"figure": "string", "value": float}),
    }


BEFORE = _snap(
    [
        ("a", "web01", 2, 4096.0, 10240.0, "ready", 1),
        ("b", "db01", 4, 8192.0, 20480.0, "ready", 1),
        ("c", "old", 1, 1024.0, 1024.0, "ready", 2),
    ],
    deps=[("a", "b")],
    figures={"nodes": 4.0, "waves": 2.0},
)
AFTER = _snap(
    [
        ("a", "web01-new", 2, 4096.0, 10240.0, "ready", 1),
        ("b", "db01", 8, 8192.0, 20480.0, "not_ready", None),
        ("d", "fresh", 1, 1024.0, 1024.0, "ready", 2),
    ],
    deps=[("a", "b"), ("a", "d")],
    figures={"nodes": 5.0, "waves": 2.0},
)


def test_diff_lists_exactly_the_changes():
    diff = diff_snapshots(BEFORE, AFTER)
    got = {(r.change, r.vm_id if pd.notna(r.vm_id) else None, r.detail) for r in diff.itertuples()}
    assert got == {
        ("added", "d", ""),
        ("removed", "c", ""),
        ("renamed", "a", "web01 -> web01-new"),
        ("resized", "b", "vCPU 4 -> 8"),
        ("readiness_changed", "b", "ready -> not_ready"),
        ("wave_changed", "b", "1 -> none"),
        ("dependency_added", "a", "web01-new -> fresh; waves affected: 1, 2"),
        ("figure_changed", None, "nodes 4 -> 5"),
    }


def test_identical_snapshots_have_no_diff():
    assert diff_snapshots(BEFORE, BEFORE).empty


def test_store_round_trips_runs_and_finds_previous(tmp_path):
    store = RunStore(tmp_path / "h.duckdb")
    store.record_run("r1", {"inputs": [{"id": "rvtools-1", "path": "x.xlsx"}]}, BEFORE)
    store.record_run("r2", {"inputs": []}, AFTER)
    assert store.runs()["run_id"].tolist() == ["r1", "r2"]
    assert store.previous_run("r2") == "r1" and store.previous_run("r1") is None
    diff = diff_snapshots(store.snapshot("r1"), store.snapshot("r2"))
    assert sorted(diff["change"]) == sorted(diff_snapshots(BEFORE, AFTER)["change"])
    with pytest.raises(AssessError, match="no run 'r9'"):
        store.snapshot("r9")


def test_store_refuses_credential_looking_provenance(tmp_path):
    with pytest.raises(AssessError, match="looks like a credential"):
        RunStore(tmp_path / "h.duckdb").record_run("r1", {"inputs": [{"password": "x"}]}, BEFORE)
