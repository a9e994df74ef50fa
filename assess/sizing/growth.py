"""Growth: a per-cluster demand trend over the lookback, projected to the horizon (12 months).

The daily total of each cluster (sum over its VMs of each VM's daily mean) is fitted with a
least-squares line; the factor is the line's value at the horizon over its value on the
last day. The packing step multiplies demand by it to give the nodes needed in 12 months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assess.sizing.features import in_window
from assess.sizing.params import Growth

GROWTH_METRICS = ("cpu_usage_mhz", "mem_consumed_mib")
DAYS_PER_MONTH = 365.25 / 12


def growth_factors(
    utilization: pd.DataFrame,
    vms: pd.DataFrame,
    params: Growth | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """One row per (cluster, metric): the trend of the daily totals and the projected factor.

    Columns ``cluster, metric, days, slope_per_day, level, factor, r2, reason``: ``level`` is
    the fitted daily total on the last day, ``factor`` the fitted total ``horizon_months``
    later over ``level`` (1.0 with fewer than ``min_days`` days; capped at ``max_factor``;
    not below 1.0 unless ``allow_shrink``). Days with less than half the cluster's median
    sample count (partial first/last days) are left out. VMs without a cluster count as
    cluster ``(none)``.
    """
    p = params or Growth()
    u = in_window(utilization, start, end)
    u = u[u["metric"].isin(GROWTH_METRICS)]
    clusters = vms["cluster"] if "cluster" in vms else pd.Series(pd.NA, index=vms.index)
    cluster_of = pd.Series(clusters.astype("string").to_numpy(), index=vms["vm_id"].astype("string"))
    cluster = u["vm_id"].astype("string").map(cluster_of).fillna("(none)")
    day = u["timestamp"].dt.floor("D")
    per_vm = u.groupby([cluster.rename("cluster"), u["metric"], u["vm_id"], day.rename("day")],
                       observed=True)["value"].agg(["mean", "count"])
    daily = per_vm.groupby(level=["cluster", "metric", "day"], observed=True).agg(
        total=("mean", "sum"), samples=("count", "sum")).reset_index()
    rows = []
    for (name, metric), group in daily.groupby(["cluster", "metric"], observed=True):
        full = group[group["samples"] >= 0.5 * group["samples"].median()].sort_values("day")
        rows.append(_trend(str(name), str(metric), full, p))
    columns = ["cluster", "metric", "days", "slope_per_day", "level", "factor", "r2", "reason"]
    return pd.DataFrame(rows, columns=columns).astype({"cluster": "string", "metric": "string",
                                                      "reason": "string"})


def _trend(cluster: str, metric: str, daily: pd.DataFrame, p: Growth) -> dict:
    n = len(daily)
    if n < p.min_days:
        level = float(daily["total"].iloc[-1]) if n else np.nan
        return dict(cluster=cluster, metric=metric, days=n, slope_per_day=0.0, level=level, factor=1.0,
                    r2=np.nan, reason=f"only {n} full day(s) of data (< min_days {p.min_days}): no trend")
    x = ((daily["day"] - daily["day"].iloc[0]).dt.days).to_numpy(dtype=float)
    y = daily["total"].to_numpy(dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    fitted = slope * x + intercept
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1 - float(((y - fitted) ** 2).sum()) / ss_tot if ss_tot > 0 else 0.0
    level = float(fitted[-1])
    horizon = p.horizon_months * DAYS_PER_MONTH
    raw = (level + slope * horizon) / level if level > 0 else 1.0
    factor = min(raw, p.max_factor)
    factor = factor if p.allow_shrink else max(factor, 1.0)
    reason = (f"{slope:+.1f}/day over {n} days (r2 {r2:.2f}): x{raw:.2f} in {p.horizon_months:g} months")
    if factor != raw:
        reason += f", limited to x{factor:.2f}"
    return dict(cluster=cluster, metric=metric, days=n, slope_per_day=float(slope), level=level,
                factor=float(factor), r2=r2, reason=reason)
