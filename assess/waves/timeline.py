"""The programme timeline: duration, critical path, and when each cluster and datacenter is empty.

The empty dates say when hardware and licences can go.

One ``timeline`` row per item: ``item``, ``kind`` (``programme``, ``critical path``,
``people``, ``cluster empty``, ``datacenter empty``), ``start``, ``end`` (UTC; empty when unknown),
``days`` and ``detail``. A cluster is empty at the end of the window of its last VM's wave;
while any of its VMs waits in remediate-first its empty date is unknown (said, not guessed).
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from assess.waves.facts import DIVERGES, PRECOPIED
from assess.waves.params import WavesParams
from assess.waves.schedule import WaveCaps
from assess.waves.throughput import TEAM_VMS_PER_WEEK, validation_load

COLUMNS = ["item", "kind", "start", "end", "days", "detail"]


def _row(item: str, kind: str, start, end, detail: str) -> dict:
    days = (end - start).total_seconds() / 86400 if pd.notna(start) and pd.notna(end) else None
    return dict(item=item, kind=kind, start=start, end=end, days=days, detail=detail)


def _critical_path(waves: pd.DataFrame, plan: pd.DataFrame, caps: WaveCaps) -> list[dict]:
    rows = []
    blocked = int((plan["bucket"] == "remediate-first").sum())
    if blocked:
        rows.append(_row("remediation", "critical path", pd.NaT, pd.NaT,
                         f"{blocked} VM(s) in remediate-first: not planned until fixed; how long that "
                         "takes is not modelled"))
    for kind, label in (("shared-services", "shared services"), ("pilot", "pilot")):
        part = waves[waves["kind"] == kind]
        if len(part):
            rows.append(_row(label, "critical path", part["start"].min(), part["end"].max(),
                             f"wave(s) {', '.join(map(str, part['wave']))}: {int(part['vms'].sum())} VMs"))
    rows += _precopy_lead(waves, plan)
    main = waves[~waves["kind"].isin(["shared-services", "pilot"])]
    if len(main):
        rows.append(_row("migration waves", "critical path", main["start"].min(), main["end"].max(),
                         f"{len(main)} wave(s), {int(main['vms'].sum())} VMs; a wave holds at most "
                         f"{caps.max_vms} VMs ({caps.vms_limit or 'cap'}) and copies at "
                         f"{caps.aggregate_gbps:g} Gbit/s ({caps.copy_limit or 'as given'})"))
    return rows


def listing(items, n: int = 5) -> str:
    """The first ``n`` of ``items``, comma separated, with ' ...' when there are more."""
    items = list(items)
    return ", ".join(map(str, items[:n])) + (" ..." if len(items) > n else "")


def _precopy_lead(waves: pd.DataFrame, plan: pd.DataFrame) -> list[dict]:
    """The longest warm pre-copy lead: which wave, how many days, on which basis (VM, link or floor)."""
    pre = waves[waves["precopy_days"] > 0]
    if pre.empty:
        return []
    top = pre.loc[pre["precopy_days"].idxmax()]
    waved = plan[plan["wave"].notna()]
    warm = int(waved["transfer_basis"].isin(PRECOPIED).sum())
    detail = (f"longest: wave {int(top['wave'])}, {top['precopy_days']:.2f} day(s) before its window: "
              f"{top['precopy_basis']}; {warm} warm VM(s) pre-copied ahead of {len(pre)} wave(s), the first "
              f"pre-copy from {pre['precopy_start'].min():%Y-%m-%d %H:%M} UTC")
    overlap = pre[pre["precopy_overlap"]]
    if len(overlap):
        detail += (f"; {len(overlap)} wave(s) ({listing(overlap['wave'])}) start pre-copying before the "
                   "earlier waves' copies end: they share the link, so the leads shown are a floor")
    diverging = int((waved["transfer_basis"] == DIVERGES).sum())
    if diverging:
        detail += (f"; {diverging} warm VM(s) whose measured change rate may outrun their copy are copied "
                   "whole in their window instead")
    return [_row("warm pre-copy lead", "critical path", top["precopy_start"], top["start"], detail)]


def _people(waves: pd.DataFrame, params: WavesParams, summary: dict) -> list[dict]:
    """The validation the busiest window asks of the teams, against the cited pace of one team."""
    load = validation_load(waves, params)
    if load is None:
        return []
    start, peak = load["peak_window_start"], load["peak_window_vms"]
    teams = (f"{load['teams_low']}" if load["teams_low"] == load["teams_high"]
             else f"{load['teams_low']}-{load['teams_high']}")
    low, high = TEAM_VMS_PER_WEEK
    detail = (f"the busiest window asks to validate {peak:,} VMs: {teams} migration-factory team(s) at "
              f"{low}-{high} VMs a week each (AWS Prescriptive Guidance, large migrations)")
    detail += (f"; validate_vms_per_window {load['limit']:,} limits every window" if load["limit"]
               else "; validate_vms_per_window is not set, so people do not limit this plan: set it to what "
                    "your teams can validate")
    summary.update(peak_window_vms=peak, teams_needed=teams)
    return [_row("validation", "people", start, start + timedelta(hours=params.window_hours), detail)]


def _empty_dates(plan: pd.DataFrame, waves: pd.DataFrame, vms: pd.DataFrame, column: str,
                 kind: str) -> list[dict]:
    """When each ``column`` value (cluster, datacenter) has no VM left to move."""
    end_of = waves.set_index("wave")["end"]
    start_of = waves.set_index("wave")["start"]
    where = vms.set_index("vm_id")[column].astype("string").fillna("(none)")
    p = plan.assign(place=plan["vm_id"].map(where).fillna("(none)"))
    rows = []
    for place, part in p.groupby("place", sort=True):
        waved = part["wave"].dropna().astype(int)
        waiting = int((part["bucket"] == "remediate-first").sum())
        gone = int((part["bucket"] == "excluded").sum())
        start = start_of.reindex(waved).min() if len(waved) else pd.NaT
        end = end_of.reindex(waved).max() if len(waved) and not waiting else pd.NaT
        detail = f"{len(waved)} VM(s) in waves"
        if waiting:
            detail += f"; {waiting} in remediate-first: empty once they are fixed and moved (date unknown)"
        if gone:
            detail += f"; {gone} excluded or not migrated (retire/retain/template): decommission or keep"
        rows.append(_row(str(place), kind, start, end, detail))
    return rows


def programme_timeline(waves: pd.DataFrame, plan: pd.DataFrame, vms: pd.DataFrame, params: WavesParams,
                       caps: WaveCaps) -> tuple[pd.DataFrame, dict]:
    """The ``timeline`` table and its summary (duration, waves per week, binding limits)."""
    rows = []
    summary = {"programme_days": None, "waves_per_week": None, "binding_vms": caps.vms_limit,
               "binding_copy": caps.copy_limit,
               "longest_precopy_days": round(float(waves["precopy_days"].max()), 2) if len(waves) else None}
    if len(waves):
        first, end = waves["start"].min(), waves["end"].max()
        start = min(first, waves["precopy_start"].min()) if waves["precopy_start"].notna().any() else first
        days = (end - start).total_seconds() / 86400
        per_week = len(waves) / max(days / 7, 1.0)
        summary.update(programme_days=round(days, 1), waves_per_week=round(per_week, 2))
        lead = (first - start).total_seconds() / 86400
        rows.append(_row("programme", "programme", start, end,
                         f"{len(waves)} waves in {days / 7:.1f} weeks ({per_week:.2f} per week, "
                         f"{params.parallel_waves} per window); {int(waves['vms'].sum())} VMs"
                         + (f"; it opens with the first warm pre-copy, {lead:.1f} day(s) before the first "
                            "window" if lead > 0 else "")))
    rows += _critical_path(waves, plan, caps)
    rows += _people(waves, params, summary)
    rows += _empty_dates(plan, waves, vms, "cluster", "cluster empty")
    rows += _empty_dates(plan, waves, vms, "datacenter", "datacenter empty")
    table = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("start", "end"):
        table[column] = pd.to_datetime(table[column], utc=True)
    return table.astype({"item": "string", "kind": "string", "days": "Float64", "detail": "string"}), summary
