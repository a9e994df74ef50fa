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

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, Undefined, select_autoescape
from markupsafe import Markup

from assess.model import Estate
from assess.model.results import StageResult
from assess.report import tables as t
from assess.report.charts import (
    figure_svg,
    node_fill_histogram,
    os_family_chart,
    vms_per_cluster_chart,
)
from assess.report.readiness_overview import readiness_overview

#: Per-wave VM lists are written as HTML tables up to this many planned VMs.
STATIC_WAVE_ROWS = 5000
#: Per-VM tables with more rows are embedded gzip-compressed (base64), about 8 times smaller.
COMPRESS_ROWS = 20_000
#: Affected VM names listed per concern finding (the rest are counted).
FINDING_NAMES = 500
#: Warning rows shown; all are in ``tables/warnings.parquet``.
WARNING_ROWS = 200
#: Waves drawn in the calendar chart; node bars drawn before the fill chart becomes a histogram.
GANTT_WAVES = 30
NODE_BARS = 60

#: Per-VM table columns: result column -> header shown.
VM_COLUMNS = {
    "name": "VM", "verdict": "Verdict", "method": "Method", "strategy": "Strategy", "wave": "Wave",
    "instancetype": "Instancetype", "preference": "Preference", "node": "Node", "critical": "Critical",
    "warnings": "Warnings", "vcpus": "vCPU", "memory_gib": "Memory GiB", "disk_gib": "Disk GiB",
    "os_family": "OS family", "guest_os": "OS", "cluster": "Cluster", "host": "Host", "power_state": "Power",
    "readiness_reason": "Why (readiness)", "wave_reason": "Why (wave)",
}

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


def vm_rows(estate: Estate, results: dict[str, StageResult]) -> pd.DataFrame:
    """The per-VM table as shown: one row per VM of the estate, headers as in the report."""
    frame = t.vm_results(estate, results)
    if "wave" in frame.columns:  # VMs outside every wave show their bucket (remediate-first, excluded)
        frame["wave"] = frame["wave"].astype(object).where(frame["wave"].notna(), frame["bucket"])
    shown = [c for c in VM_COLUMNS if c in frame.columns]
    return frame[shown].rename(columns=VM_COLUMNS)


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
    text = json.dumps(records, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


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


def _svg(fig) -> Markup:
    return Markup(figure_svg(fig))


def stage_charts(estate: Estate, results: dict[str, StageResult]) -> dict[str, Markup]:
    """The charts of the stage sections as inline SVG, by name (absent when the stage did not run)."""
    charts: dict[str, Markup] = {}
    readiness, summary = t.result_table(results, "readiness"), t.result_table(results, "concern_summary")
    if readiness is not None and summary is not None and not readiness.empty:
        from assess.readiness.plots import readiness_chart

        charts["readiness"] = _svg(readiness_chart(readiness, summary))
    waves, plan = t.result_table(results, "waves"), t.result_table(results, "wave_plan")
    if waves is not None and plan is not None:
        from assess.waves.plots import move_group_figure, wave_gantt

        charts["gantt"] = _svg(wave_gantt(waves.sort_values("wave").head(GANTT_WAVES)))
        charts["groups"] = _svg(move_group_figure(plan, estate["flows"]))
    nodes = t.result_table(results, "nodes")
    if nodes is not None and not nodes.empty:
        ceiling = t.param_value(results["sizing"].params, "packing.target_utilization")
        if len(nodes) <= NODE_BARS:
            from assess.sizing.plots import node_fill_figure

            charts["nodes"] = _svg(node_fill_figure(nodes, ceiling=float(ceiling)))
        else:
            charts["nodes"] = _svg(node_fill_histogram(nodes, ceiling=float(ceiling)))
    return charts


def render_report(
    estate: Estate,
    results: dict[str, StageResult],
    summary: dict,
    changes: pd.DataFrame | None = None,
) -> str:
    """The whole report as one HTML string; ``changes`` adds the "since the last run" section."""
    vms = estate["vms"]
    inventory_charts = []
    if not vms.empty:
        inventory_charts = [_svg(vms_per_cluster_chart(vms)), _svg(os_family_chart(vms))]
    rows = vm_rows(estate, results)
    vm_table, vm_encoding = embedded_table(rows)
    readiness = t.result_table(results, "readiness")
    concerns = t.result_table(results, "concerns")
    cost = t.result_table(results, "cost")
    storage = t.result_table(results, "storage")
    per_wave = t.wave_vms(estate, results)
    planned = per_wave[per_wave["wave"].notna()] if not per_wave.empty else per_wave
    warnings = estate.warnings.fillna("")
    return _ENV.get_template("report.html.j2").render(
        summary=summary,
        stages={name: r.summary for name, r in results.items()},
        counts=estate.counts(),
        verdicts=readiness["verdict"].value_counts().to_dict() if readiness is not None else None,
        excluded=t.excluded_vms(readiness) if readiness is not None else None,
        findings=t.concern_findings(concerns, readiness) if concerns is not None else None,
        finding_names=FINDING_NAMES,
        node_summary=t.node_summary(results),
        storage=storage,
        cost=t.cost_comparison(cost) if cost is not None else None,
        wave_summary=t.wave_summary(estate, results),
        wave_groups=dict(iter(planned.groupby("wave"))) if len(planned) <= STATIC_WAVE_ROWS else None,
        held=per_wave[per_wave["wave"].isna()] if not per_wave.empty else per_wave,
        planned_vms=len(planned),
        gantt_waves=GANTT_WAVES,
        wave_metrics=t.result_table(results, "wave_metrics"),
        charts=stage_charts(estate, results),
        inventory_charts=inventory_charts,
        tables=inventory_tables(estate),
        vm_table=vm_table,
        vm_encoding=vm_encoding,
        vm_count=len(rows),
        warning_groups=t.warning_groups(warnings),
        warnings=warnings.head(WARNING_ROWS),
        warning_count=len(warnings),
        assumptions=t.assumptions(results, summary),
        provenance=estate.provenance,
        changes=changes.fillna("") if changes is not None else None,
        overview=readiness_overview(results),
    )
