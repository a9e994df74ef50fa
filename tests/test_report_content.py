"""Report content without a browser: sections, figures equal to the result tables, escaping, exports."""

import copy
import json
import re
from html import unescape

import pandas as pd
import pytest
from report_helpers import HOSTILE_CLUSTER, HOSTILE_WARNING, XSS, report_run

from assess.report.html import WARNING_ROWS, render_report, table_json


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    estate, results, summary, out, victim = report_run(tmp_path_factory.getbasetemp() / "report-run")
    html = (out / "index.html").read_text(encoding="utf-8")
    tables = {p.stem: pd.read_parquet(p) for p in (out / "tables").glob("*.parquet")}
    return estate, results, summary, out, victim, html, tables


def _section(html, name):
    start = html.index(f'<section id="{name}">')
    return html[start:html.index("</section>", start)]


def _card(html, element_id):
    return int(re.search(rf'<b id="{element_id}">([\d,]+)</b>', html).group(1).replace(",", ""))


def _vm_table(html):
    text = html.split('<script type="application/json" id="vm-data">')[1].split("</script>")[0]
    data = json.loads(text)
    rows = [list(r) for r in data["data"]]
    for i, values in data["dicts"].items():
        for r in rows:
            r[int(i)] = values[r[int(i)]]
    return pd.DataFrame(rows, columns=data["columns"])


def test_every_section_is_present(run):
    *_, html, tables = run
    sections = re.findall(r'<section id="([\w-]+)">', html)
    # in the order of the architect's questions, then the reference sections
    assert sections == ["summary", "inventory", "readiness-overview", "readiness", "sizing", "cost", "waves",
                        "concerns", "vms", "assumptions", "warnings"]
    # one collapsible section per wave, numbered as in the waves table
    waves = re.findall(r'<details class="wave" id="wave-(\d+)"', html)
    assert [int(w) for w in waves] == sorted(tables["waves"]["wave"])
    # self-contained: nothing to fetch (the xmlns URLs of inline SVG are names, not fetches)
    assert re.search(r"""(?:src|href|url)\s*[=(]\s*["']?(?:https?:)?//""", html) is None
    assert "<link" not in html and "@import" not in html


def test_summary_cards_equal_the_result_tables(run):
    *_, html, tables = run
    readiness = tables["readiness"]
    excluded = int((readiness["verdict"] == "excluded").sum())
    assert _card(html, "vms-in") == 100  # generate_sample(vms=100)
    assert _card(html, "vms-excluded") == excluded >= 2  # templates and the SRM placeholder
    assert _card(html, "vms-assessed") == 100 - excluded
    assert _card(html, "nodes-total") == len(tables["nodes"])  # workload + failover rows
    assert _card(html, "waves-count") == len(tables["waves"])
    rows = re.findall(r'<tr><td>(\w+)</td><td class="n">(\d+)</td><td>', _section(html, "readiness"))
    verdicts = dict(rows)
    assert {k: int(v) for k, v in verdicts.items() if k in set(readiness["verdict"])} == (
        readiness["verdict"].value_counts().to_dict()
    )


def test_per_wave_figures_equal_the_plan(run):
    estate, *_, html, tables = run
    plan, vms = tables["wave_plan"], tables["vms"].set_index("vm_id")
    waves = _section(html, "waves")
    for wave in tables["waves"].itertuples():
        members = plan.loc[plan["wave"] == wave.wave, "vm_id"]
        block = waves[waves.index(f'id="wave-{wave.wave}"'):]
        block = block[:block.index("</details>")]
        # the summary line: VM count and vCPU = sum of the members' allocated vCPUs
        assert f"{len(members)} VMs" in block and f"{int(vms.loc[members, 'vcpus'].sum()):,} vCPU" in block
        # the wave's table lists exactly its members by name
        names = re.findall(r"<tr><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>", block)
        assert sorted(names) == sorted(vms.loc[members, "name"].map(_escaped))


def _escaped(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")


def test_vm_table_has_one_row_per_vm_with_stage_results(run):
    *_, victim, html, tables = run
    table = _vm_table(html)
    assert len(table) == 100 and sorted(table["VM"]) == sorted(tables["vms"]["name"])
    by_name = table.set_index("VM")
    readiness = tables["readiness"].set_index("name")
    assert (by_name["Verdict"] == readiness.loc[by_name.index, "verdict"]).all()
    plan = tables["wave_plan"].set_index("name")
    expected_wave = plan["wave"].astype(object).where(plan["wave"].notna(), plan["bucket"])
    assert (by_name["Wave"].astype(str) == expected_wave.loc[by_name.index].astype(str)).all()
    sizing = tables["sizing"].set_index("vm_id")
    shown = sizing["instancetype"].fillna(sizing["shape"])  # custom shapes read "custom"
    assert by_name.loc[XSS, "Instancetype"] == shown[victim]
    for column in ("Method", "Strategy", "Preference", "Node", "Why (readiness)", "Why (wave)"):
        assert column in table.columns


def test_table_json_dictionary_encodes_repeated_text():
    frame = pd.DataFrame({"VM": ["a", "b", "c", "d"], "Verdict": ["ok"] * 4, "vCPU": [1, 2, 3, 4]})
    data = json.loads(str(table_json(frame)))
    # "Verdict": 1 distinct value, 1 * 4 <= 4 rows -> encoded; "VM": 4 distinct -> kept as is
    assert data == {"columns": ["VM", "Verdict", "vCPU"], "dicts": {"1": ["ok"]},
                    "data": [["a", 0, 1], ["b", 0, 2], ["c", 0, 3], ["d", 0, 4]]}
    assert "<" not in str(table_json(pd.DataFrame({"VM": ["</script>"]})))


def test_hostile_strings_are_escaped_in_every_section(run):
    *_, html, _ = run
    assert "<img" not in html and "<b onmouseover" not in html and "<script>alert" not in html
    name, cluster = _escaped(XSS), _escaped(HOSTILE_CLUSTER)
    assert name in _section(html, "waves")  # per-wave table
    assert name in _section(html, "concerns")  # its invalid-name finding lists it
    assert name in _section(html, "readiness")  # top concerns: the invalid-name row lists it
    assert cluster in _section(html, "inventory")  # clusters and hosts tables
    assert "&lt;b onmouseover=" in _section(html, "inventory").split("<svg")[1]  # the cluster chart's label
    assert _escaped(HOSTILE_WARNING) in _section(html, "warnings")
    vm_json = html.split('id="vm-data">')[1].split("</script>")[0]
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in vm_json and "<" not in vm_json


def test_assumptions_state_given_and_default_parameters(run):
    _, results, *_, html, _ = run
    rows = dict(re.findall(r"<tr><td>\w+</td><td>([^<]+)</td><td>([^<]*)</td><td>[^<]*</td>",
                           _section(html, "assumptions")))
    assert rows["Utilization percentile sized for"] == "95" and rows["Comfort factor (headroom)"] == "1.3"
    assert rows["Rules version"] == results["readiness"].summary["rules_version"]
    section = _section(html, "assumptions")
    # sizing ran with given params (CP-SAT limit 2 s), waves with defaults
    assert "<td>CPU overcommit (vCPU per core)</td><td>4.0</td><td>given</td>" in section
    assert "<td>Forklift migrations in flight (per ESXi host in MTV; planned per provider)</td><td>20</td>" \
           "<td>default</td>" in section
    assert "rvtools-1" in section and "rvtools.xlsx" in section  # input provenance


def test_many_warnings_are_counted_by_code_and_capped(run):
    estate, results, summary, *_ = run
    crowded = copy.deepcopy(estate)
    before = len(crowded.warnings)
    for i in range(250):
        crowded.warn("test.many", f"odd row {i}", table="vms", row=i)
    html = render_report(crowded, results, summary)
    section = _section(html, "warnings")
    total = before + 250
    assert f"Warnings ({total:,})" in section
    assert '<tr><td>test.many</td><td class="n">250</td>' in section  # 250 of one code, listed first
    assert section.count("<tr><td>") == len(set(crowded.warnings["code"])) + WARNING_ROWS
    assert f"{total - WARNING_ROWS} more in tables/warnings.parquet" in section


def test_exports_hold_one_row_per_vm_and_the_wave_lists(run):
    _, _, summary, out, _, _, tables = run
    assert summary["exports"] == ["vms.csv", "vms.xlsx", "waves.csv", "waves.xlsx"]
    assert json.loads((out / "summary.json").read_text())["exports"] == summary["exports"]
    vms_csv = pd.read_csv(out / "vms.csv")
    assert sorted(vms_csv["vm_id"]) == sorted(tables["vms"]["vm_id"]) and XSS in set(vms_csv["name"])
    xlsx = pd.read_excel(out / "vms.xlsx", sheet_name="vms", engine="calamine")
    assert sorted(xlsx["vm_id"]) == sorted(tables["vms"]["vm_id"])
    waves = pd.read_csv(out / "waves.csv")
    assert sorted(waves["vm_id"]) == sorted(tables["wave_plan"]["vm_id"])  # planned, held and excluded
    planned = waves[waves["wave"].notna()]
    assert planned["wave"].is_monotonic_increasing
    sheets = pd.read_excel(out / "waves.xlsx", sheet_name=None, engine="calamine")
    assert list(sheets) == ["waves", "programme", "vms by wave"]
    assert sheets["waves"]["vms"].tolist() == tables["waves"].sort_values("wave")["vms"].tolist()
    programme = tables["programme_periods"]
    assert sheets["programme"]["period"].tolist() == programme["period"].tolist()
    assert (sheets["programme"]["binding_limit"].fillna("").tolist()
            == programme["binding_limit"].fillna("").tolist())


def test_large_estates_keep_the_report_small(run, monkeypatch):
    import base64
    import gzip

    import assess.report.html as report_html

    estate, results, summary, *_ = run
    monkeypatch.setattr(report_html, "STATIC_WAVE_ROWS", 10)
    monkeypatch.setattr(report_html, "COMPRESS_ROWS", 50)
    html = report_html.render_report(estate, results, summary)
    waves = _section(html, "waves")
    assert '<details class="wave"' not in waves and "per-wave lists are in waves.xlsx" in waves
    packed = html.split('data-encoding="gzip-base64">')[1].split("</script>")[0]
    rows = report_html.vm_rows(estate, results)
    assert gzip.decompress(base64.b64decode(packed)).decode() == str(table_json(rows))


def _rows_of(html, element_id):
    """Cell texts of the first table after ``id="element_id"``, one list per body row."""
    block = html[html.index(f'id="{element_id}"'):]
    block = block[:block.index("</table>")]
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", block, re.S)]
    return [[unescape(cell) for cell in row] for row in rows if row]


def test_how_long_shows_the_whole_programme_chart_and_each_period_with_its_binding_limit(run):
    *_, html, tables = run
    waves = _section(html, "waves")
    planned = int(tables["wave_plan"]["wave"].notna().sum())
    chart = waves[waves.index('id="programme-chart"'):]
    chart = chart[:chart.index("</figure>")]
    assert "<svg" in chart and f"all {len(tables['waves'])} waves, {planned} VMs" in chart
    assert "&lt;b onmouseover=" in chart and "<b onmouseover" not in chart  # the hostile cluster's row
    periods = tables["programme_periods"]
    rows = _rows_of(waves, "periods-table")
    assert [r[0] for r in rows] == periods["period"].tolist()
    for row, p in zip(rows, periods.itertuples()):
        assert (int(row[1]), int(row[2].replace(",", ""))) == (p.waves, p.vms)
        assert row[4] == f"{p.transfer_hours:,.1f} of {p.window_hours:,.0f}"
        assert row[5] == f"{p.binding_limit}: {p.binding_waves} of {p.waves} waves"
        assert row[-1] == f"{p.total_cost:,.0f}"
    assert sum(int(r[2].replace(",", "")) for r in rows) == planned


def test_the_migration_period_cost_stands_beside_today_and_the_steady_state(run):
    _, _, summary, *_, html, tables = run
    dual = summary["stages"]["waves"]["dual_running"]
    months = dual["migration_months"]
    assert months == len(tables["dual_running"]) >= 1
    per_month, over = _rows_of(_section(html, "waves"), "programme-cost-table")
    assert per_month[1:] == [f"{dual['current_monthly_before']:,.0f}",
                             f"{dual['migration_period_cost'] / months:,.0f}",
                             f"{dual['target_monthly_steady']:,.0f}"]
    assert over[2] == f"{dual['migration_period_cost']:,.0f}"
    assert over[2] == f"{tables['dual_running']['total_cost'].sum():,.0f}"
    assert f"{dual['migration_period_cost']:,.0f}" in _section(html, "summary")  # in the answers too


def test_every_throughput_assumption_is_listed_beside_the_programme_and_under_assumptions(run):
    *_, html, _ = run
    labels = ["Bandwidth source to target, Gbit/s", "Usable share of bandwidth",
              "Target storage write rate, Gbit/s", "One VM's disk copy, Gbit/s",
              "Source providers (vCenters) in parallel",
              "Forklift migrations in flight (per ESXi host in MTV; planned per provider)",
              "Waves per window",
              "Cutover per VM, minutes", "Cutover per wave, minutes", "VMs validated per window",
              "Warm pre-copy lead, days (at least)", "Warm pre-copy interval, minutes",
              "Warm share copied in the window where the change rate is not measured",
              "Migration window, hours", "Days between waves"]
    beside = {r[0]: r[1] for r in _rows_of(_section(html, "waves"), "throughput-assumptions")}
    listed = {r[1]: r[2] for r in _rows_of(_section(html, "assumptions"), "assumption-table")}
    assert set(labels) <= set(beside) and set(labels) <= set(listed)
    assert beside["Target storage write rate, Gbit/s"] == "not measured (not a limit)"
    assert beside["VMs validated per window"] == listed["VMs validated per window"] == "not a limit"
    assert beside["Forklift migrations in flight (per ESXi host in MTV; planned per provider)"] == "20"
    assert beside["Warm pre-copy interval, minutes"] == "60.0"


def test_the_wave_calendar_is_drawn_only_while_it_shows_every_wave(run, monkeypatch):
    import assess.report.html as report_html

    estate, results, summary, *_ = run
    assert "Wave calendar" in _section(report_html.render_report(estate, results, summary), "waves")
    monkeypatch.setattr(report_html, "GANTT_WAVES", 1)
    waves = _section(report_html.render_report(estate, results, summary), "waves")
    assert "Wave calendar" not in waves and "first 1 of" not in waves
    assert 'id="programme-chart"' in waves


def test_the_timeline_keeps_its_steps_apart_from_the_empty_dates_and_loses_no_row(run):
    *_, html, tables = run
    timeline = tables["timeline"]
    waves = _section(html, "waves")
    steps = _rows_of(waves, "timeline-table")
    dates = _rows_of(waves, "empty-dates")
    empty = timeline["kind"].isin(["cluster empty", "datacenter empty"])
    assert [r[0] for r in dates] == timeline.loc[empty, "item"].tolist()
    assert [r[0] for r in steps] == timeline.loc[~empty, "item"].tolist()
    assert {r[1] for r in steps} >= {"programme", "critical path"}


def test_a_run_without_timeline_or_periods_still_renders_its_waves(run):
    import assess.report.html as report_html

    estate, results, summary, *_ = run
    older = copy.copy(results)
    older["waves"] = copy.copy(results["waves"])
    older["waves"].tables = {k: v for k, v in results["waves"].tables.items()
                             if k not in ("timeline", "programme_periods", "dual_running")}
    waves = _section(report_html.render_report(estate, older, summary), "waves")
    assert 'id="programme-chart"' in waves and 'id="periods-table"' not in waves
