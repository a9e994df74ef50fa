"""The report's tables: pure functions from the estate and stage results to small DataFrames.

The HTML report, the CSV/XLSX exports and a notebook all read these, so a figure in the report
is the same number as in the spreadsheet. Nothing here formats HTML.
"""

from __future__ import annotations

import pandas as pd

from assess.model import Estate
from assess.model.derived import vm_facts
from assess.model.results import StageResult, result_table

#: Order in which concern categories are shown (most severe first).
CATEGORY_ORDER = {"Critical": 0, "Warning": 1, "Information": 2}


def vm_results(estate: Estate, results: dict[str, StageResult]) -> pd.DataFrame:
    """One row per VM of the estate with its inventory, readiness, sizing and wave results.

    Columns of stages that did not run are absent; a VM a stage has no row for gets nulls.
    """
    vms = estate["vms"]
    facts = vm_facts(estate)  # disk size with its fallback and the OS, as every stage reads them
    out = pd.DataFrame(
        {
            "vm_id": vms["vm_id"],
            "name": vms["name"],
            "cluster": vms["cluster"],
            "host": vms["host"],
            "power_state": vms["power_state"],
            "vcpus": vms["vcpus"],
            "memory_gib": (vms["memory_mib"] / 1024).round(1),
            "disk_gib": facts["disk_gib"].round(1).to_numpy(),
            "storage_source": facts["storage_source"].to_numpy(),
            "guest_os": facts["os_name"].to_numpy(),
            "os_family": facts["os_family"].to_numpy(),
            "os_distro": facts["os_distro"].to_numpy(),
            "os_version": facts["os_version"].to_numpy(),
        }
    )
    key = out["vm_id"]
    readiness = result_table(results, "readiness")
    if readiness is not None:
        r = readiness.set_index("vm_id")
        for col in ("verdict", "coverage", "unverified", "verify_first", "critical", "warnings", "method",
                    "strategy", "effort", "target_name", "excluded_reason"):
            if col in r.columns:
                out[col] = key.map(r[col])
        out["readiness_reason"] = key.map(r["excluded_reason"].fillna("").replace("", pd.NA)
                                          .fillna(r["method_reason"]))
    concerns = result_table(results, "concerns")
    if concerns is not None:
        fired = concerns[concerns["status"] == "fired"]
        out["concerns"] = key.map(fired.groupby("vm_id")["rule_id"].agg("; ".join)).fillna("")
    sizing = result_table(results, "sizing")
    if sizing is not None:
        s = sizing.set_index("vm_id")
        for col in ("instancetype", "preference", "node", "shape", "confidence", "confidence_reason",
                    "memory_overshoot_pct"):
            if col in s.columns:
                out[col] = key.map(s[col])
        if "shape" in s:  # a VM without an instancetype gets explicit resources: say "custom"
            custom = key.map(s["shape"].where(s["shape"] == "custom"))
            out["instancetype"] = out["instancetype"].fillna(custom)
        out["rightsized_vcpus"] = key.map(s["vcpus"]).astype("Int64")
        out["rightsized_memory_gib"] = (key.map(s["memory_mib"]) / 1024).round(1)
        out["target_vcpus"] = key.map(s["guest_vcpus"]).astype("Int64")
        out["target_memory_gib"] = (key.map(s["guest_memory_mib"]) / 1024).round(1)
        out["idle"] = key.map(s["idle"]).astype("boolean")
        if "shape" in s:  # allocated -> right-sized -> target, and why (sizing owns these columns)
            out["right_sized_vcpus"] = key.map(s["vcpus"]).astype("Int64")
            out["right_sized_memory_gib"] = (key.map(s["memory_mib"]) / 1024).round(1)
            for col in ("shape", "memory_overshoot_pct", "memory_source", "confidence", "confidence_reason",
                        "idle_evidence"):
                out[col] = key.map(s[col])
            out["sizing_mode"] = key.map(s["mode"])
            out["not_packed_reason"] = key.map(s["excluded_reason"])
    plan = result_table(results, "wave_plan")
    if plan is not None:
        p = plan.set_index("vm_id")
        out["wave"] = key.map(p["wave"]).astype("Int64")
        out["bucket"] = key.map(p["bucket"])
        out["move_group"] = key.map(p["group"])
        groups = result_table(results, "move_groups")
        if groups is not None and "group_name" in groups.columns:
            out["group_name"] = key.map(groups.set_index("vm_id")["group_name"])
        out["wave_reason"] = key.map(p["reason"])
    return out.reset_index(drop=True)


def named_plan(results: dict[str, StageResult]) -> pd.DataFrame:
    """The ``wave_plan`` table with each VM's ``group_name`` from ``move_groups`` (when it has one)."""
    plan = result_table(results, "wave_plan")
    groups = result_table(results, "move_groups")
    if groups is None or "group_name" not in groups.columns:
        return plan
    return plan.assign(group_name=plan["vm_id"].map(groups.set_index("vm_id")["group_name"]))


def wave_vms(estate: Estate, results: dict[str, StageResult]) -> pd.DataFrame:
    """One row per VM of the wave plan, in wave order: what moves when, how, and why it is there.

    VMs held back (remediate first) or excluded come last with an empty wave.
    """
    plan = result_table(results, "wave_plan")
    if plan is None:
        return pd.DataFrame()
    vms = estate["vms"].set_index("vm_id")
    waves = result_table(results, "waves")
    out = pd.DataFrame(
        {
            "wave": plan["wave"].astype("Int64"),
            "bucket": plan["bucket"],
            "move_group": plan["group"],
            "name": plan["vm_id"].map(vms["name"]),
            "vm_id": plan["vm_id"],
            "vcpus": plan["vm_id"].map(vms["vcpus"]).astype("Int64"),
            "memory_gib": (plan["vm_id"].map(vms["memory_mib"]) / 1024).round(1),
            "storage_gib": plan["storage_gib"].round(1),
            "method": plan["method"],
            "transfer_gib": plan["transfer_gib"].round(1),
        }
    )
    readiness = result_table(results, "readiness")
    if readiness is not None:
        r = readiness.set_index("vm_id")
        out["concerns"] = plan["vm_id"].map(_concern_text(r))
    out["reason"] = plan["reason"]
    if waves is not None and not waves.empty:
        w = waves.set_index("wave")
        out.insert(1, "start", out["wave"].map(w["start"]))
    order = out["wave"].fillna(10**9).astype("int64")
    return out.assign(_o=order).sort_values(["_o", "move_group", "name"]).drop(columns="_o").reset_index(
        drop=True
    )


def _concern_text(readiness: pd.DataFrame) -> pd.Series:
    """``"1 critical, 2 warnings"`` per VM from the readiness counts (fired concerns only)."""
    critical = readiness["critical"].fillna(0).astype(int)
    warnings = readiness["warnings"].fillna(0).astype(int)
    text = critical.astype(str) + " critical, " + warnings.astype(str) + " warnings"
    return text.where((critical + warnings) > 0, "none")


def wave_summary(estate: Estate, results: dict[str, StageResult]) -> pd.DataFrame:
    """One row per wave: window, VMs, vCPU, memory, TB, methods, estimated transfer hours, concerns."""
    waves = result_table(results, "waves")
    if waves is None or waves.empty:
        return pd.DataFrame()
    rows = wave_vms(estate, results)
    rows = rows[rows["wave"].notna()]
    readiness = result_table(results, "readiness")
    if readiness is not None:
        r = readiness.set_index("vm_id")
        rows = rows.assign(critical=rows["vm_id"].map(r["critical"]).fillna(0).astype(int),
                           warned=rows["vm_id"].map(r["warnings"]).fillna(0).astype(int))
    else:
        rows = rows.assign(critical=0, warned=0)
    per = rows.groupby("wave").agg(
        vcpus=("vcpus", "sum"),
        memory_gib=("memory_gib", "sum"),
        cold_vms=("method", lambda m: int((m == "cold").sum())),
        critical=("critical", "sum"),
        warnings=("warned", "sum"),
    )
    w = waves.set_index("wave")
    out = pd.DataFrame(
        {
            "wave": w.index,
            "kind": w["kind"].to_numpy(),
            "start": w["start"].dt.strftime("%Y-%m-%d %H:%M").to_numpy(),
            "end": w["end"].dt.strftime("%Y-%m-%d %H:%M").to_numpy(),
            "groups": w["groups"].to_numpy(),
            "vms": w["vms"].to_numpy(),
            "vcpus": per["vcpus"].reindex(w.index, fill_value=0).to_numpy(),
            "memory_gib": per["memory_gib"].reindex(w.index, fill_value=0).round(1).to_numpy(),
            "storage_tb": w["storage_tib"].round(2).to_numpy(),
            "warm_vms": w["warm_vms"].to_numpy(),
            "cold_vms": per["cold_vms"].reindex(w.index, fill_value=0).to_numpy(),
            "transfer_hours": w["transfer_hours"].round(2).to_numpy(),
            "critical": per["critical"].reindex(w.index, fill_value=0).to_numpy(),
            "warnings": per["warnings"].reindex(w.index, fill_value=0).to_numpy(),
            "within_caps": w["within_caps"].to_numpy(),
            "closed_by": w["closed_by"].to_numpy(),
        }
    )
    return out.sort_values("wave").reset_index(drop=True)


def excluded_vms(readiness: pd.DataFrame) -> pd.DataFrame:
    """Excluded VMs grouped by reason: ``reason, vms, names`` (names as a list)."""
    excluded = readiness[readiness["verdict"] == "excluded"]
    reason = excluded["excluded_reason"].fillna("").replace("", "(no reason recorded)")
    grouped = excluded.groupby(reason)["name"].agg(list)
    return pd.DataFrame({"reason": grouped.index, "vms": grouped.map(len).to_numpy(),
                         "names": grouped.to_numpy()}).sort_values("vms", ascending=False, kind="stable")


def concern_findings(concerns: pd.DataFrame, readiness: pd.DataFrame) -> pd.DataFrame:
    """One row per (rule, status) with every affected VM's name, most severe and widest first.

    Columns: ``rule_id, status, category, label, assessment, remediation, vm_count, names``.
    """
    names = readiness.set_index("vm_id")["name"]
    c = concerns.assign(name=concerns["vm_id"].map(names).fillna(concerns["vm_id"]))
    keys = ["rule_id", "status", "category", "label"]
    out = c.groupby(keys, sort=False).agg(
        assessment=("assessment", "first"),
        remediation=("remediation", "first"),
        vm_count=("vm_id", "nunique"),
        names=("name", lambda s: sorted(set(s))),
    ).reset_index()
    out["_cat"] = out["category"].map(CATEGORY_ORDER).fillna(3)
    out["_status"] = (out["status"] != "fired").astype(int)
    out = out.sort_values(["_status", "_cat", "vm_count", "rule_id"], ascending=[True, True, False, True])
    return out.drop(columns=["_cat", "_status"]).reset_index(drop=True)


def node_summary(results: dict[str, StageResult]) -> pd.DataFrame:
    """Nodes needed per profile: workload and failover nodes, the lower bound and the gap to it.

    Fill is in percent of allocatable (as in the node-fill chart), averaged over workload nodes.
    """
    nodes = result_table(results, "nodes")
    runs = result_table(results, "packing_runs")
    if nodes is None or nodes.empty:
        return pd.DataFrame()
    roles = nodes.pivot_table(index="node_profile", columns="role", values="node", aggfunc="count",
                              fill_value=0)
    out = pd.DataFrame({"node_profile": roles.index})
    out["vms"] = out["node_profile"].map(nodes.groupby("node_profile")["vms"].sum())
    for role in ("workload", "failover"):
        out[f"{role}_nodes"] = out["node_profile"].map(roles[role]) if role in roles else 0
    out["total_nodes"] = out["workload_nodes"] + out["failover_nodes"]
    if runs is not None and not runs.empty:
        chosen = runs[runs["chosen"]].set_index("node_profile")
        out["lower_bound"] = out["node_profile"].map(chosen["lower_bound"])
        out["gap"] = out["workload_nodes"] - out["lower_bound"]
        out["method"] = out["node_profile"].map(chosen["final_method"])
    workload = nodes[nodes["role"] == "workload"].groupby("node_profile")
    out["cpu_fill_pct"] = (100 * out["node_profile"].map(workload["cpu_fill"].mean())).round(1)
    out["memory_fill_pct"] = (100 * out["node_profile"].map(workload["memory_fill"].mean())).round(1)
    return out


def cost_comparison(cost: pd.DataFrame) -> pd.DataFrame:
    """Annual cost today and on the target, item by item, with the totals and the difference."""
    columns = ["side", "item", "quantity", "unit", "unit_cost", "annual_cost", "currency", "input",
               "assumption"]
    return cost[[c for c in columns if c in cost]].reset_index(drop=True)


def warning_groups(warnings: pd.DataFrame) -> pd.DataFrame:
    """Warnings counted by code (most frequent first), with the first message as an example."""
    if warnings.empty:
        return pd.DataFrame(columns=["code", "count", "example"])
    grouped = warnings.groupby("code", sort=False).agg(count=("message", "size"),
                                                       example=("message", "first")).reset_index()
    return grouped.sort_values(["count", "code"], ascending=[False, True]).reset_index(drop=True)


#: Parameters the report states as assumptions: (stage, dotted path in the params, label).
ASSUMPTIONS = [
    ("readiness", "powered_off_days", "Powered off longer than this: excluded, days"),
    ("sizing", "rightsizing.mode", "Right-sizing mode"),
    ("sizing", "rightsizing.percentile", "Utilization percentile sized for"),
    ("sizing", "rightsizing.comfort_factor", "Comfort factor (headroom)"),
    ("sizing", "rightsizing.lookback_days", "History used, days"),
    ("sizing", "rightsizing.upsizing", "Upsizing"),
    ("sizing", "packing.cpu_overcommit", "CPU overcommit (vCPU per core)"),
    ("sizing", "packing.memory_overcommit", "Memory overcommit"),
    ("sizing", "packing.target_utilization", "Node fill ceiling"),
    ("sizing", "packing.ha_reserve", "Failover reserve"),
    ("sizing", "packing.ha_spare_nodes", "Spare nodes (N+k)"),
    ("sizing", "kubevirt.replication_factor", "Storage replication factor"),
    ("sizing", "packing.ha_min_failover_nodes", "Failover nodes, at least"),
    ("sizing", "packing.ha_percent", "Failover share of nodes (when percent)"),
    ("sizing", "packing.node_profiles", "Node profiles"),
    ("sizing", "cost.currency", "Currency"),
    ("sizing", "cost.vmware_price_per_core_year", "VMware price per core-year"),
    ("sizing", "cost.vmware_min_cores_per_socket", "VMware licensed cores per socket, at least"),
    ("sizing", "cost.current_hardware_per_year", "Current hardware per year"),
    ("sizing", "cost.current_support_per_year", "Current support per year"),
    ("sizing", "cost.target_subscription_per_node_year", "Target subscription per node-year"),
    ("sizing", "cost.target_subscription_per_core_year", "Target subscription per core-year"),
    ("sizing", "cost.target_support_per_year", "Target support per year"),
    ("waves", "max_vms_per_wave", "VMs per wave, at most"),
    ("waves", "max_tb_per_wave", "Storage per wave, at most (TiB)"),
    ("waves", "window_hours", "Migration window, hours"),
    ("waves", "bandwidth_gbps", "Bandwidth source to target, Gbit/s"),
    ("waves", "efficiency", "Usable share of bandwidth"),
    ("waves", "storage_write_gbps", "Target storage write rate, Gbit/s"),
    ("waves", "per_vm_gbps", "One VM's disk copy, Gbit/s"),
    ("waves", "providers", "Source providers (vCenters) in parallel"),
    ("waves", "max_concurrent", "Forklift migrations in flight (per ESXi host in MTV; planned per provider)"),
    ("waves", "parallel_waves", "Waves per window"),
    ("waves", "cutover_minutes_per_vm", "Cutover per VM, minutes"),
    ("waves", "cutover_minutes_per_wave", "Cutover per wave, minutes"),
    ("waves", "validate_vms_per_window", "VMs validated per window"),
    ("waves", "warm_precopy_days", "Warm pre-copy lead, days (at least)"),
    ("waves", "precopy_interval_minutes", "Warm pre-copy interval, minutes"),
    ("waves", "warm_delta_fraction", "Warm share copied in the window where the change rate is not measured"),
    ("waves", "cadence_days", "Days between waves"),
    ("waves", "start", "First window starts"),
]


#: Parameters left unset that still say something (no limit), stated instead of left out.
UNSET = {"max_vms_per_wave": "none (the throughput model decides)", "max_tb_per_wave": "none",
         "storage_write_gbps": "not measured (not a limit)", "validate_vms_per_window": "not a limit"}
#: The waves parameters of the throughput model, repeated beside the programme they time.
THROUGHPUT = ("bandwidth_gbps", "efficiency", "storage_write_gbps", "per_vm_gbps", "providers",
              "max_concurrent", "parallel_waves", "cutover_minutes_per_vm", "cutover_minutes_per_wave",
              "validate_vms_per_window", "warm_precopy_days", "precopy_interval_minutes",
              "warm_delta_fraction", "window_hours", "cadence_days", "max_vms_per_wave", "max_tb_per_wave")


def assumptions(results: dict[str, StageResult], summary: dict) -> pd.DataFrame:
    """The parameters behind the numbers: ``stage, assumption, value, source``.

    Values come from the parameters each stage recorded as used (defaults included); ``source``
    is ``given`` for a value the run was given explicitly, ``default`` otherwise.
    """
    rows = [("run", "Tool version", summary.get("tool_version", ""), "assess"),
            ("run", "Generated", summary.get("generated_at", ""), "assess")]
    readiness = results.get("readiness")
    if readiness is not None and "rules_version" in readiness.summary:
        rows.append(("readiness", "Rules version", readiness.summary["rules_version"], "rule catalogue"))
    for stage, path, label in ASSUMPTIONS:
        if stage not in results:
            continue
        value = param_value(results[stage].params, path)
        given = path in results[stage].summary.get("params_given", [])
        if value is None and path.startswith("cost."):
            rows.append((stage, label, "not given (not counted)", "not given"))
        elif value is None and stage == "waves" and path in UNSET:
            rows.append((stage, label, UNSET[path], "given" if given else "default"))
        elif value is not None:
            rows.append((stage, label, _assumption_text(path, value, results[stage].summary),
                         "given" if given else "default"))
    return pd.DataFrame(rows, columns=["stage", "assumption", "value", "source"])


def _assumption_text(path: str, value, stage_summary: dict):
    """A parameter as the report states it: node profiles spelled out, the right-sizing mode as run."""
    if path == "packing.node_profiles":
        return "; ".join(f"{p['name']}: {p['cores']} cores, {p['memory_mib'] / 1024:g} GiB, "
                         f"{p['price_per_year']:g} per year" for p in value)
    mode = stage_summary.get("mode")
    if path == "rightsizing.mode" and mode is not None and mode != value:
        return f"{mode} (asked: {value}; no utilization samples, every VM sized as allocated)"
    return value


def param_value(params: dict, path: str):
    """The value at the dotted ``path`` of recorded parameters (None when absent)."""
    value = params
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def throughput_assumptions(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of the :func:`assumptions` table of the throughput parameters (:data:`THROUGHPUT`).

    The same values as in the assumptions section, in the model's order, for the programme section.
    """
    labels = {label: path for stage, path, label in ASSUMPTIONS if stage == "waves" and path in THROUGHPUT}
    rows = table[(table["stage"] == "waves") & table["assumption"].isin(labels)]
    order = rows["assumption"].map(lambda label: THROUGHPUT.index(labels[label]))
    return rows.assign(_o=order).sort_values("_o").drop(columns=["_o", "stage"]).reset_index(drop=True)


def period_rows(periods: pd.DataFrame, names: int = 5) -> pd.DataFrame:
    """The ``programme_periods`` table as the report shows it, one row per period.

    Transfer hours read "used of offered"; the binding limit reads "limit: k of n waves"; the
    clusters emptied are named (the first ``names``, then counted). The cost columns are left out
    when no cost was given.
    """
    waves = periods["waves"].fillna(0).astype(int)
    binding = [f"{limit}: {k} of {n} waves" if n else "no wave"
               for limit, k, n in zip(periods["binding_limit"], periods["binding_waves"], waves)]
    emptied = [_first_names(text, names) for text in periods["emptied_clusters"]]
    out = pd.DataFrame({
        "period": periods["period"], "waves": waves, "vms": periods["vms"].fillna(0).astype(int),
        "storage_tib": periods["storage_tib"],
        "hours": [f"{used:,.1f} of {offered:,.0f}" for used, offered in
                  zip(periods["transfer_hours"], periods["window_hours"])],
        "binding": binding, "emptied": emptied,
        "current_cost": periods["current_cost"], "target_cost": periods["target_cost"],
        "total_cost": periods["total_cost"]})
    cost = ["current_cost", "target_cost", "total_cost"]
    return out.drop(columns=cost) if periods["total_cost"].isna().all() else out


def _first_names(text, names: int) -> str:
    """``"a; b; c"`` as ``"a, b and 1 more"`` past ``names`` names; empty for none."""
    if pd.isna(text) or not str(text):
        return ""
    items = str(text).split("; ")
    shown = ", ".join(items[:names])
    return shown + (f" and {len(items) - names} more" if len(items) > names else "")


def programme_cost(dual: dict | None) -> pd.DataFrame | None:
    """Monthly cost before, during and after the migration, and over the migration's months.

    From the ``dual_running`` summary: before is today's VMware cost, after the target's steady
    state, during the cost of running both averaged over ``migration_months``. The second row
    prices the same months on each footing, so the premium of the migration period reads off it.
    None without cost figures.
    """
    if not dual or not dual.get("migration_months"):
        return None
    months = int(dual["migration_months"])
    before, after = float(dual["current_monthly_before"]), float(dual["target_monthly_steady"])
    during = float(dual["migration_period_cost"])
    span = "the month" if months == 1 else f"the {months} months"
    return pd.DataFrame({"basis": ["per month", f"over {span} of the migration"],
                         "before": [before, before * months], "during": [during / months, during],
                         "after": [after, after * months]})
