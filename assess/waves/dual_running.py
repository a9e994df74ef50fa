"""What running both platforms costs until the migration is done, month by month.

Current side: the sizing stage's yearly VMware cost (``cost`` table, side ``current``, item
``total``) apportioned to clusters by their hosts' physical cores; a cluster costs its share
through the month its last VM's wave ends (its empty date in the ``timeline``: hardware and
licences are paid for the month in which the cluster empties), and to the end of the table when
that date is unknown (VMs waiting in remediate-first). Target side: the yearly
target cost (side ``target``) scaled by the share of target nodes in use: the nodes (sizing
``node``) holding VMs whose wave has started, over the nodes holding every planned VM. After
the last wave the target side is at its steady state and the current side is zero.
"""

from __future__ import annotations

import pandas as pd

COLUMNS = ["month", "clusters_running", "current_cost", "target_nodes", "target_cost", "total_cost"]


def _annual(cost: pd.DataFrame, side: str) -> float:
    rows = cost[(cost["side"] == side) & (cost["item"] == "total")]
    return float(rows["annual_cost"].sum()) if len(rows) else 0.0


def dual_running_cost(timeline: pd.DataFrame, waves: pd.DataFrame, plan: pd.DataFrame,
                      sizing: pd.DataFrame | None, hosts: pd.DataFrame,
                      cost: pd.DataFrame | None) -> tuple[pd.DataFrame, dict]:
    """The ``dual_running`` table (one row per calendar month of the programme) and its summary.

    Returns an empty table and ``{}`` when there is no cost table or no wave.
    """
    if cost is None or cost.empty or waves.empty:
        return pd.DataFrame(columns=COLUMNS), {}
    current, target = _annual(cost, "current"), _annual(cost, "target")
    cores = hosts.groupby(hosts["cluster"].astype("string").fillna("(none)"))["cores"].sum().astype(float)
    share = cores / cores.sum() if cores.sum() > 0 else cores
    empty = timeline[timeline["kind"] == "cluster empty"].set_index("item")["end"]
    first, last = waves["start"].min().tz_convert(None), waves["end"].max().tz_convert(None)
    months = pd.period_range(first, last, freq="M")
    started = plan.dropna(subset=["wave"]).merge(waves[["wave", "start"]], on="wave", how="left")
    node = (sizing.set_index("vm_id")["node"] if sizing is not None and "node" in sizing
            else pd.Series(dtype="string"))
    started = started.assign(node=started["vm_id"].map(node).fillna(started["vm_id"]))
    all_nodes = max(started["node"].nunique(), 1)
    rows = []
    for month in months:
        begin, end = month.start_time.tz_localize("UTC"), month.end_time.tz_localize("UTC")
        running = [c for c in share.index if c not in empty.index or pd.isna(empty[c]) or empty[c] >= begin]
        in_use = started.loc[started["start"] <= end, "node"].nunique()
        rows.append((str(month), len(running), current * float(share[running].sum()) / 12,
                     in_use, target * in_use / all_nodes / 12))
    table = pd.DataFrame(rows, columns=COLUMNS[:-1])
    table["total_cost"] = table["current_cost"] + table["target_cost"]
    summary = {"migration_months": len(table),
               "migration_period_cost": round(float(table["total_cost"].sum()), 2),
               "current_monthly_before": round(current / 12, 2),
               "target_monthly_steady": round(target / 12, 2),
               "currency": str(cost["currency"].iloc[0]) if "currency" in cost and len(cost) else ""}
    return table, summary
