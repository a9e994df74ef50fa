"""Per-VM helpers over utilization: the lookback window and the wide shape features.

The stats table itself (one row per VM and metric: samples, percentiles, first/last, interval,
daily cycle) comes from :mod:`assess.sizing.utilization_stats`, in memory or out of core.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


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


def wide_features(stats: pd.DataFrame) -> pd.DataFrame:
    """One row per VM (vm_id index) of the shape features idle detection and profiling use.

    ``cpu_p50/p95/p99`` MHz, ``cpu_cv`` (std/mean: burstiness), ``cpu_peak_ratio``
    (P99 over P50+1: spikes), ``mem_p95`` MiB, ``net_p95`` and ``disk_p95`` KB/s, and
    ``daily_cycle`` of the CPU (0 when the stats lack it); missing metrics are NaN.
    """
    s = stats.set_index(["vm_id", "metric"])
    vm_ids = pd.Index(stats["vm_id"].unique(), dtype="string", name="vm_id")

    def col(metric: str, field: str) -> pd.Series:
        try:
            values = s.xs(metric, level="metric")
        except KeyError:
            return pd.Series(np.nan, index=vm_ids)
        if field not in values:
            return pd.Series(np.nan, index=vm_ids)
        values = values[field]
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
    out["daily_cycle"] = col("cpu_usage_mhz", "daily_cycle").fillna(0.0)
    return out
