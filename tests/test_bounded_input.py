"""Crafted input ends in exit 0 or 2 with bounded memory, never an abort or a traceback (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from assess.collect.rvtools import read_rvtools
from assess.collect.xlsx_bounds import XlsxBounds, XlsxLimits
from assess.config import load_config
from assess.model import AssessError
from tests.xlsx_craft import vinfo, write_xlsx

ROOT = Path(__file__).resolve().parent.parent
MEMORY_LIMIT_KB = 1_500_000  # 1.5 GB peak resident set, the bound
VMS = [{"VM": "web01", "CPUs": 2, "Memory": 4096, "Powerstate": "poweredOn", "VM ID": "vm-1",
        "VI SDK UUID": "vc-1"},
       {"VM": "db01", "CPUs": 4, "Memory": 8192, "Powerstate": "poweredOn", "VM ID": "vm-2",
        "VI SDK UUID": "vc-1"}]


def assess_peak(*args: str) -> tuple[int, str, int]:
    """Run ``assess ARGS``; its exit code, stderr and peak resident memory (KB, from wait4)."""
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "assess", *args], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return proc.returncode, err.read(), usage.ru_maxrss


@pytest.mark.parametrize("far", ["XFD1048576", "CO1048576"])
def test_one_far_cell_is_refused_before_reading_with_bounded_memory(far, tmp_path):
    path = write_xlsx(tmp_path / "crafted.xlsx", {"vInfo": {**vinfo(VMS), far: 1}}, dimension=f"A1:{far}")
    assert path.stat().st_size < 7_000
    code, stderr, peak = assess_peak("import", "rvtools", str(path), "--out", str(tmp_path / "estate"))
    assert code == 2
    assert f"sheet vInfo: a value at {far} makes a grid of 1,048,576 rows" in stderr
    assert "Traceback" not in stderr and stderr.count("\n") == 1
    assert peak < MEMORY_LIMIT_KB


def test_an_understated_dimension_does_not_hide_a_far_cell(tmp_path):
    path = write_xlsx(tmp_path / "liar.xlsx", {"vInfo": {**vinfo(VMS), "ZZ900000": 1}}, dimension="A1:B2")
    with pytest.raises(AssessError, match=r"a value at ZZ900000 makes a grid of 900,000 rows x 702 columns"):
        read_rvtools([path])


def test_empty_padding_rows_make_no_grid(tmp_path, shared):
    """RVTools pads sheets with empty rows up to 1,048,576 and declares that dimension: it imports."""
    real = shared / "data" / "rvtools" / "migration-planner-e2e-example1-9vms.xlsx"
    assert len(read_rvtools([real])["vms"]) == 9
    bounds = XlsxBounds(real)
    for sheet in bounds.parts:
        bounds.check(sheet)


def test_a_limit_is_a_parameter(tmp_path):
    cells = vinfo(VMS)
    path = write_xlsx(tmp_path / "small.xlsx", {"vInfo": cells})
    XlsxBounds(path, XlsxLimits(max_sheet_cells=100)).check("vInfo")  # 6 columns x 3 rows
    path = write_xlsx(tmp_path / "wide.xlsx", {"vInfo": {**cells, "DA3": 1}})
    with pytest.raises(AssessError, match=r"DA3 makes a grid of 3 rows x 105 columns \(315 cells\)"):
        XlsxBounds(path, XlsxLimits(max_sheet_cells=300)).check("vInfo")
    with pytest.raises(AssessError, match=r"unzips to [\d,]+ bytes, over the limit of 1,000"):
        XlsxBounds(path, XlsxLimits(max_unzipped_bytes=1_000))


def test_every_real_export_passes_the_screen(shared):
    for path in sorted((shared / "data" / "rvtools").glob("*.xlsx")):
        bounds = XlsxBounds(path)
        for sheet in bounds.parts:
            bounds.check(sheet)


def _laughs(levels: int) -> str:
    """A config whose alias tree names 10**levels strings inside a valid field."""
    lines = ['lol0: &l0 "lol"']
    lines += [f"lol{i}: &l{i} [{', '.join(f'*l{i - 1}' for _ in range(10))}]" for i in range(1, levels + 1)]
    body = "\n".join(f"    {line}" for line in lines)
    return f"sources:\n  rvtools: [a.xlsx]\nx-anchors:\n{body}\n"


def test_yaml_aliases_are_refused_in_one_line(tmp_path):
    path = tmp_path / "assessment.yaml"
    path.write_text(_laughs(9))
    with pytest.raises(AssessError, match=r"line 5: aliases \(\*name\) are not allowed"):
        load_config(path)
    code, stderr, peak = assess_peak("run", "--config", str(path))
    assert code == 2 and "aliases (*name) are not allowed" in stderr and peak < MEMORY_LIMIT_KB


def test_a_config_that_is_not_a_mapping_is_one_line(tmp_path):
    path = tmp_path / "assessment.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(AssessError, match="a config file is a mapping"):
        load_config(path)


def _screening_threads() -> list:
    import threading
    return [t for t in threading.enumerate() if t.name.startswith("xlsx-bounds")]


@pytest.mark.parametrize("case", ["read", "refused sheet", "no vInfo"])
def test_an_import_leaves_no_screening_thread_behind(case, tmp_path):
    """The background screen stops (and the zip closes) as the import returns or fails.

    The failure cases check while the exception (whose traceback holds the import's frames) is
    alive, as a caller handling it would: nothing may still be screening the workbook then.
    """
    sheets = {"read": {"vInfo": vinfo(VMS)}, "refused sheet": {"vInfo": {**vinfo(VMS), "ZZ900000": 1}},
              "no vInfo": {"vHost": vinfo(VMS)}}[case]
    path = write_xlsx(tmp_path / "x.xlsx", sheets)
    if case == "read":
        assert len(read_rvtools([path])["vms"]) == 2
        assert _screening_threads() == []
        return
    with pytest.raises(AssessError) as failed:
        read_rvtools([path])
    assert failed.traceback and _screening_threads() == []
