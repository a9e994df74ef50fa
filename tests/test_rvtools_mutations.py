"""Property: any mutation of a real export's sheets and headers imports or is refused in one line.

Hypothesis drops or renames columns, drops sheets, blanks cells, reorders columns and inserts
empty rows in the real RVTools 4.7 export (written back as an "export all to CSV" folder, the
fastest real format to rewrite). The import and the readiness stage must then either succeed
with one VM per named vInfo row, or raise :class:`AssessError` with a one-line message: never
another exception.
"""

from __future__ import annotations

import csv

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rvtools_real import real_sheets

from assess.collect.rvtools import read_rvtools
from assess.model import AssessError
from assess.readiness import assess_readiness

SHEETS = ("vInfo", "vCPU", "vMemory", "vDisk", "vPartition", "vNetwork", "vTools", "vHost")

_sheet = st.sampled_from(SHEETS)
_index = st.integers(min_value=0, max_value=200)
MUTATIONS = st.one_of(
    st.tuples(st.just("drop_column"), _sheet, _index),
    st.tuples(st.just("rename_header"), _sheet, _index, st.text(max_size=12)),
    st.tuples(st.just("drop_sheet"), _sheet),
    st.tuples(st.just("blank_cells"), _sheet, _index, st.lists(_index, max_size=20)),
    st.tuples(st.just("reorder_columns"), _sheet, st.randoms(use_true_random=False)),
    st.tuples(st.just("insert_empty_rows"), _sheet, _index, st.integers(1, 5)),
)


def mutate(sheets: dict[str, list[list]], op: tuple) -> None:
    """Apply one mutation to ``sheets`` in place (indexes wrap around the sheet's size)."""
    kind, name = op[0], op[1]
    if name not in sheets:
        return
    rows = sheets[name]
    width = len(rows[0])
    if kind == "drop_sheet":
        del sheets[name]
    elif kind == "drop_column":
        i = op[2] % width
        sheets[name] = [row[:i] + row[i + 1:] for row in rows]
    elif kind == "rename_header":
        rows[0][op[2] % width] = op[3]
    elif kind == "blank_cells":
        col = op[2] % width
        for r in op[3]:
            rows[1 + r % (len(rows) - 1)][col] = "" if len(rows) > 1 else rows[0][col]
    elif kind == "reorder_columns":
        order = list(range(width))
        op[2].shuffle(order)
        sheets[name] = [[row[i] for i in order] for row in rows]
    elif kind == "insert_empty_rows":
        at = 1 + op[2] % len(rows)
        sheets[name] = rows[:at] + [[""] * width for _ in range(op[3])] + rows[at:]


def write_csv_folder(folder, sheets) -> None:
    folder.mkdir()
    for name, rows in sheets.items():
        with open(folder / f"RVTools_tab{name}.csv", "w", newline="", encoding="utf-8-sig") as f:
            csv.writer(f).writerows(["" if v is None else v for v in row] for row in rows)


def named_vms(sheets) -> int | None:
    """vInfo rows with a VM name, or None when the mutations took vInfo or its VM header away."""
    info = sheets.get("vInfo")
    if info is None or "VM" not in info[0]:
        return None
    i = info[0].index("VM")
    return sum(1 for row in info[1:] if str(row[i]).strip() != "")


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(MUTATIONS, min_size=1, max_size=3))
@example(ops=[("rename_header", "vInfo", 0, "Machine")])  # vInfo's VM header edited away: refused
@example(ops=[("drop_sheet", "vDisk"), ("blank_cells", "vInfo", 0, [0, 5, 9])])
@example(ops=[("drop_column", "vPartition", 0), ("insert_empty_rows", "vInfo", 3, 2)])
def test_mutated_real_export_imports_or_is_refused_in_one_line(shared, tmp_path_factory, ops):
    sheets = {n: rows for n, rows in real_sheets(shared).items() if n in SHEETS}
    for op in ops:
        mutate(sheets, op)
    folder = tmp_path_factory.mktemp("mutated") / "export"
    write_csv_folder(folder, sheets)
    expected = named_vms(sheets)
    try:
        estate = read_rvtools([folder])
        readiness = assess_readiness(estate).tables["readiness"]
    except AssessError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    assert expected is not None, "an export without vInfo/VM must be refused"
    assert len(estate["vms"]) == len(readiness) == expected
