import csv
import json
import subprocess
import sys

import pytest
from python_calamine import CalamineWorkbook

from assess.config import load_config
from assess.history.store import RunStore
from assess.pipeline import run_config
from assess.sample import generate_sample

pytestmark = pytest.mark.slow


def _to_csv_folder(xlsx, folder):
    """An RVTools 'export all to CSV' folder made from an xlsx export."""
    folder.mkdir()
    wb = CalamineWorkbook.from_path(str(xlsx))
    for name in wb.sheet_names:
        rows = wb.get_sheet_by_name(name).to_python()
        with open(folder / f"RVTools_tab{name}.csv", "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)


def _edit(folder, edit):
    """Apply ``edit(header, row) -> row | None`` to every VM sheet of a CSV export."""
    for path in folder.glob("RVTools_tab*.csv"):
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        if not rows or "VM" not in rows[0]:
            continue
        out = [rows[0]] + [r for r in (edit(rows[0], list(row)) for row in rows[1:]) if r is not None]
        with open(path, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(out)


@pytest.fixture(scope="module")
def scheduled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sched")
    files = generate_sample(tmp / "sample", vms=100, seed=3)
    export = tmp / "export"
    _to_csv_folder(files["rvtools"], export)
    cfg = tmp / "assessment.yaml"
    cfg.write_text("sources:\n  rvtools: [export]\noutput:\n  folder: runs\n  retention: 5\n")
    config = load_config(cfg)
    first = run_config(config)
    with open(export / "RVTools_tabvInfo.csv", newline="", encoding="utf-8") as fh:
        vinfo = list(csv.DictReader(fh))
    plain = [r for r in vinfo if r["Template"] == "False" and float(r["CPUs"]) == 2][:3]
    renamed, resized, removed = (r["VM"] for r in plain)

    def edit(header, row):
        name = row[header.index("VM")]
        if name == removed:
            return None
        if name == renamed:
            row[header.index("VM")] = renamed + "-new"
        if name == resized:
            for col in ("CPUs",):
                if col in header:
                    row[header.index(col)] = "4"
        return row

    _edit(export, edit)
    second = run_config(load_config(cfg))
    return config, first, second, (renamed, resized, removed), cfg


def test_second_run_diff_lists_exactly_the_changes_made(scheduled):
    config, first, second, (renamed, resized, removed), _ = scheduled
    assert second["previous_run"] == first["run_folder"].split("/")[-1]
    changes = json.loads(
        (config.output.folder / second["run_folder"].split("/")[-1] / "summary.json").read_text()
    )["changes"]
    store = RunStore(config.output.history_path)
    from assess.history.snapshot import diff_snapshots

    runs = store.runs()["run_id"].tolist()
    diff = diff_snapshots(store.snapshot(runs[0]), store.snapshot(runs[1]))
    inventory = {
        (r.change, r.name)
        for r in diff.itertuples()
        if r.change in {"added", "removed", "renamed", "resized"}
    }
    assert inventory == {("removed", removed), ("renamed", renamed + "-new"), ("resized", resized)}
    resize = diff[(diff["change"] == "resized")].iloc[0]
    assert resize["detail"] == "vCPU 2 -> 4"
    assert changes["removed"] == 1 and changes["renamed"] == 1
    html = (config.output.folder / second["run_folder"].split("/")[-1] / "index.html").read_text()
    assert f"{renamed} -&gt; {renamed}-new" in html


def test_cli_diff_and_fail_on_exit_code(scheduled):
    config, *_, cfg = scheduled
    out = subprocess.run(
        [sys.executable, "-m", "assess", "diff", "--history", str(config.output.history_path), "--json"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert {c["change"] for c in json.loads(out.stdout)["changes"]} >= {"removed", "renamed", "resized"}
    cfg.write_text(cfg.read_text().replace("retention: 5", "retention: 2\n  fail_on: not_ready"))
    run = subprocess.run(
        [sys.executable, "-m", "assess", "run", "--config", str(cfg), "--json"],
        capture_output=True,
        text=True,
    )
    summary = json.loads(run.stdout)
    not_ready = summary["stages"]["readiness"]["verdicts"]["not_ready"]
    assert not_ready > 0 and run.returncode == 1 and "not_ready" in run.stderr
    assert len(summary["deleted_runs"]) == 1  # three runs, retention 2
