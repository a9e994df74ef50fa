"""The self-contained HTML run report (Jinja2 with autoescaping; charts inline as SVG).

Every string that came from the estate is escaped by Jinja2 or, in the per-VM table, placed
with ``textContent`` by the inline script from a JSON block whose ``<``, ``>`` and ``&`` are
escaped, so a VM named ``<img src=x onerror=alert(1)>`` shows as text and runs nothing.

Size stays bounded at 100,000 VMs: the per-VM table is one JSON block (repeated strings
dictionary-encoded) paged by the script; per-wave VM lists are written as HTML only up to
:data:`STATIC_WAVE_ROWS` VMs (beyond that the per-VM table filters by wave); charts aggregate;
the warning list shows :data:`WARNING_ROWS` rows and the counts per code.
"""

from __future__ import annotations

import base64
import gzip
import json
import numbers
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, Undefined, select_autoescape
from markupsafe import Markup

from assess.model import Estate
from assess.model.results import StageResult
from assess.report import answers as a
from assess.report import tables as t
from assess.report.changes import change_counts, top_changes
from assess.report.charts import (
    figure_svg,
    node_fill_histogram,
    os_family_chart,
    vms_per_cluster_chart,
    wave_calendar,
)
from assess.report.depmap import dependency_map
from assess.report.readiness_overview import readiness_overview
from assess.waves.plots import programme_chart

#: Per-wave VM lists are written as HTML tables up to this many planned VMs.
STATIC_WAVE_ROWS = 5000
#: Per-VM tables with more rows are embedded gzip-compressed (base64), about 8 times smaller.
COMPRESS_ROWS = 20_000
#: Affected VM names listed per concern finding (the rest are counted).
FINDING_NAMES = 500
#: Warning rows shown; all are in ``tables/warnings.parquet``.
WARNING_ROWS = 200
#: Most waves the per-wave calendar chart is drawn for (above, only the programme chart: it shows
#: every wave by week and cluster); node bars drawn before the fill chart becomes a histogram.
GANTT_WAVES = 30
NODE_BARS = 60
#: Concerns in the summary chart and table (the same rows in both); links drawn in the dependency map.
TOP_CONCERNS = 10
MAP_LINKS = 40

#: Per-VM table columns: result column -> header shown. Those in :data:`VM_DEFAULT_COLUMNS` are
#: shown at first (they fit 1,400 px with the reasons wrapped); the column chooser shows the rest.
VM_COLUMNS = {
    "name": "VM", "verdict": "Verdict", "coverage": "Checks", "wave": "Wave", "group_name": "Application",
    "vcpus": "vCPU", "target_vcpus": "Target vCPU", "memory_gib": "Memory GiB",
    "target_memory_gib": "Target memory GiB", "instancetype": "Instancetype", "shape": "Shape",
    "stars": "Confidence", "readiness_reason": "Why (readiness)", "wave_reason": "Why (wave)",
    "confidence_reason": "Confidence reason", "rightsized_vcpus": "Right-sized vCPU",
    "rightsized_memory_gib": "Right-sized memory GiB", "memory_overshoot_pct": "Memory over target %",
    "unverified": "Not checked (source that would settle it)", "method": "Method", "strategy": "Strategy",
    "preference": "Preference", "node": "Node", "critical": "Critical", "warnings": "Warnings",
    "disk_gib": "Disk GiB", "os_family": "OS family", "guest_os": "OS", "cluster": "Cluster", "host": "Host",
    "power_state": "Power", "move_group": "Move group",
}
VM_DEFAULT_COLUMNS = ["VM", "Verdict", "Checks", "Wave", "vCPU", "Target vCPU", "Memory GiB",
                      "Target memory GiB", "Instancetype", "Confidence", "Why (readiness)", "Why (wave)"]
#: Hover text of a column, taken from another column (the stars explain themselves on hover).
VM_TIPS = {"Confidence": "Confidence reason", "Checks": "Not checked (source that would settle it)"}

_ENV = Environment(
    loader=PackageLoader("assess.report", "templates"),
    autoescape=select_autoescape(["html", "j2"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _number(value, digits: int = 0) -> str:
    """Thousands-separated number (integers without decimals); empty for nulls."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    return f"{float(value):,.{digits}f}"


def _cell(value, digits: int = 1) -> Markup:
    """A ``<td>`` for one table value: numbers right-aligned and formatted, text escaped."""
    if isinstance(value, numbers.Number) and not isinstance(value, bool | np.bool_):
        return Markup('<td class="n">{}</td>').format(_number(value, digits))
    if value is None or value is pd.NA or value is pd.NaT:
        return Markup("<td></td>")
    text = str(value)
    return Markup('<td class="w">{}</td>' if len(text) > 40 else "<td>{}</td>").format(text)


def _utc(value) -> str:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM UTC``; other text unchanged, missing values empty."""
    if isinstance(value, Undefined) or value is None:
        return ""
    try:
        return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return str(value)


_ENV.filters["num"] = _number
_ENV.filters["utc"] = _utc
_ENV.filters["cell"] = _cell


def stars(confidence: pd.Series) -> pd.Series:
    """1-5 confidence as ``★★★☆☆`` (empty when sizing gave none)."""
    value = pd.to_numeric(confidence, errors="coerce")
    return value.map(lambda v: "" if pd.isna(v) else "\u2605" * int(v) + "\u2606" * (5 - int(v)))


def vm_rows(estate: Estate, results: dict[str, StageResult]) -> pd.DataFrame:
    """The per-VM table as shown: one row per VM of the estate, headers as in the report."""
    frame = t.vm_results(estate, results)
    if "wave" in frame.columns:  # VMs outside every wave show their bucket (remediate-first, excluded)
        frame["wave"] = frame["wave"].astype(object).where(frame["wave"].notna(), frame["bucket"])
    if "confidence" in frame.columns:
        frame["stars"] = stars(frame["confidence"])
    shown = [c for c in VM_COLUMNS if c in frame.columns]
    return frame[shown].rename(columns=VM_COLUMNS)


def vm_table_setup(rows: pd.DataFrame) -> Markup:
    """The per-VM table's column settings for the page script: default columns and hover columns."""
    setup = {"default": [c for c in VM_DEFAULT_COLUMNS if c in rows.columns],
             "tips": {k: v for k, v in VM_TIPS.items() if k in rows.columns and v in rows.columns}}
    return _script_json(json.dumps(setup, ensure_ascii=False))


def _script_json(text: str) -> Markup:
    """JSON text safe inside ``<script type="application/json">``: ``<``, ``>``, ``&`` as escapes."""
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def table_json(frame: pd.DataFrame) -> Markup:
    """``frame`` as JSON safe to embed in a ``<script type="application/json">`` block.

    Layout: ``{"columns": [...], "data": [[...], ...], "dicts": {"<column index>": [...]}}``;
    a column listed in ``dicts`` holds indexes into that list (columns with few distinct
    values, which makes the block several times smaller on large estates).
    """
    records = json.loads(frame.to_json(orient="split", index=False, default_handler=str))
    dicts = {}
    data = records["data"]
    for i in range(len(records["columns"])):
        distinct = list(dict.fromkeys(row[i] for row in data))
        if len(distinct) * 4 <= len(data):
            code = {v: k for k, v in enumerate(distinct)}
            for row in data:
                row[i] = code[row[i]]
            dicts[str(i)] = distinct
    records["dicts"] = dicts
    return _script_json(json.dumps(records, separators=(",", ":"), ensure_ascii=False))


def embedded_table(frame: pd.DataFrame) -> tuple[Markup, str]:
    """The per-VM table for the page and its encoding: ``"json"``, or ``"gzip-base64"`` when large.

    Up to :data:`COMPRESS_ROWS` rows the block is the JSON of :func:`table_json`; above, that
    JSON gzip-compressed and base64-encoded, which the page inflates with ``DecompressionStream``.
    """
    text = table_json(frame)
    if len(frame) <= COMPRESS_ROWS:
        return text, "json"
    packed = gzip.compress(str(text).encode("utf-8"), compresslevel=6, mtime=0)
    return Markup(base64.b64encode(packed).decode("ascii")), "gzip-base64"


def inventory_tables(estate: Estate) -> dict[str, pd.DataFrame]:
    """Small summary tables for the inventory section."""
    vms = estate["vms"]
    clusters = (
        vms.groupby(vms["cluster"].fillna("(none)"))
        .agg(VMs=("vm_id", "count"), vCPU=("vcpus", "sum"), memory_gib=("memory_mib", "sum"))
        .assign(memory_gib=lambda f: (f["memory_gib"] / 1024).round(1))
        .rename(columns={"memory_gib": "Memory GiB"})
        .rename_axis("Cluster")
        .reset_index()
    )
    hosts = estate["hosts"][["name", "cluster", "cpu_model", "sockets", "cores", "memory_mib"]].copy()
    hosts["memory_mib"] = (hosts["memory_mib"] / 1024).round(0)
    hosts.columns = ["Host", "Cluster", "CPU model", "Sockets", "Cores", "Memory GiB"]
    ds = estate["datastores"][["name", "type", "capacity_mib", "free_mib"]].copy()
    ds[["capacity_mib", "free_mib"]] = (ds[["capacity_mib", "free_mib"]] / 1024 / 1024).round(2)
    ds.columns = ["Datastore", "Type", "Capacity TiB", "Free TiB"]
    os_counts = (
        vms["guest_os_config"]
        .fillna("(unknown)")
        .value_counts()
        .rename_axis("Guest OS (configured)")
        .rename("VMs")
        .reset_index()
    )
    return {"Clusters": clusters, "Hosts": hosts, "Datastores": ds, "Guest OS": os_counts}


@dataclass
class Chart:
    """A chart as the page shows it: inline SVG, its title, and the unit its axis or legend states.

    The browser test checks that ``units`` is drawn inside the SVG, so a chart cannot lose its
    axis label unnoticed.
    """

    svg: Markup
    title: str
    units: str


def _chart(fig, units: str) -> Chart:
    """A matplotlib figure as a :class:`Chart`; its title is the first title its axes carry."""
    title = next((ax.get_title() for ax in fig.axes if ax.get_title()), "")
    return Chart(Markup(figure_svg(fig)), title, units)


def stage_charts(estate: Estate, results: dict[str, StageResult]) -> dict[str, Chart]:
    """The charts of the stage sections, by name (absent when the stage did not run)."""
    charts: dict[str, Chart] = {}
    readiness, summary = t.result_table(results, "readiness"), t.result_table(results, "concern_summary")
    if readiness is not None and summary is not None and not readiness.empty:
        from assess.readiness.plots import readiness_chart

        charts["readiness"] = _chart(readiness_chart(readiness, summary, top=TOP_CONCERNS), "VMs affected")
    waves, plan = t.result_table(results, "waves"), t.result_table(results, "wave_plan")
    if waves is not None and plan is not None and not waves.empty:
        timeline = t.result_table(results, "timeline")
        if timeline is None:  # a run written before the timeline existed: no empty dates to mark
            timeline = pd.DataFrame({"item": [], "kind": [], "end": pd.Series(dtype="datetime64[ns, UTC]")})
        charts["programme"] = _chart(programme_chart(plan, waves, estate["vms"], timeline), "VMs moved")
        if len(waves) <= GANTT_WAVES:  # per-wave detail while it is complete; the programme chart has all
            charts["calendar"] = _chart(wave_calendar(waves), "date (UTC)")
        links = t.result_table(results, "group_links")
        if links is not None:
            charts["groups"] = Chart(dependency_map(t.named_plan(results), links, top_links=MAP_LINKS),
                                     "Dependencies between move groups", "traffic")
    nodes = t.result_table(results, "nodes")
    if nodes is not None and not nodes.empty:
        ceiling = t.param_value(results["sizing"].params, "packing.target_utilization")
        if len(nodes) <= NODE_BARS:
            from assess.sizing.plots import node_fill_figure

            charts["nodes"] = _chart(node_fill_figure(nodes, ceiling=float(ceiling)), "%")
        else:
            charts["nodes"] = _chart(node_fill_histogram(nodes, ceiling=float(ceiling)), "%")
    return charts


def inventory_charts(vms: pd.DataFrame) -> list[Chart]:
    """VMs per cluster and per OS family (none for an empty inventory)."""
    if vms.empty:
        return []
    return [_chart(vms_per_cluster_chart(vms), "VMs"), _chart(os_family_chart(vms), "VMs")]


_VM_ID = re.compile(r"[\w.:-]+/vm-\d+")


def with_vm_names(warnings: pd.DataFrame, vms: pd.DataFrame) -> pd.DataFrame:
    """Warnings whose messages cite VMs by name rather than by ``<vCenter uuid>/vm-NNN`` id."""
    names = dict(zip(vms["vm_id"], vms["name"]))
    message = warnings["message"].astype(str).map(
        lambda text: _VM_ID.sub(lambda m: names.get(m.group(0), m.group(0)), text))
    return warnings.assign(message=message)


def _readiness_context(results: dict[str, StageResult]) -> dict:
    """Verdict counts, coverage, excluded VMs, concern findings (the top ones as in the chart)."""
    readiness, concerns = t.result_table(results, "readiness"), t.result_table(results, "concerns")
    if readiness is None:
        return {"verdicts": None, "coverage": None, "excluded": None, "findings": None, "top_findings": None}
    coverage = readiness["coverage"].value_counts().to_dict() if "coverage" in readiness else None
    findings = t.concern_findings(concerns, readiness) if concerns is not None else None
    return {"verdicts": readiness["verdict"].value_counts().to_dict(), "coverage": coverage,
            "excluded": t.excluded_vms(readiness),
            "findings": findings,
            "top_findings": findings[findings["status"] == "fired"].head(TOP_CONCERNS) if findings is not None
            else None}


def _waves_context(estate: Estate, results: dict[str, StageResult], summary: dict) -> dict:
    per_wave = t.wave_vms(estate, results)
    planned = per_wave[per_wave["wave"].notna()] if not per_wave.empty else per_wave
    metrics = t.result_table(results, "wave_metrics")
    return {
        "wave_summary": t.wave_summary(estate, results),
        "wave_groups": dict(iter(planned.groupby("wave"))) if len(planned) <= STATIC_WAVE_ROWS else None,
        "held": per_wave[per_wave["wave"].isna()] if not per_wave.empty else per_wave,
        "planned_vms": len(planned),
        "quality": a.plan_quality(metrics),
        "wave_metrics": metrics,
        **_timeline_parts(_dated(t.result_table(results, "timeline"))),
        "dual_running": t.result_table(results, "dual_running"),
        "periods": _periods(t.result_table(results, "programme_periods")),
        "programme_cost": t.programme_cost((results["waves"].summary if "waves" in results else {})
                                           .get("dual_running")),
    }


def _periods(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """The periods table as shown (:func:`~assess.report.tables.period_rows`); None when there is none."""
    return t.period_rows(frame) if frame is not None and len(frame) else None


def _timeline_parts(timeline: pd.DataFrame | None) -> dict:
    """The timeline, its cluster and datacenter empty dates (hundreds at scale) apart from the rest."""
    if timeline is None:
        return {"timeline": None, "critical_path": None, "empty_dates": None}
    empty = timeline["kind"].isin(["cluster empty", "datacenter empty"])
    return {"timeline": timeline, "critical_path": timeline[~empty], "empty_dates": timeline[empty]}


def _dated(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """``frame`` with its start/end times as UTC minutes text (empty where unknown), for a table."""
    if frame is None:
        return None
    return frame.assign(**{c: frame[c].dt.strftime("%Y-%m-%d %H:%M").fillna("") for c in ("start", "end")})


def _counts(estate: Estate) -> dict[str, int]:
    """Table row counts, with clusters and hosts also counted from the VMs.

    An export without the cluster or host sheets (a SizingWorkshop-style vInfo alone) still
    names each VM's cluster and host: the report must not say "0 clusters" beside a table of 4.
    """
    counts = dict(estate.counts())
    vms = estate["vms"]
    counts["clusters"] = max(counts["clusters"], int(vms["cluster"].nunique()))
    counts["hosts"] = max(counts["hosts"], int(vms["host"].nunique()))
    return counts


def _answers(estate: Estate, results, summary: dict, ctx: dict, changes) -> dict[str, str | None]:
    """The one-sentence answer of each section."""
    stages = summary.get("stages") or {name: r.summary for name, r in results.items()}
    disks = estate["disks"]["capacity_mib"].sum() / 1024 / 1024
    currency = t.assumptions(results, summary).set_index("assumption")["value"].get("Currency", "")
    return {
        "inventory": a.inventory_answer(_counts(estate), disks),
        "readiness": a.readiness_answer(ctx["verdicts"], ctx["coverage"]),
        "sizing": a.sizing_answer(stages.get("sizing"), ctx["capacity"]),
        "cost": a.cost_answer(stages.get("sizing"), str(currency or "")),
        "waves": a.waves_answer(stages.get("waves"), len(ctx["held"])),
        "timeline": a.timeline_answer(t.result_table(results, "timeline")),
        "binding": a.binding_answer((stages.get("waves") or {}).get("periods")),
        "programme_cost": a.programme_cost_answer((stages.get("waves") or {}).get("dual_running")),
        "changes": a.changes_answer(changes),
    }


def render_report(
    estate: Estate,
    results: dict[str, StageResult],
    summary: dict,
    changes: pd.DataFrame | None = None,
) -> str:
    """The whole report as one HTML string; ``changes`` adds the "since the last run" section."""
    rows = vm_rows(estate, results)
    vm_table, vm_encoding = embedded_table(rows)
    cost = t.result_table(results, "cost")
    warnings = with_vm_names(estate.warnings.fillna(""), estate["vms"])
    assumed = t.assumptions(results, summary)
    ctx = {**_readiness_context(results), **_waves_context(estate, results, summary),
           "capacity": a.capacity_totals(estate, results)}
    return _ENV.get_template("report.html.j2").render(
        **ctx,
        summary=summary,
        answers=_answers(estate, results, summary, ctx, changes),
        stages={name: r.summary for name, r in results.items()},
        counts=_counts(estate),
        finding_names=FINDING_NAMES,
        node_summary=t.node_summary(results),
        storage=t.result_table(results, "storage"),
        cost=t.cost_comparison(cost) if cost is not None else None,
        charts=stage_charts(estate, results),
        inventory_charts=inventory_charts(estate["vms"]),
        tables=inventory_tables(estate),
        vm_table=vm_table,
        vm_encoding=vm_encoding,
        vm_setup=vm_table_setup(rows),
        vm_count=len(rows),
        warning_groups=t.warning_groups(warnings),
        warnings=warnings.head(WARNING_ROWS),
        warning_count=len(warnings),
        assumptions=assumed,
        throughput=t.throughput_assumptions(assumed),
        provenance=estate.provenance,
        changes=changes,
        change_counts=change_counts(changes) if changes is not None else None,
        top_changes=top_changes(changes) if changes is not None else None,
        overview=readiness_overview(results),
    )
