"""Hostile names through a whole scheduled run and ``assess diff`` (issue 17).

Every known hostile name is given to a VM (and the mathtext ones to clusters) of a small
generated RVTools export, with -2 and 0 vCPUs and -4096 MiB on three others. Two config runs
and a diff: exit 0 each, no traceback, every VM in vms.csv and vms.xlsx, no formula in any
workbook, no CSV cell a spreadsheet would run, the report escaped, the diff printed literally.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assess.report.exports import FORMULA_STARTS
from assess.sample.plant import populate
from assess.sample.rvtools import write_rvtools
from tests.fuzz_strategies import HOSTILE_NAMES

ROOT = Path(__file__).resolve().parent.parent
#: Names an RVTools export can hold: XML 1.0 cannot carry NUL, and a blank name is no VM.
NAMES = [n for n in HOSTILE_NAMES if n.strip() and "\x00" not in n]
CLUSTERS = ["$x^$", "$\\frac$", "$x^2$", "[/bold]"]


def _assess(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assess", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    inv = populate(np.random.default_rng([17]), 40)
    for vm, name in zip(inv.vms, NAMES, strict=False):
        vm["name"] = name
    for cluster, name in zip(inv.clusters, CLUSTERS, strict=False):
        cluster["name"] = name
    for vm, (vcpus, memory) in zip(inv.vms[-3:], [(-2, 4096), (0, 4096), (2, -4096)], strict=True):
        vm["vcpus"], vm["memory_mib"] = vcpus, memory
    (folder / "assessment.yaml").write_text(
        "sources:\n  rvtools: [rvtools.xlsx]\noutput:\n  folder: runs\n  retention: 5\n")
    done = []
    for _ in range(2):
        write_rvtools(folder / "rvtools.xlsx", inv)
        done.append(_assess("run", "--config", str(folder / "assessment.yaml")))
        # in the second run the VMs named with markup, mathtext and control characters grow
        for vm in inv.vms[7:22]:
            vm["vcpus"], vm["memory_mib"] = vm["vcpus"] + 4, vm["memory_mib"] * 4
    diff = _assess("diff", "--history", str(folder / "runs" / "history.duckdb"))
    return folder, inv, done, diff


def test_both_runs_and_the_diff_exit_0_without_traceback(runs):
    _, _, done, diff = runs
    for result in [*done, diff]:
        assert result.returncode == 0, result.stderr[-2000:]
        assert "Traceback" not in result.stderr


def _latest(folder: Path) -> Path:
    return sorted(p for p in (folder / "runs").iterdir() if (p / "summary.json").is_file())[-1]


def test_every_vm_is_in_the_exports_with_its_name_neutralised(runs):
    folder, inv, _, _ = runs
    run = _latest(folder)
    rows = list(csv.DictReader(io.StringIO((run / "vms.csv").read_text(encoding="utf-8"), newline="")))
    assert len(rows) == len(inv.vms) == 40
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(FORMULA_STARTS) or _number(cell), cell
    names = {row["name"] for row in rows}
    assert "'=cmd|' /C calc'!A0" in names and "[/bold]" in names
    assert len(pd.read_excel(run / "vms.xlsx", engine="calamine")) == len(inv.vms)


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_no_workbook_holds_a_formula(runs):
    folder, _, _, _ = runs
    for book in _latest(folder).glob("*.xlsx"):
        with zipfile.ZipFile(book) as archive:
            for part in archive.namelist():
                if part.startswith("xl/worksheets/"):
                    xml = archive.read(part).decode("utf-8")
                    assert "<f>" not in xml and "<f " not in xml, (book.name, part)


def test_the_report_escapes_names_and_draws_mathtext_clusters_literally(runs):
    folder, _, _, _ = runs
    html = (_latest(folder) / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "\\u003cscript" in html


def test_the_diff_prints_names_without_markup_or_escape_sequences(runs):
    _, _, _, diff = runs
    assert "[/bold]" in diff.stdout and "[bold red]x[/]" in diff.stdout and "$x^2$" in diff.stdout
    assert "red" in diff.stdout and "\x1b" not in diff.stdout and "\x07" not in diff.stdout


def test_bad_allocations_are_warned_per_vm_and_not_packed(runs):
    folder, inv, _, _ = runs
    tables = _latest(folder) / "tables"
    warnings = pd.read_parquet(tables / "warnings.parquet")
    warned = warnings[warnings["code"] == "model.allocation.invalid"]
    assert len(warned) == 3
    vms = pd.read_parquet(tables / "vms.parquet")
    assert vms["vcpus"].isna().sum() >= 2 and vms["memory_mib"].isna().sum() >= 1
