"""The report's "Estate overview" section: coverage headline, clusters, tiers, missing sources."""

from __future__ import annotations

import pytest
from report_helpers import HOSTILE_CLUSTER, report_run

from assess.report.readiness_overview import coverage_headline


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    estate, results, summary, out, _ = report_run(tmp_path_factory.getbasetemp() / "report-run")
    html = (out / "index.html").read_text(encoding="utf-8")
    start = html.index('<section id="readiness-overview">')
    return results["readiness"].tables, html[start:html.index("</section>", start)]


def test_overview_shows_each_cluster_with_its_ratios(section):
    tables, html = section
    clusters = tables["cluster_overcommit"]
    assert len(clusters) >= 2
    for row in clusters.itertuples(index=False):
        if row.cpu_overcommit == row.cpu_overcommit:  # not NaN
            assert f"{row.cpu_overcommit:.2f}" in html
    # estate text stays inert
    assert HOSTILE_CLUSTER not in html and "&lt;b onmouseover=" in html


def test_overview_headline_and_what_would_complete_the_picture(section):
    tables, html = section
    readiness = tables["readiness"]
    ready = int((readiness["verdict"] == "ready").sum())
    assert f'<p id="coverage-headline">ready {ready} (partial coverage' in html
    assert 'id="missing-sources"' in html and "vCenter collection" in html
    for tier in tables["disk_tiers"]["tier"]:
        assert tier in html


def test_headline_counts_checks_per_missing_source():
    import pandas as pd

    readiness = pd.DataFrame({"verdict": ["ready", "ready", "not_ready"],
                              "coverage": ["partial", "complete", "partial"]})
    missing = pd.DataFrame({"source": ["vCenter collection"], "rules": ["a, b, c"],
                            "critical_rules": [""], "vms": [2]})
    assert coverage_headline(readiness, missing) == (
        "ready 2 (partial coverage on 2 VM(s): 3 check(s) need the vCenter collection)")
    assert coverage_headline(readiness.assign(coverage="complete"), missing[:0]) == (
        "ready 2 (complete coverage: every check was made)")
