"""The estate store survives kill -9 at any write step and two imports at once (issue 17)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assess.collect.rvtools import read_rvtools
from assess.model import AssessError, Estate
from assess.model.estate import merge_into_folder
from assess.model.store import LOCK_NAME, folder_lock
from assess.sample.plant import populate
from assess.sample.rvtools import write_rvtools
from tests.store_helpers import run_killed

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Two small RVTools exports with disjoint VMs (40 and 30 VMs)."""
    folder = tmp_path_factory.mktemp("exports")
    paths = []
    for seed, vms in ((1, 40), (2, 30)):
        path = folder / f"rvtools-{seed}.xlsx"
        write_rvtools(path, populate(np.random.default_rng([seed]), vms))
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def old_estate(exports, tmp_path_factory):
    """An estate holding the first export, and the VM ids it holds."""
    folder = tmp_path_factory.mktemp("base") / "estate"
    merge_into_folder(folder, read_rvtools([exports[0]]))
    return folder, set(Estate.load(folder)["vms"]["vm_id"])


def _vm_ids(folder) -> set:
    estate = Estate.load(folder)
    manifest = json.loads((folder / "estate.json").read_text())
    assert estate.counts() == manifest["counts"]  # every table is the one estate.json describes
    return set(estate["vms"]["vm_id"])


def _assess(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "assess", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def test_kill_at_every_write_step_leaves_the_old_or_the_new_estate(exports, old_estate, tmp_path):
    base, old = old_estate
    added = read_rvtools([exports[1]])
    clean = tmp_path / "clean"
    shutil.copytree(base, clean)
    code, steps = run_killed(lambda: merge_into_folder(clean, added), kill_at=0)
    assert code == 0
    new = _vm_ids(clean)
    assert len(new) == len(old) + 30
    print(f"{steps} write steps")
    assert steps > 40  # 16 tables written and flushed, the commit, the clean-up
    seen = set()
    for k in range(1, steps + 1):
        estate = tmp_path / f"k{k}"
        shutil.copytree(base, estate)
        assert run_killed(lambda e=estate: merge_into_folder(e, added), kill_at=k)[0] == -signal.SIGKILL
        ids = _vm_ids(estate)
        assert ids in (old, new), k
        seen.add(len(ids))
        if k % 8 == 1:  # the next import completes and removes what the killed one left
            merge_into_folder(estate, added)
            assert _vm_ids(estate) == new
            assert sorted(p.name for p in estate.iterdir()) == \
                [LOCK_NAME, "estate.json", json.loads((estate / "estate.json").read_text())["tables_dir"]]
        shutil.rmtree(estate)
    assert seen == {len(old), len(new)}  # kills before the commit and after it were both hit


def test_kill_at_random_times_leaves_a_loadable_estate(exports, old_estate, tmp_path):
    base, old = old_estate
    rng = np.random.default_rng(17)
    for i, delay in enumerate(rng.uniform(1.5, 4.0, size=3)):
        estate = tmp_path / f"t{i}"
        shutil.copytree(base, estate)
        proc = _assess("import", "rvtools", str(exports[1]), "--out", str(estate))
        time.sleep(delay)
        proc.kill()
        proc.wait()
        assert len(_vm_ids(estate)) in (len(old), len(old) + 30)


def test_two_imports_at_once_both_land(exports, old_estate, tmp_path):
    base, old = old_estate
    extra = tmp_path / "rvtools-3.xlsx"
    write_rvtools(extra, populate(np.random.default_rng([3]), 20))
    estate = tmp_path / "estate"
    shutil.copytree(base, estate)
    procs = [_assess("import", "rvtools", str(path), "--out", str(estate)) for path in (exports[1], extra)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert [code for code, _ in results] == [0, 0], results
    assert len(_vm_ids(estate)) == len(old) + 30 + 20


def test_a_second_writer_that_cannot_wait_stops_with_estate_busy(exports, old_estate, tmp_path):
    base, old = old_estate
    estate = tmp_path / "estate"
    shutil.copytree(base, estate)
    with folder_lock(estate, what="estate"):
        proc = _assess("import", "rvtools", str(exports[1]), "--out", str(estate),
                       env={"ASSESS_LOCK_WAIT": "0.2"})
        code, stderr = proc.wait(timeout=120), proc.stderr.read()
    assert code == 2
    assert "estate busy" in stderr and "Traceback" not in stderr
    assert _vm_ids(estate) == old


def test_busy_lock_in_process_names_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSESS_LOCK_WAIT", "0")
    with folder_lock(tmp_path, what="estate"):
        with pytest.raises(AssessError, match=rf"{tmp_path}: estate busy"):
            merge_into_folder(tmp_path, Estate())
    assert (tmp_path / LOCK_NAME).is_file()


def _one_vm(vm_id: str) -> Estate:
    estate = Estate()
    estate["vms"] = pd.DataFrame({"vm_id": [vm_id], "name": [vm_id]})
    return estate


def test_an_estate_saved_before_generations_loads_and_upgrades(tmp_path):
    folder = _one_vm("a").save(tmp_path / "estate")
    manifest = json.loads((folder / "estate.json").read_text())
    (folder / manifest.pop("tables_dir")).rename(folder / "tables")  # the old layout
    (folder / "estate.json").write_text(json.dumps(manifest))
    assert Estate.load(folder)["vms"]["vm_id"].tolist() == ["a"]
    merge_into_folder(folder, _one_vm("b"))
    assert sorted(Estate.load(folder)["vms"]["vm_id"]) == ["a", "b"]
    assert not (folder / "tables").exists()


def test_a_manifest_naming_a_folder_outside_the_estate_is_refused(tmp_path):
    folder = _one_vm("a").save(tmp_path / "estate")
    manifest = json.loads((folder / "estate.json").read_text())
    (folder / "estate.json").write_text(json.dumps({**manifest, "tables_dir": "../elsewhere"}))
    with pytest.raises(AssessError, match="tables_dir '../elsewhere' is not a tables folder"):
        Estate.load(folder)


def test_saving_twice_keeps_one_tables_folder(tmp_path):
    folder = tmp_path / "estate"
    _one_vm("a").save(folder)
    _one_vm("b").save(folder)
    assert sorted(p.name for p in folder.iterdir()) == [LOCK_NAME, "estate.json", "tables.2"]
    assert Estate.load(folder)["vms"]["vm_id"].tolist() == ["b"]
