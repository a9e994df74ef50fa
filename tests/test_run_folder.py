"""Run folders: saved whole or not at all, locked, owned; retention deletes only what assess wrote."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from assess import Run
from assess.config import load_config
from assess.history.store import RunStore
from assess.model import AssessError, Estate
from assess.model.results import StageResult
from assess.pipeline import run_config
from assess.runfolder import MANIFEST, RunFolder, owned_runs, prune_runs, read_manifest, writing


def _tiny_run(recorded_vms: int = 1) -> Run:
    vms = pd.DataFrame({"vm_id": [f"vc/vm-{i}" for i in range(recorded_vms)],
                        "name": [f"vm{i}" for i in range(recorded_vms)]})
    plan = pd.DataFrame({"vm_id": vms["vm_id"], "wave": [1] * recorded_vms})
    return Run(Estate({"vms": vms}), {"waves": StageResult(tables={"wave_plan": plan}, params={"seed": 0})})


def _save(path: Path, recorded_at: str) -> Path:
    """A tiny run saved as if at ``recorded_at``."""
    with writing(path) as folder:
        _tiny_run()._write(folder.staging, path, recorded_at, report=False)
        folder.commit(recorded_at)
    return path


@pytest.fixture(scope="module")
def sample(staged_sample):
    return staged_sample.folder


def test_a_saved_run_loads_back_equal(tmp_path, staged_sample):
    run = Run(staged_sample.estate, staged_sample.results)
    run.save(tmp_path / "run")
    back = Run.load(tmp_path / "run")
    assert back.summary == json.loads((tmp_path / "run" / "summary.json").read_text())
    for name in ("readiness", "concerns", "sizing", "nodes", "wave_plan", "waves", "wave_metrics"):
        pd.testing.assert_frame_equal(back.table(name), run.table(name), check_like=False)
    pd.testing.assert_frame_equal(back.table("vms"), run.table("vms"))
    pd.testing.assert_frame_equal(back.warnings, run.warnings)
    assert back.params == run.params
    assert back.params["sizing"]["packing"]["target_utilization"] == 0.8  # defaults recorded too
    manifest = read_manifest(tmp_path / "run")
    on_disk = sorted(str(p.relative_to(tmp_path / "run")) for p in (tmp_path / "run").rglob("*")
                     if p.is_file() and p.name != MANIFEST)
    assert manifest["files"] == on_disk


def test_a_folder_without_the_manifest_is_not_a_run(tmp_path):
    _save(tmp_path / "run", "2026-01-01T00:00:00+00:00")
    (tmp_path / "run" / MANIFEST).unlink()  # as a run killed before its commit would leave it
    with pytest.raises(AssessError, match="not a complete run folder"):
        Run.load(tmp_path / "run")
    assert owned_runs(tmp_path) == []


def test_a_run_folder_missing_a_listed_file_is_refused(tmp_path):
    _save(tmp_path / "run", "2026-01-01T00:00:00+00:00")
    (tmp_path / "run" / "tables" / "wave_plan.parquet").unlink()
    with pytest.raises(AssessError, match="run folder damaged: 1 file.*tables/wave_plan.parquet"):
        Run.load(tmp_path / "run")


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    first = RunFolder(tmp_path / "run").open()
    try:
        with pytest.raises(AssessError, match="busy"):
            RunFolder(tmp_path / "run").open()
    finally:
        first.close()
    RunFolder(tmp_path / "run").open().close()  # free again once released


def test_overwriting_refuses_a_folder_with_foreign_files(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(AssessError, match=r"holds files assess did not write \(notes.txt\)"):
        _tiny_run().save(target, report=False)
    assert (target / "notes.txt").read_text() == "keep me"
    _save(tmp_path / "run", "2026-01-01T00:00:00+00:00")
    (tmp_path / "run" / "tables" / "mine.csv").write_text("x")  # dropped into a run afterwards
    with pytest.raises(AssessError, match="tables/mine.csv"):
        _tiny_run().save(tmp_path / "run", report=False)
    assert (tmp_path / "run" / "tables" / "mine.csv").is_file()


def test_an_owned_run_is_replaced_whole(tmp_path):
    _save(tmp_path / "run", "2026-01-01T00:00:00+00:00")
    _tiny_run(3).save(tmp_path / "run", report=False)
    assert len(Run.load(tmp_path / "run").table("vms")) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no staging folder, no lock file left


@pytest.mark.parametrize("folder", ["/", "/etc", "/usr", "~"])
def test_system_folders_are_refused(folder):
    with pytest.raises(AssessError, match="refusing a system folder"):
        _tiny_run().save(Path(folder).expanduser(), report=False)
    with pytest.raises(AssessError, match="refusing a system folder"):
        prune_runs(Path(folder).expanduser(), 1)


def test_prune_keeps_the_newest_by_recorded_time_not_by_name(tmp_path):
    _save(tmp_path / "b-older", "2026-01-01T00:00:00+00:00")
    _save(tmp_path / "a-newer", "2026-02-01T00:00:00+00:00")
    _save(tmp_path / "c-newest", "2026-03-01T00:00:00+00:00")
    assert prune_runs(tmp_path, 2) == [tmp_path / "b-older"]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["a-newer", "c-newest"]


def test_prune_deletes_only_listed_files_and_never_a_foreign_folder(tmp_path):
    foreign = tmp_path / "aaa-project"
    foreign.mkdir()
    (foreign / "summary.json").write_text("{}")  # looked like a run to the old retention
    (foreign / "data.txt").write_text("precious")
    (tmp_path / "notes.txt").write_text("precious")
    _save(tmp_path / "r1", "2026-01-01T00:00:00+00:00")
    (tmp_path / "r1" / "tables" / "added-by-hand.csv").write_text("precious")
    _save(tmp_path / "r2", "2026-02-01T00:00:00+00:00")
    assert prune_runs(tmp_path, 1) == [tmp_path / "r1"]
    assert (foreign / "data.txt").read_text() == "precious" and (foreign / "summary.json").is_file()
    assert (tmp_path / "notes.txt").is_file()
    # r1 loses its files and marker, keeps the one it did not write, and is no run any more
    assert [str(p.relative_to(tmp_path)) for p in (tmp_path / "r1").rglob("*") if p.is_file()] == [
        "r1/tables/added-by-hand.csv"]
    assert [p.name for p, _ in owned_runs(tmp_path)] == ["r2"]


@pytest.mark.slow
def test_scheduled_runs_under_a_parent_folder_delete_nothing_foreign(tmp_path, sample):
    """The reported case: ``output.folder: ../../`` and ``retention: 2`` over someone else's folders."""
    for name in ("aaa-project", "zzz-project"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text("{}")
        (tmp_path / name / "report.docx").write_text("precious")
    config_dir = tmp_path / "conf" / "assess"
    config_dir.mkdir(parents=True)
    (config_dir / "config.yaml").write_text(
        f"sources:\n  rvtools: [{sample / 'rvtools.xlsx'}]\noutput:\n  folder: ../../\n  retention: 2\n"
        "sizing:\n  packing: {cpsat_time_limit_s: 1}\n")
    config = load_config(config_dir / "config.yaml")
    summaries = [run_config(config) for _ in range(3)]
    for name in ("aaa-project", "zzz-project"):
        assert (tmp_path / name / "report.docx").read_text() == "precious"
    kept = [p.name for p, _ in owned_runs(tmp_path)]
    assert kept == [Path(s["run_folder"]).name for s in summaries[1:]]  # the newest two, the last included
    assert summaries[2]["deleted_runs"] == [summaries[0]["run_folder"]]
    assert (tmp_path / "conf" / "assess" / "config.yaml").is_file()


def test_a_run_that_fails_before_its_commit_leaves_nothing_and_no_history(tmp_path, sample, monkeypatch):
    (tmp_path / "config.yaml").write_text(f"sources:\n  rvtools: [{sample / 'rvtools.xlsx'}]\n"
                                          "output:\n  folder: runs\n")
    config = load_config(tmp_path / "config.yaml")

    def broken(*args, **kwargs):
        raise AssessError("disk full")

    monkeypatch.setattr("assess.report.html.render_report", broken)
    with pytest.raises(AssessError, match="disk full"):
        run_config(config)
    left = {p.name for p in (tmp_path / "runs").iterdir()}
    assert left <= {"history.duckdb"}  # no run, no staging folder, no lock file
    assert not left or RunStore(config.output.history_path).runs().empty


@pytest.mark.slow
def test_a_run_killed_while_overwriting_never_appears_complete(tmp_path, sample):
    out = tmp_path / "SAME"
    cmd = [sys.executable, "-m", "assess", "run", str(sample), "--out", str(out), "--json"]
    subprocess.run(cmd, check=True, capture_output=True)
    first = json.loads((out / "summary.json").read_text())["generated_at"]
    seen = set()
    for delay in (1.0, 4.0, 7.0):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        manifest = read_manifest(out)
        assert manifest is not None  # the previous run (or the new one) is there, whole
        on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*")
                         if p.is_file() and p.name != MANIFEST)
        assert on_disk == manifest["files"]
        summary = json.loads((out / "summary.json").read_text())
        assert summary["generated_at"] == manifest["recorded_at"]  # tables, report and summary agree
        seen.add(summary["generated_at"])
        Run.load(out)
    assert first in seen  # killed early: the previous run is still there, untouched


def test_a_new_writer_clears_what_a_killed_one_left_beside_the_folder(tmp_path):
    _save(tmp_path / "run", "2026-01-01T00:00:00+00:00")
    for name in (".run.part-99999", ".run.old-99999"):  # as a SIGKILL before and inside the swap leaves
        _save(tmp_path / name, "2026-01-01T00:00:00+00:00")
    (tmp_path / ".run.part-99998" / "tables").mkdir(parents=True)  # killed while the old run was removed
    (tmp_path / ".run.part-99998" / "tables" / "vms.parquet").touch()
    (tmp_path / ".run.lock").touch()  # its holder was killed
    (tmp_path / ".run.part-foreign").mkdir()  # not ours: no marker
    assert [p.name for p, _ in owned_runs(tmp_path)] == ["run"]  # hidden siblings are never runs
    _tiny_run(2).save(tmp_path / "run", report=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.part-foreign", "run"]


def test_the_cli_refuses_a_busy_run_folder_with_one_line(tmp_path, sample):
    held = RunFolder(tmp_path / "run").open()
    try:
        cmd = [sys.executable, "-m", "assess", "run", str(sample), "--out", str(tmp_path / "run")]
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    finally:
        held.close()
    assert proc.returncode == 2
    assert "run folder busy" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_config_with_a_system_output_folder_is_refused_before_any_work(tmp_path):
    (tmp_path / "config.yaml").write_text("sources:\n  rvtools: [missing.xlsx]\noutput:\n  folder: /etc\n")
    with pytest.raises(AssessError, match="^/etc: refusing a system folder as output folder"):
        run_config(load_config(tmp_path / "config.yaml"))  # before reading the (missing) source


def test_prune_never_follows_a_manifest_out_of_its_folder(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    runs = tmp_path / "runs"
    _save(runs / "r1", "2026-01-01T00:00:00+00:00")
    _save(runs / "r2", "2026-02-01T00:00:00+00:00")
    manifest = json.loads((runs / "r1" / MANIFEST).read_text())
    manifest["files"] += ["../../outside.txt", str(outside)]  # a crafted (or corrupted) manifest
    (runs / "r1" / MANIFEST).write_text(json.dumps(manifest))
    (runs / "r1" / "link.txt").symlink_to(outside)
    manifest["files"].append("link.txt")
    (runs / "r1" / MANIFEST).write_text(json.dumps(manifest))
    assert prune_runs(runs, 1) == [runs / "r1"]
    assert outside.read_text() == "precious"
