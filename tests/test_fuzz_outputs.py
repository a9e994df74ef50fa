"""Property tests of where estate text lands: spreadsheets, CSV, charts, the terminal (issue 17).

Hostile names (formulas, Rich markup, mathtext, control and right-to-left characters) must
arrive as inert text: no ``<f>`` in any xlsx sheet, no CSV cell a spreadsheet would run, charts
drawn without a mathtext parse, terminal lines without markup or escape sequences.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from assess.cli import common
from assess.report.charts import figure_svg, vms_per_cluster_chart
from assess.report.exports import FORMULA_STARTS, _write_csv, _write_xlsx, neutral_csv
from tests.fuzz_strategies import HOSTILE_NAMES, cell_values, hostile_text

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True)
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

frames = st.lists(st.tuples(hostile_text, cell_values, hostile_text), min_size=1, max_size=8).map(
    lambda rows: pd.DataFrame(rows, columns=["name", "value", "cluster"]).astype(
        {"name": "string", "cluster": object}))


def sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return "".join(archive.read(n).decode("utf-8") for n in archive.namelist()
                       if n.startswith("xl/worksheets/"))


def assert_neutral_csv(text: str, expected_rows: int) -> None:
    rows = list(csv.reader(io.StringIO(text, newline="")))  # a CR or LF inside a name stays inside
    assert len(rows) == expected_rows + 1
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS) or _is_number(cell), cell


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@FUZZ
@given(frame=frames)
def test_xlsx_holds_no_formula_and_csv_no_formula_cell(frame):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vms.xlsx"
        _write_xlsx(path, {"vms": frame})
        xml = sheet_xml(path)
        assert "<f>" not in xml and "<f " not in xml
        assert "<hyperlink" not in xml
        _write_csv(Path(tmp) / "vms.csv", frame)
        assert_neutral_csv((Path(tmp) / "vms.csv").read_text(encoding="utf-8"), len(frame))


def test_a_negative_number_stays_a_number_and_a_formula_name_a_name():
    frame = pd.DataFrame({"name": ["=1+2", "web", "-cmd"], "delta": [-2, 3, -4]})
    assert neutral_csv(frame).to_dict("list") == {"name": ["'=1+2", "web", "'-cmd"], "delta": [-2, 3, -4]}
    assert frame["name"].tolist() == ["=1+2", "web", "-cmd"]  # the input is not changed


@contextmanager
def captured():
    """The CLI's stdout console writing into a string (no terminal, no colours)."""
    saved, buffer = common.console, io.StringIO()
    common.console = Console(file=buffer, width=200, color_system=None)
    try:
        yield buffer
    finally:
        common.console = saved


@FUZZ
@given(text=hostile_text)
def test_terminal_output_is_literal_and_free_of_control_characters(text):
    with captured() as out:
        common.say(f"VM {text} changed")
    printed = out.getvalue()
    assert not _CONTROL.search(printed)
    assert printed == f"VM {common.printable(text)} changed\n"


@FUZZ
@given(clusters=st.lists(hostile_text, min_size=1, max_size=4))
def test_charts_draw_any_cluster_name_literally(clusters):
    vms = pd.DataFrame({"vm_id": [f"vm-{i}" for i in range(len(clusters))], "cluster": clusters,
                        "power_state": "poweredOn"})
    svg = figure_svg(vms_per_cluster_chart(vms))
    assert svg.startswith("<svg")


def test_mathtext_is_off_for_every_chart():
    import matplotlib

    from assess.report import charts  # noqa: F401  (importing a chart module sets it)

    assert matplotlib.rcParams["text.parse_math"] is False
    vms = pd.DataFrame({"vm_id": ["a", "b"], "cluster": ["$\\frac$", "$x^$"], "power_state": "on"})
    svg = figure_svg(vms_per_cluster_chart(vms))  # both are invalid mathtext: a ValueError before
    assert "$x^$" in svg and "$\\frac$" in svg


def test_every_known_hostile_name_prints_literally():
    with captured() as buffer:
        for name in HOSTILE_NAMES:
            common.say(name)
    out = buffer.getvalue()
    assert "[/bold]" in out and "[bold red]x[/]" in out and "\x1b" not in out and "\u202e" not in out

