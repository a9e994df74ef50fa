"""Per-VM statistics of the utilization samples inside the lookback window.

The right-sizer, the idle detector and the profiler read these tables instead of the raw
samples, so a large estate can be summarised once (here in memory, or out of core by
``assess.collect.utilization_stats``) and sized from the summary.

The **stats table** (long, one row per VM and metric) has the columns ``vm_id, metric,
samples, mean, std, max, p50, p90, p95, p99, first, last, interval_s``: sample count, moments
and percentiles (numpy's linear interpolation) of ``value``, first/last sample time, and the
median seconds between samples (from ``interval_s`` where recorded, else the spacing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Percentiles kept in the stats table (the choices of ``RightSizing.percentile``).
PERCENTILES = (50, 90, 95, 99)

STATS_COLUMNS = ["vm_id", "metric", "samples", "mean", "std", "max", *[f"p{p}" for p in PERCENTILES],
                 "first", "last", "interval_s"]


def lookback_window(
    utilization: pd.DataFrame, lookback_days: float, end: pd.Timestamp | None = None
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The (start, end] window: ``end`` (default the latest sample) back ``lookback_days``."""
    if end is None:
        if utilization.empty:
            return None, None
        end = utilization["timestamp"].max()
    end = pd.Timestamp(end)
    end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
    return end - pd.Timedelta(days=lookback_days), end


def in_window(
    utilization: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> pd.DataFrame:
    """The samples with a value and ``start < timestamp <= end``."""
    keep = utilization["value"].notna()
    if start is not None:
        keep &= utilization["timestamp"] > start
    if end is not None:
        keep &= utilization["timestamp"] <= end
    return utilization[keep]


def metric_stats(
    utilization: pd.DataFrame, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
) -> pd.DataFrame:
    """The stats table (see module docstring) of the samples in the (start, end] window.

    Vectorised group-bys over (vm_id, metric); memory grows with the number of samples, so
    for hundreds of millions of samples compute the table out of core and use ``fit_stats``.
    """
    u = in_window(utilization, start, end)
    if u.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in STATS_COLUMNS}).astype(
            {"vm_id": "string", "metric": "string"})
    u = u.sort_values(["vm_id", "metric", "timestamp"], kind="stable")
    keys = [u["vm_id"], u["metric"]]
    grouped = u.groupby(keys, sort=False, observed=True)
    out = grouped["value"].agg(["count", "mean", "std", "max"]).rename(columns={"count": "samples"})
    quantiles = grouped["value"].quantile([p / 100 for p in PERCENTILES]).unstack()
    quantiles.columns = [f"p{p}" for p in PERCENTILES]
    times = grouped["timestamp"].agg(["min", "max"]).rename(columns={"min": "first", "max": "last"})
    step = u["timestamp"].diff().dt.total_seconds()
    step[(u["vm_id"] != u["vm_id"].shift()) | (u["metric"] != u["metric"].shift())] = np.nan
    spacing = step.groupby(keys, sort=False, observed=True).median()
    recorded = u["interval_s"].astype("float64").groupby(keys, sort=False, observed=True).median()
    out = out.join(quantiles).join(times)
    out["interval_s"] = recorded.fillna(spacing)
    out = out.reset_index()
    out.columns = STATS_COLUMNS[:2] + list(out.columns[2:])
    out["std"] = out["std"].fillna(0.0)
    return out[STATS_COLUMNS]


def daily_cycle(
    utilization: pd.DataFrame,
    metric: str = "cpu_usage_mhz",
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.Series:
    """Strength of each VM's daily cycle in ``metric``, 0..1 (vm_id index).

    The share of the metric's variance explained by the hour of day: variance of the hourly
    means over the variance of all samples. A flat or patternless VM scores near 0, a VM busy
    every working day and quiet every night near 1.
    """
    u = in_window(utilization, start, end)
    u = u[u["metric"] == metric]
    if u.empty:
        return pd.Series(dtype="float64", name="daily_cycle")
    hour = u["timestamp"].dt.hour
    hourly = u.groupby([u["vm_id"], hour], observed=True)["value"].mean()
    between = hourly.groupby(level=0, observed=True).var(ddof=0)
    total = u.groupby("vm_id", observed=True)["value"].var(ddof=0)
    share = (between / total.where(total > 0)).clip(0, 1).fillna(0.0)
    share.index = share.index.astype("string")
    return share.rename("daily_cycle")


def wide_features(stats: pd.DataFrame, cycle: pd.Series | None = None) -> pd.DataFrame:
    """One row per VM (vm_id index) of the shape features idle detection and profiling use.

    ``cpu_p50/p95/p99`` MHz, ``cpu_cv`` (std/mean: burstiness), ``cpu_peak_ratio``
    (P99 over P50+1: spikes), ``mem_p95`` MiB, ``net_p95`` and ``disk_p95`` KB/s, and
    ``daily_cycle`` (0 when not given); missing metrics are NaN.
    """
    s = stats.set_index(["vm_id", "metric"])
    vm_ids = pd.Index(stats["vm_id"].unique(), dtype="string", name="vm_id")

    def col(metric: str, field: str) -> pd.Series:
        try:
            values = s.xs(metric, level="metric")[field]
        except KeyError:
            return pd.Series(np.nan, index=vm_ids)
        values.index = values.index.astype("string")
        return values.reindex(vm_ids).astype("float64")

    mem = col("mem_consumed_mib", "p95").fillna(col("mem_active_mib", "p95"))
    out = pd.DataFrame(
        {
            "cpu_p50": col("cpu_usage_mhz", "p50"),
            "cpu_p95": col("cpu_usage_mhz", "p95"),
            "cpu_p99": col("cpu_usage_mhz", "p99"),
            "cpu_cv": col("cpu_usage_mhz", "std") / col("cpu_usage_mhz", "mean").where(lambda m: m > 0),
            "cpu_peak_ratio": col("cpu_usage_mhz", "p99") / (col("cpu_usage_mhz", "p50") + 1.0),
            "mem_p95": mem,
            "net_p95": col("net_kbps", "p95"),
            "disk_p95": col("disk_kbps", "p95"),
        },
        index=vm_ids,
    )
    out["daily_cycle"] = 0.0 if cycle is None else cycle.reindex(vm_ids).fillna(0.0).to_numpy()
    return out
