"""Property tests of the parsers: any input ends in a result or one AssessError, never another exception.

RVTools sheets with shuffled, duplicated or missing headers and hostile cells; utilization and
flow CSVs with arbitrary rows; config YAML of arbitrary shape. Bounded: a few dozen examples
each, small files, no deadline surprises on a shared machine.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pandas as pd
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assess.collect.flows import read_flows
from assess.collect.rvtools import read_rvtools
from assess.collect.utilization import read_utilization
from assess.config import load_config
from assess.model import AssessError, Estate
from tests.fuzz_strategies import cell_values, hostile_text
from tests.xlsx_craft import vinfo, write_xlsx

FUZZ = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True)
VINFO_HEADERS = ["VM", "VM ID", "VI SDK UUID", "CPUs", "Memory", "Powerstate", "Template", "Cluster",
                 "Host", "Folder", "OS according to the configuration file", "Provisioned MB"]


def _inventory(names: list[str]) -> Estate:
    estate = Estate()
    estate["vms"] = pd.DataFrame({"vm_id": [f"vc/vm-{i}" for i in range(len(names))], "name": names})
    return estate


@st.composite
def vinfo_sheets(draw):
    """vInfo rows with unique names and ids, arbitrary other cells, headers in any order."""
    names = draw(st.lists(hostile_text.filter(lambda s: s.strip() != ""), min_size=1, max_size=6,
                          unique_by=lambda s: s.strip().lower()))
    headers = draw(st.permutations(VINFO_HEADERS[3:]))
    headers = ["VM", "VM ID", "VI SDK UUID"] + list(headers[: draw(st.integers(0, len(headers)))])
    extra = draw(st.lists(hostile_text, max_size=2))
    rows = []
    for i, name in enumerate(names):
        row = {"VM": name, "VM ID": f"vm-{i}", "VI SDK UUID": "vc-1"}
        row.update({h: draw(cell_values) for h in headers[3:] + extra if h not in row})
        rows.append(row)
    return rows


@FUZZ
@given(rows=vinfo_sheets())
def test_rvtools_vinfo_of_any_shape_keeps_every_vm_or_says_why(rows):
    with tempfile.TemporaryDirectory() as tmp:
        path = write_xlsx(Path(tmp) / "fuzz.xlsx", {"vInfo": vinfo(rows)})
        try:
            estate = read_rvtools([path])
        except AssessError as exc:
            assert str(exc).startswith(str(path)) and "\n" not in str(exc)
            return
    names = [str(r["VM"]).strip() for r in rows]
    assert sorted(estate["vms"]["vm_id"]) == sorted(f"vc-1/vm-{i}" for i in range(len(rows)))
    assert sorted(estate["vms"]["name"]) == sorted(names)
    vms = estate.validate()["vms"]
    assert not (vms["vcpus"] < 1).fillna(False).any()
    assert not (vms["memory_mib"] <= 0).fillna(False).any()


@FUZZ
@given(headers=st.lists(hostile_text, min_size=1, max_size=5), cells=st.lists(cell_values, max_size=10))
def test_rvtools_vinfo_with_arbitrary_headers_is_read_or_refused_in_one_line(headers, cells):
    sheet = {f"{chr(65 + i)}1": h for i, h in enumerate(headers)}
    sheet.update({f"{chr(65 + i % len(headers))}{2 + i // len(headers)}": v for i, v in enumerate(cells)
                  if v is not None})
    with tempfile.TemporaryDirectory() as tmp:
        path = write_xlsx(Path(tmp) / "fuzz.xlsx", {"vInfo": sheet})
        try:
            read_rvtools([path])
        except AssessError as exc:
            assert "\n" not in str(exc)


def _write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


utilization_rows = st.lists(st.tuples(
    st.sampled_from(["web01", "db01", "ghost", ""]) | hostile_text,
    st.sampled_from(["2025-11-01T02:00:00Z", "2025-11-01T04:00:00Z", "1762000000", "yesterday", ""]),
    st.sampled_from(["cpu_usage_mhz", "memory_active_mib", "disk_iops", "bogus"]),
    cell_values, st.sampled_from([7200, 300, 0, -5, "x", None])), max_size=12)


@FUZZ
@given(rows=utilization_rows)
def test_long_utilization_csv_of_any_content_is_read_or_refused(rows):
    with tempfile.TemporaryDirectory() as tmp:
        path = _write_csv(Path(tmp) / "utilization.csv", ["vm", "timestamp", "metric", "value", "interval_s"],
                          [list(r) for r in rows])
        try:
            added = read_utilization([path], _inventory(["web01", "db01"]), format="long-csv")
        except AssessError as exc:
            assert "\n" not in str(exc)
            return
    assert set(added["utilization"]["vm_id"]) <= {"vc/vm-0", "vc/vm-1"}


flow_rows = st.lists(st.tuples(
    st.sampled_from(["web01", "db01", "10.0.0.1", ""]) | hostile_text,
    st.sampled_from(["web01", "db01", "10.0.0.2", ""]) | hostile_text,
    st.sampled_from([443, 0, 70000, -1, "x", None]), st.sampled_from(["tcp", "udp", "", "icmp"]),
    cell_values, st.sampled_from(["2025-11-01T00:00:00Z", "", "never"])), min_size=1, max_size=12)


@settings(FUZZ)
@given(rows=flow_rows)
def test_flow_csv_of_any_content_is_read_or_refused(rows):
    with tempfile.TemporaryDirectory() as tmp:
        path = _write_csv(Path(tmp) / "flows.csv", ["src", "dst", "port", "protocol", "bytes", "time"],
                          [list(r) for r in rows])
        try:
            added = read_flows([path], _inventory(["web01", "db01"]), format="csv")
        except AssessError as exc:
            assert "\n" not in str(exc)
            return
    assert len(added["flows"]) <= len(rows)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=True) | hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=12)
config_keys = st.sampled_from(["sources", "output", "readiness", "sizing", "waves", "execute", "bogus"])


@FUZZ
@given(doc=st.dictionaries(config_keys, yaml_values, max_size=4) | yaml_values,
       raw=st.none() | st.text(max_size=60))
def test_config_of_any_shape_loads_or_is_refused_in_one_error(doc, raw):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "assessment.yaml"
        text = raw if raw is not None else yaml.safe_dump(doc, allow_unicode=True)
        assume("\x00" not in text)
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_config(path)
        except AssessError as exc:
            assert str(exc).startswith(str(path))
