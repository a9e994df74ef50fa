"""The report's parts on hand-made inputs: dependency map, answers, plan quality, changes, units, names."""

import re

import pandas as pd
import pytest
from report_helpers import XSS, report_run

from assess.report import answers as a
from assess.report.changes import change_counts, top_changes
from assess.report.depmap import SHARED, dependency_map, group_labels
from assess.report.html import render_report, stars, vm_rows, with_vm_names


def _plan(rows):
    return pd.DataFrame(rows, columns=["vm_id", "group", "wave", "bucket", "name"]).astype(
        {"wave": "Int64"})


PLAN = _plan([
    ("v1", "g1", 1, "wave", "shop-web-01"), ("v2", "g1", 1, "wave", "shop-db-01"),
    ("v3", "g2", 2, "wave", "crm-app-01"), ("v4", "g3", 2, "wave", XSS),
    ("v5", "s1", 0, "shared-services", "dns01"), ("v6", "s2", 0, "shared-services", "ntp01"),
    ("v7", "g4", None, "remediate-first", "old-box"),
])
#: group_links as the waves stage writes them (one row per pair, group < other_group)
LINKS = pd.DataFrame({"group": ["g1", "g1", "g1", "g2", "g3"],
                      "other_group": ["g2", "s1", "s2", "g3", "s2"],
                      "weight": [15.0, 7.0, 1.0, 3.0, 2.0],
                      "ports": ["443, 8443", "53", "123", "5432", "123"]})


def test_dependency_map_draws_each_link_as_an_arc_with_hover_text():
    svg = str(dependency_map(PLAN, LINKS))
    arcs = re.findall(r"<path [^>]*><title>([^<]*)</title></path>", svg)
    # the two shared-services groups are one row: g1-s1 and g1-s2 become one link of 8 connections
    assert len(arcs) == 4
    assert "shop (W1) \u2194 crm-app-01 (W2): traffic 15; ports 443, 8443" in arcs
    assert f"shop (W1) \u2194 {SHARED} (W0): traffic 8; ports 53, 123" in arcs
    assert "<img" not in svg and "&lt;img src=x onerror=alert(1)&gt;" in svg  # the VM name as text
    assert 'stroke="#c0392b"' in svg  # g1 (W1) to g2 (W2) crosses waves
    assert "Dependencies between move groups" in svg and "arc width = traffic" in svg


def test_dependency_map_keeps_the_top_links_links_between_applications_first():
    svg = str(dependency_map(PLAN, LINKS, top_links=2))
    arcs = re.findall(r"<path [^>]*><title>([^<]*)</title>", svg)
    assert len(arcs) == 2 and all(SHARED not in t for t in arcs)  # g1-g2 and g2-g3 before shared services
    assert "2 of 4 links, between applications first" in svg


def test_dependency_map_without_links_says_so():
    svg = str(dependency_map(PLAN, LINKS.iloc[:0]))
    assert "No links between move groups" in svg and "<path" not in svg


def test_group_labels_use_group_name_else_the_common_prefix():
    labels = group_labels(PLAN)
    assert labels["g1"] == "shop" and labels["g2"] == "crm-app-01" and labels["g4"] == "old-box"
    named = PLAN.assign(group_name=["Shop", "Shop", "CRM", None, None, None, None])
    assert group_labels(named)[["g1", "g2", "g3"]].tolist() == ["Shop", "CRM", "g3"]


def test_stars_show_confidence_out_of_five():
    assert stars(pd.Series([5, 3, None])).tolist() == ["\u2605" * 5, "\u2605" * 3 + "\u2606" * 2, ""]


def test_plan_quality_is_sentences_with_the_numbers():
    metrics = pd.DataFrame({
        "metric": ["hard_links_split", "cross_wave_share", "cross_wave_weighted", "waves_used",
                   "waves_lower_bound", "waves_over_cap", "modularity", "move_groups", "new_metric"],
        "value": [2.0, 0.125, 0.0, 9.0, 7.0, 0.0, 0.42, 80.0, 1.5],
        "target": ["== 0", "", "", "", "", "== 0", "", "", "lower"],
        "ok": [False, True, True, True, True, True, True, True, True]})
    sentences = a.plan_quality(metrics)
    text = " ".join(s for s, _ in sentences)
    assert sentences[0] == ("9 waves: 2 more than the 7 the caps allow at best (dependencies and pins cost "
                            "the rest).", False)
    assert ("2 hard dependencies are split across waves: those VMs move apart.", False) in sentences
    assert "12.5% of the links between VMs cross from one wave to another." in text
    assert "No traffic crosses between waves." in text and "fairly apart" in text
    absolute = metrics["value"].where(metrics["metric"] != "cross_wave_weighted", 24.0)
    weighted = a.plan_quality(metrics.assign(value=absolute))
    assert any(s.startswith("Traffic of weight 24 ") for s, _ in weighted)
    assert "new metric: 1.5 (lower)" in text  # an unknown metric is still stated
    assert "cross_wave" not in text and "True" not in text


def test_answers_state_the_counts():
    verdicts = {"ready": 10, "ready_with_warnings": 1000, "not_ready": 1, "excluded": 3}
    assert a.readiness_answer(verdicts, {"complete": 900, "partial": 114}) == (
        "1,010 VMs can move now (1,000 of them with warnings to read); 1 VM needs a fix first; "
        "3 VMs are excluded; for 114 VMs some checks could not be made from these sources.")
    sizing = {"cost_current_per_year": 200000.0, "cost_target_per_year": 150000.0}
    assert a.cost_answer(sizing, "EUR") == ("The target costs 150,000 EUR a year against 200,000 EUR today: "
                                            "50,000 EUR less (25% less).")
    assert a.readiness_answer(None) is None and a.cost_answer(None) is None


CHANGES = pd.DataFrame({
    "change": ["resized"] * 30 + ["readiness_changed", "readiness_changed", "added", "figure_changed"],
    "vm_id": [f"vc/vm-{i}" for i in range(33)] + [None],
    "name": [f"vm{i:02d}" for i in range(33)] + [None],
    "detail": ["memory GiB 1,085.0 -> 1,110.0"] * 30 + ["ready -> ready_with_warnings", "ready -> not_ready",
                                                        "", "workload_nodes 4 -> 5"],
}).astype("string")


def test_changes_are_counted_by_kind_and_the_most_important_listed_first():
    counts = change_counts(CHANGES)
    assert counts.values.tolist() == [["readiness changed", 2], ["VM added", 1], ["resized", 30],
                                      ["headline figure changed", 1]]
    top = top_changes(CHANGES)
    assert len(top) == 20
    assert top.iloc[0].tolist() == ["headline figure changed", "", "workload_nodes 4 -> 5"]  # the plan's size
    assert top.iloc[1].tolist() == ["readiness changed", "vm31", "ready -> not_ready"]  # worse first
    assert top.iloc[3]["change"] == "VM added" and top.iloc[4]["change"] == "resized"
    assert not top["name"].str.contains("/vm-").any()


def test_resize_details_are_in_gib_without_exponents():
    from assess.history.snapshot import diff_snapshots

    def snap(memory):
        state = pd.DataFrame({"vm_id": ["a"], "name": ["db01"], "vcpus": [4], "memory_mib": [memory],
                              "disk_mib": [1136640.0], "verdict": ["ready"], "wave": [1]})
        state = state.astype({"vcpus": "Int64", "wave": "Int64"})
        return {"vm_state": state, "dependencies": pd.DataFrame({"src": [], "dst": []}, dtype="string"),
                "figures": pd.DataFrame({"figure": [], "value": []})}

    diff = diff_snapshots(snap(1110016.0), snap(1136640.0))
    assert diff["detail"].tolist() == ["memory GiB 1,084.0 -> 1,110.0"]


def test_warnings_cite_vms_by_name():
    vms = pd.DataFrame({"vm_id": ["5f82c2d9-cfeb/vm-10295"], "name": ["billing-db-01"]})
    warnings = pd.DataFrame({"message": ["5f82c2d9-cfeb/vm-10295: no samples; vm-1 stays"]})
    assert with_vm_names(warnings, vms)["message"].tolist() == ["billing-db-01: no samples; vm-1 stays"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return report_run(tmp_path_factory.getbasetemp() / "report-run")


def test_top_concerns_table_lists_the_chart_rows_in_the_chart_order(run):
    estate, results, summary, out, _ = run
    html = (out / "index.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="readiness">'):]
    start = section.index('id="top-concerns"')
    table = section[start:section.index("</table>", start)]
    rows = re.findall(r"<tr><td>\w+</td><td>([^<]+)</td>", table)
    chart = section[section.index('<figure class="chart"'):section.index("</figure>")]
    labels = re.findall(r">([^<>]+)</text>", chart)
    bars = [t for t in labels if t in rows]
    assert len(rows) == 10 and bars == rows


def test_capacity_totals_are_over_the_placed_vms(run):
    estate, results, *_ = run
    totals = a.capacity_totals(estate, results).set_index("stage")
    sizing = results["sizing"].tables["sizing"]
    placed = sizing[sizing["node"].notna()]
    vms = estate["vms"].set_index("vm_id").loc[placed["vm_id"]]
    assert totals.at["allocated", "vcpus"] == vms["vcpus"].sum()
    assert totals.at["target", "vcpus"] == placed["guest_vcpus"].sum()
    assert totals.at["right-sized", "memory_gib"] == round(placed["memory_mib"].sum() / 1024)


def test_vm_table_has_target_size_confidence_and_a_default_column_set(run):
    estate, results, *_ = run
    rows = vm_rows(estate, results)
    for column in ("Target vCPU", "Target memory GiB", "Confidence", "Confidence reason", "Shape"):
        assert column in rows.columns
    assert rows["Confidence"].str.fullmatch("[\u2605\u2606]{5}|").all()


def test_changes_section_summarises_and_links_the_csv(run):
    estate, results, summary, *_ = run
    html = render_report(estate, results, summary, CHANGES)
    start = html.index('<section id="changes">')
    section = html[start:html.index("</section>", start)]
    assert "34 changes since the last run" in section
    assert section.count("<tr>") == 1 + 4 + 1 + 20  # header + 4 kinds, header + the top 20
    assert 'href="changes.csv"' in section and "e+0" not in section


def test_clusters_and_hosts_are_counted_from_the_vms_when_their_sheets_are_absent(run):
    import copy

    from assess.report.html import _counts

    estate, *_ = run
    bare = copy.copy(estate)
    bare.tables = {**estate.tables, "clusters": estate["clusters"].iloc[:0],
                   "hosts": estate["hosts"].iloc[:0]}
    counts = _counts(bare)
    assert counts["clusters"] == estate["vms"]["cluster"].nunique() > 0
    assert counts["hosts"] == estate["vms"]["host"].nunique() > 0


def test_dependency_map_stays_small_and_readable_at_thousands_of_groups():
    import numpy as np

    rng = np.random.default_rng(0)
    groups = [f"g{i:04d}" for i in range(1000)]  # about 5,000 VMs in groups of five
    plan = _plan([(f"v{i}", groups[i // 5], 1 + (i // 5) % 40, "wave", f"app{i // 5}-vm{i % 5}")
                  for i in range(5000)])
    a, b = rng.integers(0, 1000, 3000), rng.integers(0, 1000, 3000)
    pairs = {(groups[min(x, y)], groups[max(x, y)]) for x, y in zip(a, b) if x != y}
    links = pd.DataFrame([(g, o, float(rng.integers(1, 1000)), "443") for g, o in sorted(pairs)],
                         columns=["group", "other_group", "weight", "ports"])
    svg = str(dependency_map(plan, links))
    assert svg.count("<path ") == 40 and svg.count("<rect x=\"8\"") <= 80
    assert f"40 of {len(links):,} links" in svg
    assert len(svg) < 60_000
    heaviest = links.sort_values("weight", ascending=False).iloc[0]
    assert f"traffic {heaviest['weight']:,.0f}" in svg


def test_exports_write_every_change_by_name(tmp_path, run):
    from assess.report.exports import write_exports

    estate, results, *_ = run
    written = write_exports(estate, results, tmp_path, CHANGES)
    assert written[-1] == "changes.csv"
    frame = pd.read_csv(tmp_path / "changes.csv")
    assert len(frame) == len(CHANGES) and frame.columns.tolist() == ["change", "name", "detail", "vm_id"]
    assert set(frame["change"]) == {"resized", "readiness changed", "VM added", "headline figure changed"}


def test_the_waves_answer_counts_every_bucket_that_moves_pilot_included():
    from assess.report.answers import waves_answer

    waves = {"waves": 4, "first_wave_start": "2026-12-04", "last_wave_end": "2026-12-27",
             "buckets": {"wave": 253, "shared-services": 7, "pilot": 5,
                         "remediate-first": 17, "excluded": 18}}
    text = waves_answer(waves, 35)
    assert "move 265 VMs" in text and "35 VMs stay outside the waves" in text


def test_the_timeline_answer_states_the_programme_and_the_clusters_left_open():
    from assess.report.answers import timeline_answer

    ts = pd.Timestamp
    timeline = pd.DataFrame({
        "item": ["programme", "c1", "c2"], "kind": ["programme", "cluster empty", "cluster empty"],
        "start": [ts("2026-12-04T20:00Z"), ts("2026-12-04T20:00Z"), ts("2026-12-11T20:00Z")],
        "end": [ts("2026-12-27T20:00Z"), pd.NaT, ts("2026-12-20T20:00Z")],
        "days": [23.0, None, 9.0], "detail": ["4 waves", "", ""]})
    assert timeline_answer(timeline) == (
        "The programme runs 23 days, from 04 Dec 2026 to 27 Dec 2026: 4 waves; 1 of 2 source clusters "
        "are empty only once their remediate-first VMs move.")
    closed = timeline.assign(end=timeline["end"].fillna(ts("2026-12-13T20:00Z")))
    assert timeline_answer(closed).endswith("the last source cluster is empty on 20 Dec 2026.")
    assert timeline_answer(timeline.iloc[1:]) is None


def test_the_binding_answer_says_what_sets_the_pace_only_when_a_capacity_limit_closed_most_waves():
    from assess.report.answers import binding_answer

    most = {"binding_limit": "validation (100 VMs per window)", "binding_kind": "VMs per window",
            "binding_waves": 189, "waves": 193}
    assert binding_answer(most) == "What sets the pace: validation (100 VMs per window) (189 of 193 waves)."
    tie = {"binding_limit": "pilot size", "binding_kind": "pilot size", "binding_waves": 1, "waves": 4}
    assert binding_answer(tie) == ("No capacity limit closed most waves; the most frequent reason a wave "
                                   "closed: pilot size (1 of 4 waves).")
    half = {**most, "binding_waves": 2, "waves": 4}
    assert binding_answer(half).startswith("No capacity limit closed most waves")
    assert binding_answer({}) is None and binding_answer(None) is None


def test_the_migration_period_cost_reads_beside_before_and_after():
    from assess.report.answers import programme_cost_answer
    from assess.report.tables import programme_cost

    dual = {"migration_months": 4, "migration_period_cost": 950.0, "current_monthly_before": 300.0,
            "target_monthly_steady": 120.0, "currency": "EUR"}
    assert programme_cost_answer(dual) == (
        "Running both platforms for 4 months costs 950 EUR (238 EUR a month on average), against 300 EUR a "
        "month on VMware today and 120 EUR a month on the target once done.")
    table = programme_cost(dual)
    assert table["basis"].tolist() == ["per month", "over the 4 months of the migration"]
    # before: 300 a month, 4 x 300 over the months; during: 950 / 4; after: 120, 4 x 120
    assert table[["before", "during", "after"]].to_numpy().tolist() == [[300.0, 237.5, 120.0],
                                                                       [1200.0, 950.0, 480.0]]
    assert programme_cost(dual | {"migration_months": 1})["basis"][1] == "over the month of the migration"
    assert programme_cost({}) is None and programme_cost_answer({}) is None


def test_period_rows_read_used_of_offered_hours_the_binding_count_and_the_emptied_clusters():
    from assess.report.tables import period_rows

    periods = pd.DataFrame({
        "period": ["2027-01", "2027-02"], "waves": pd.array([5, 0], dtype="Int64"),
        "vms": pd.array([307, 0], dtype="Int64"), "storage_tib": [61.5, 0.0], "transfer_hours": [31.5, 0.0],
        "window_hours": [240.0, 192.0], "binding_limit": ["validation (100 VMs per window)", None],
        "binding_waves": pd.array([3, None], dtype="Int64"),
        "emptied_clusters": ["A; B; C; D; E; F; G", None],
        "current_cost": [300.0, 200.0], "target_cost": [50.0, 80.0], "total_cost": [350.0, 280.0]})
    rows = period_rows(periods)
    assert rows["hours"].tolist() == ["31.5 of 240", "0.0 of 192"]
    assert rows["binding"].tolist() == ["validation (100 VMs per window): 3 of 5 waves", "no wave"]
    assert rows["emptied"].tolist() == ["A, B, C, D, E and 2 more", ""]
    assert rows["total_cost"].tolist() == [350.0, 280.0]
    unpriced = period_rows(periods.assign(current_cost=None, target_cost=None, total_cost=float("nan")))
    assert "total_cost" not in unpriced.columns  # no cost given: no column of zeros
