"""The one-sentence answers that open each report section, and the plan's quality in words.

An architect reads a report as a list of questions: what is there; what can move now and what
needs a fix; how much target capacity; what it costs against today; in which waves, when and
why; what changed since last time. Each function here answers one of them from the run's
summary and result tables, with the numbers in the sentence, so the answer is the evidence's
headline rather than a paraphrase of it. A stage that did not run gives no answer (None).
"""

from __future__ import annotations

import pandas as pd

from assess.report.tables import result_table


def _n(value, word: str) -> str:
    """``"1 VM"``, ``"1,234 VMs"``: a count with thousands separators and the plural it needs."""
    value = int(value)
    plural = word if value == 1 else (word[:-1] + "ies" if word.endswith("y") else word + "s")
    return f"{value:,} {plural}"


def inventory_answer(counts: dict, disk_tib: float) -> str:
    """What is there: VMs, hosts, clusters and their disk."""
    return (f"{_n(counts['vms'], 'VM')} on {_n(counts['hosts'], 'host')} in "
            f"{_n(counts['clusters'], 'cluster')}, with {disk_tib:,.1f} TiB of provisioned disk.")


def readiness_answer(verdicts: dict | None, coverage: dict | None = None) -> str | None:
    """What can move now, what needs a fix first, what could not be checked."""
    if verdicts is None:
        return None
    ready = verdicts.get("ready", 0) + verdicts.get("ready_with_warnings", 0)
    not_ready = verdicts.get("not_ready", 0)
    text = (f"{_n(ready, 'VM')} can move now ({verdicts.get('ready_with_warnings', 0):,} of them with "
            f"warnings to read); {_n(not_ready, 'VM')} {'needs' if not_ready == 1 else 'need'} a fix first")
    if verdicts.get("unknown"):
        text += f"; {_n(verdicts['unknown'], 'VM')} {'lacks' if verdicts['unknown'] == 1 else 'lack'} the " \
                "inventory to judge"
    if verdicts.get("excluded"):
        text += f"; {_n(verdicts['excluded'], 'VM')} {'is' if verdicts['excluded'] == 1 else 'are'} excluded"
    if coverage and coverage.get("partial"):
        text += f"; for {_n(coverage['partial'], 'VM')} some checks could not be made from these sources"
    return text + "."


def sizing_answer(sizing: dict | None, totals: pd.DataFrame | None = None) -> str | None:
    """How much target capacity: nodes, and the vCPU and memory it is sized for."""
    if not sizing:
        return None
    nodes = sizing["workload_nodes"] + sizing["failover_nodes"]
    profiles = ", ".join(sizing.get("nodes_by_profile", {})) or "the node profile"
    text = (f"{_n(nodes, 'node')} of {profiles} ({sizing['workload_nodes']:,} for the workload, "
            f"{sizing['failover_nodes']:,} failover) hold the {sizing['placed']:,} VMs to move")
    if totals is not None and not totals.empty:
        t = totals.set_index("stage")
        text += (f"; memory goes from {t.at['allocated', 'memory_gib']:,.0f} GiB allocated to "
                 f"{t.at['target', 'memory_gib']:,.0f} GiB on the target")
    if sizing.get("unplaced_vms"):
        text += f"; {_n(sizing['unplaced_vms'], 'VM')} fit no node"
    return text + "."


def cost_answer(sizing: dict | None, currency: str = "") -> str | None:
    """What it costs against today, per year."""
    if not sizing or "cost_target_per_year" not in sizing:
        return None
    now, target = float(sizing["cost_current_per_year"]), float(sizing["cost_target_per_year"])
    unit = f" {currency}" if currency else ""
    if not now and not target:
        return "No prices were given, so no cost is stated (set the cost parameters to compare)."
    change = "less" if target < now else "more"
    share = f" ({abs(target - now) / now:.0%} {change})" if now else ""
    return (f"The target costs {target:,.0f}{unit} a year against {now:,.0f}{unit} today: "
            f"{abs(now - target):,.0f}{unit} {change}{share}.")


#: wave_plan buckets whose VMs are in no wave; every other bucket (shared services, pilot, wave) moves.
OUTSIDE_WAVES = ("remediate-first", "excluded")


def waves_answer(waves: dict | None, buckets_held: int = 0) -> str | None:
    """In which waves and when."""
    if not waves or not waves.get("waves"):
        return None
    start, end = (pd.Timestamp(waves[k]).strftime("%d %b %Y") for k in ("first_wave_start", "last_wave_end"))
    buckets = waves.get("buckets", {})
    moving = sum(n for bucket, n in buckets.items() if bucket not in OUTSIDE_WAVES)
    text = f"{_n(waves['waves'], 'wave')} from {start} to {end} move {moving:,} VMs"
    if buckets_held:
        text += (f"; {_n(buckets_held, 'VM')} stay outside the waves (fix first, retire, retain or "
                 "excluded: see each VM's reason)")
    return text + "."


def timeline_answer(timeline: pd.DataFrame | None) -> str | None:
    """How long the programme takes and when the source clusters are empty."""
    if timeline is None or not timeline["kind"].eq("programme").any():
        return None
    p = timeline[timeline["kind"].eq("programme")].iloc[0]
    if pd.isna(p["start"]):
        return None
    day = "%d %b %Y"
    text = (f"The programme runs {p['days']:,.0f} days, from {p['start']:{day}} to {p['end']:{day}}: "
            f"{p['detail']}")
    clusters = timeline[timeline["kind"].eq("cluster empty")]
    waiting = int(clusters["end"].isna().sum())
    if waiting:
        text += (f"; {waiting} of {len(clusters)} source clusters are empty only once their "
                 "remediate-first VMs move")
    elif len(clusters):
        text += f"; the last source cluster is empty on {clusters['end'].max():{day}}"
    return text + "."


#: Limit kinds (``programme_periods.binding_kind``) that are capacity: more of it would shorten the programme.
CAPACITY_LIMITS = ("VMs per window", "copy window", "storage cap")


def binding_answer(periods: dict | None) -> str | None:
    """What limits the pace: the limit that closed most waves, with its count."""
    if not periods or not periods.get("waves"):
        return None
    closed = f"{periods['binding_limit']} ({periods['binding_waves']:,} of {_n(periods['waves'], 'wave')})"
    if periods["binding_kind"] in CAPACITY_LIMITS and 2 * periods["binding_waves"] > periods["waves"]:
        return f"What sets the pace: {closed}."
    return f"No capacity limit closed most waves; the most frequent reason a wave closed: {closed}."


def programme_cost_answer(dual: dict | None) -> str | None:
    """What the migration period costs, beside today's cost and the steady state."""
    if not dual or not dual.get("migration_months"):
        return None
    unit = f" {dual['currency']}" if dual.get("currency") else ""
    months = int(dual["migration_months"])
    total = float(dual["migration_period_cost"])
    return (f"Running both platforms for {_n(months, 'month')} costs {total:,.0f}{unit} "
            f"({total / months:,.0f}{unit} a month on average), against {dual['current_monthly_before']:,.0f}"
            f"{unit} a month on VMware today and {dual['target_monthly_steady']:,.0f}{unit} a month on the "
            "target once done.")


def changes_answer(changes: pd.DataFrame | None) -> str | None:
    """What changed since last time."""
    if changes is None:
        return None
    if changes.empty:
        return "Nothing changed since the last run."
    counts = changes["change"].value_counts()
    top = ", ".join(f"{n:,} {kind.replace('_', ' ')}" for kind, n in counts.head(4).items())
    return f"{_n(len(changes), 'change')} since the last run: {top}."


#: How each plan metric reads in words: (sentence when zero/ok, sentence otherwise), with ``{v}``.
QUALITY_WORDS = {
    "hard_links_split": ("No application is split across waves by a hard dependency.",
                         "{v:.0f} hard dependencies are split across waves: those VMs move apart."),
    "cross_wave_share": ("No dependency crosses from one wave to another.",
                         "{v:.1%} of the links between VMs cross from one wave to another."),
    "cross_wave_weighted": ("No traffic crosses between waves.",
                            "Traffic of weight {v:,.0f} (connections, or bytes where the flows have them) "
                            "crosses between waves: it runs between the sites until both ends have moved."),
    "waves_over_cap": ("Every wave is within its caps.", "{v:.0f} waves are over a cap."),
    "modularity": (None, "The move groups are {q} apart in the traffic (modularity {v:.2f}; 1 is fully "
                         "separate)."),
}


def plan_quality(metrics: pd.DataFrame | None) -> list[tuple[str, bool]]:
    """The wave plan's quality as sentences with the numbers, each with its ``ok`` flag.

    Metrics without a sentence here are stated as ``name: value (target)``, so none is hidden.
    """
    if metrics is None or metrics.empty:
        return []
    values = metrics.set_index("metric")
    out = []
    for name, row in values.iterrows():
        value, ok = float(row["value"]), bool(row.get("ok", True))
        if name in ("waves_used", "waves_lower_bound", "move_groups"):
            continue
        good, bad = QUALITY_WORDS.get(name, (None, None))
        if name == "modularity":
            quality = "well" if value >= 0.6 else "fairly" if value >= 0.3 else "poorly"
            out.append((bad.format(v=value, q=quality), ok))
        elif good is not None and value == 0:
            out.append((good, ok))
        elif bad is not None:
            out.append((bad.format(v=value), ok))
        else:
            out.append((f"{name.replace('_', ' ')}: {value:,.3g} ({row.get('target', '')})", ok))
    if {"waves_used", "waves_lower_bound"} <= set(values.index):
        used, bound = int(values.at["waves_used", "value"]), int(values.at["waves_lower_bound", "value"])
        verdict = ("the fewest the caps allow." if used <= bound else
                   f"{used - bound} more than the {bound} the caps allow at best (dependencies and pins "
                   "cost the rest).")
        out.insert(0, (f"{_n(used, 'wave')}: {verdict}", used <= bound))
    return out


def capacity_totals(estate, results: dict) -> pd.DataFrame | None:
    """VCPU and memory as allocated in VMware, as right-sized, and as given on the target.

    One row per stage (``allocated``, ``right-sized``, ``target``) over the VMs sizing placed,
    so the three totals describe the same VMs. Allocated comes from sizing's ``alloc_*``
    columns where they hold a value, else from the inventory.
    """
    sizing = result_table(results, "sizing")
    if sizing is None:
        return None
    placed = sizing[sizing["node"].notna()]
    vms = estate["vms"].set_index("vm_id")
    alloc_cpu = placed["vm_id"].map(vms["vcpus"]).astype("Float64")
    alloc_mib = placed["vm_id"].map(vms["memory_mib"]).astype("Float64")
    if "alloc_vcpus" in placed.columns:  # sizing's record of the allocation wins where it has one
        alloc_cpu = placed["alloc_vcpus"].astype("Float64").fillna(alloc_cpu)
        alloc_mib = placed["alloc_memory_mib"].astype("Float64").fillna(alloc_mib)
    rows = [("allocated", alloc_cpu.sum(), alloc_mib.sum() / 1024),
            ("right-sized", placed["vcpus"].sum(), placed["memory_mib"].sum() / 1024),
            ("target", placed["guest_vcpus"].sum(), placed["guest_memory_mib"].sum() / 1024)]
    frame = pd.DataFrame(rows, columns=["stage", "vcpus", "memory_gib"])
    frame["vcpus"] = frame["vcpus"].astype(int)
    frame["memory_gib"] = frame["memory_gib"].round(0)
    frame["vms"] = len(placed)
    return frame
