"""The self-contained HTML run report (Jinja2 with autoescaping; charts inline as SVG).

Every string that came from the estate is escaped by Jinja2 or, in the per-VM table, placed
with ``textContent`` by the inline script from a JSON block whose ``<`` are escaped, so a VM
named ``<img src=x onerror=alert(1)>`` shows as text and runs nothing.
"""

from __future__ import annotations

import json

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from assess.model import Estate
from assess.model.results import StageResult
from assess.report.charts import figure_svg, os_family, os_family_chart, vms_per_cluster_chart

_ENV = Environment(
    loader=PackageLoader("assess.report", "templates"),
    autoescape=select_autoescape(["html", "j2"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def vm_rows(estate: Estate, results: dict[str, StageResult]) -> pd.DataFrame:
    """One row per VM of the estate for the report's per-VM table, with its status."""
    vms = estate["vms"]
    disks = estate["disks"].groupby("vm_id")["capacity_mib"].sum() / 1024
    rows = pd.DataFrame(
        {
            "VM": vms["name"],
            "Cluster": vms["cluster"],
            "Host": vms["host"],
            "Power": vms["power_state"],
            "vCPU": vms["vcpus"],
            "Memory GiB": (vms["memory_mib"] / 1024).round(1),
            "Disk GiB": vms["vm_id"].map(disks).fillna(vms["provisioned_mib"] / 1024).round(1),
            "OS": vms["guest_os_config"].fillna(vms["guest_os_tools"]),
            "OS family": os_family(vms["guest_os_config"].fillna(vms["guest_os_tools"])),
        }
    )
    rows.index = vms["vm_id"].to_numpy()
    readiness = _table(results, "readiness")
    if readiness is not None:
        r = readiness.set_index("vm_id")
        rows["Verdict"] = rows.index.map(r["verdict"])
        rows["Method"] = rows.index.map(r["method"])
        rows["Why"] = rows.index.map(r["excluded_reason"].fillna(r["method_reason"]))
    else:
        rows["Status"] = "inventoried"
    return rows.reset_index(drop=True)


def _table(results: dict[str, StageResult], name: str) -> pd.DataFrame | None:
    for result in results.values():
        if name in result.tables:
            return result.tables[name]
    return None


def table_json(frame: pd.DataFrame) -> Markup:
    """``frame`` as JSON safe to embed in a ``<script type="application/json">`` block."""
    records = json.loads(frame.to_json(orient="split", index=False, default_handler=str))
    text = json.dumps(records, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


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


def render_report(
    estate: Estate,
    results: dict[str, StageResult],
    summary: dict,
    changes: pd.DataFrame | None = None,
) -> str:
    """The whole report as one HTML string; ``changes`` adds the "since the last run" section."""
    vms = estate["vms"]
    charts = []
    if not vms.empty:
        charts = [
            Markup(figure_svg(vms_per_cluster_chart(vms))),
            Markup(figure_svg(os_family_chart(vms))),
        ]
    rows = vm_rows(estate, results)
    return _ENV.get_template("report.html.j2").render(
        summary=summary,
        counts=estate.counts(),
        charts=charts,
        tables=inventory_tables(estate),
        vm_table=table_json(rows),
        vm_count=len(rows),
        warnings=estate.warnings.fillna(""),
        provenance=estate.provenance,
        changes=changes.fillna("") if changes is not None else None,
    )
