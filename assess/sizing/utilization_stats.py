"""Per-VM, per-metric summary statistics of utilization samples, in memory or out of core.

Sizing, idle detection and profiling read this summary instead of the samples. The same
numbers come from a pandas frame (:func:`frame_stats`) or from Parquet/CSV files scanned by
DuckDB without loading the samples into pandas (:func:`file_stats`); both use the same
definitions, e.g. percentiles with linear interpolation (numpy's default, DuckDB's
``quantile_cont``), so results agree to floating-point rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from assess.collect.utilization_formats import sql_text
from assess.model import AssessError
from assess.model.schema import TIME

PERCENTILES = (50, 90, 95, 99)

#: Samples summarised per DuckDB pass in :func:`file_stats`. A pass first de-duplicates its
#: samples into a work table, then its percentiles hold every value in memory, so larger inputs
#: go in several passes over disjoint sets of VMs. 100.8M samples under the 4 GB limit: 20M per
#: pass 30.7 s, peak 2.3 GB; one pass 45.9 s, peak 4.6 GB and 5 GB spilled; the 143M samples of
#: the 100,000-VM bench in one pass spilled over 60 GB and filled the disk.
ROWS_PER_PASS = 20_000_000

#: Columns of the stats table, in order.
STATS_COLUMNS = ["vm_id", "metric", "samples", "min", "mean", "std", "max", *[f"p{p}" for p in PERCENTILES],
                 "first", "last", "interval_s", "coverage", "day_night_ratio", "daily_cycle"]

_DOC = """
    Duplicate samples (same VM, metric and timestamp) count once, with the largest of their
    values. Only samples with a value inside each VM's window ``(end - lookback_days, end]``
    count; ``end`` defaults to **that VM's own** latest sample (so a VM whose history stopped
    early is still sized on its last ``lookback_days``), or is the given fixed end for every
    VM. One row per (vm_id, metric), sorted:

    - ``samples``: values counted; ``min``, ``mean``, ``max``; ``std`` (sample, ddof=1; 0 for
      one sample); ``p50, p90, p95, p99`` (linear interpolation between order statistics).
    - ``first``, ``last``: first and last sample time (UTC).
    - ``interval_s``: the recorded ``interval_s`` (its median where it varies), else the modal
      spacing of the de-duplicated samples in whole seconds (jitter such as 301 s among 300 s
      steps does not move it).
    - ``coverage``: share of the span ``last - first + interval_s`` covered by the samples'
      intervals (1.0 = no gaps).
    - ``day_night_ratio``: mean of samples between ``day_hours`` (UTC, start inclusive) over
      the mean of the others; NaN when either side is empty or the night mean is 0.
    - ``daily_cycle``: share of variance explained by the hour of day: population variance
      of the hourly means over that of all samples, clipped to 0..1 (0 when flat).
"""


def _window(lookback_days: float | None, end: pd.Timestamp | None, latest) -> tuple:
    end = pd.Timestamp(latest if end is None else end)
    if pd.isna(end):
        return None, None
    end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
    start = None if lookback_days is None else end - pd.Timedelta(days=lookback_days)
    return start, end


def _finish(out: pd.DataFrame) -> pd.DataFrame:
    out = out.reindex(columns=STATS_COLUMNS)
    out["std"] = out["std"].fillna(0.0)
    out["daily_cycle"] = out["daily_cycle"].clip(0, 1).fillna(0.0)
    types = {c: "float64" for c in STATS_COLUMNS[3:]}
    types.update(vm_id="string", metric="string", samples="Int64", first=TIME, last=TIME)
    return out.astype(types).sort_values(["vm_id", "metric"], ignore_index=True)


def frame_stats(
    utilization: pd.DataFrame,
    lookback_days: float | None = None,
    end: pd.Timestamp | None = None,
    day_hours: tuple[int, int] = (8, 20),
) -> pd.DataFrame:
    """The stats table of an in-memory canonical ``utilization`` frame (vectorised group-bys)."""
    u = _frame_window(utilization, lookback_days, end)
    if u.empty:
        return _finish(pd.DataFrame(columns=STATS_COLUMNS))
    keys = [u["vm_id"], u["metric"]]
    grouped = u.groupby(keys, sort=False, observed=True)["value"]
    out = grouped.agg(["count", "min", "mean", "std", "max"]).rename(columns={"count": "samples"})
    quantiles = grouped.quantile([p / 100 for p in PERCENTILES]).unstack()
    quantiles.columns = [f"p{p}" for p in PERCENTILES]
    times = u.groupby(keys, sort=False, observed=True)["timestamp"].agg(["min", "max"])
    out = out.join(quantiles).join(times.set_axis(["first", "last"], axis=1))
    step = u["timestamp"].diff().dt.total_seconds()
    step[(u["vm_id"] != u["vm_id"].shift()) | (u["metric"] != u["metric"].shift())] = np.nan
    recorded = u["interval_s"].astype("float64")
    out["interval_s"] = recorded.groupby(keys, sort=False, observed=True).median().fillna(
        _modal_step(u, step))
    covered = recorded.groupby(keys, sort=False, observed=True).sum() + recorded.isna().groupby(
        keys, sort=False, observed=True).sum() * out["interval_s"]
    out["coverage"] = covered / ((out["last"] - out["first"]).dt.total_seconds() + out["interval_s"])
    hour = u["timestamp"].dt.hour
    day = (hour >= day_hours[0]) & (hour < day_hours[1])
    day_mean = u["value"].where(day).groupby(keys, sort=False, observed=True).mean()
    night_mean = u["value"].where(~day).groupby(keys, sort=False, observed=True).mean()
    out["day_night_ratio"] = day_mean / night_mean.where(night_mean != 0)
    hourly = u.groupby([u["vm_id"], u["metric"], hour], sort=False, observed=True)["value"].mean()
    between = hourly.groupby(level=[0, 1], sort=False, observed=True).var(ddof=0)
    total = grouped.var(ddof=0)
    out["daily_cycle"] = between / total.where(total > 0)
    return _finish(out.reset_index().rename(columns={"level_0": "vm_id", "level_1": "metric"}))


frame_stats.__doc__ += _DOC


def _frame_window(utilization: pd.DataFrame, lookback_days: float | None, end) -> pd.DataFrame:
    """The de-duplicated samples with a value in each VM's window, sorted by VM, metric, time."""
    u = utilization[utilization["value"].notna()]
    u = u.sort_values(["vm_id", "metric", "timestamp", "value"], kind="stable")
    u = u.drop_duplicates(["vm_id", "metric", "timestamp"], keep="last")
    if u.empty:
        return u
    if end is None:
        vm_end = u.groupby("vm_id", sort=False, observed=True)["timestamp"].transform("max")
    else:
        vm_end = pd.Series(_window(None, end, None)[1], index=u.index)
    keep = u["timestamp"] <= vm_end
    if lookback_days is not None:
        keep &= u["timestamp"] > vm_end - pd.Timedelta(days=lookback_days)
    return u[keep]


def _modal_step(u: pd.DataFrame, step: pd.Series) -> pd.Series:
    """Most frequent spacing (whole seconds, smallest on ties) per (vm_id, metric)."""
    frame = pd.DataFrame({"vm_id": u["vm_id"], "metric": u["metric"], "step": step.round()}).dropna()
    counts = frame.groupby(["vm_id", "metric", "step"], sort=False, observed=True).size().rename("n")
    counts = counts.reset_index().sort_values(["n", "step"], ascending=[False, True], kind="stable")
    return counts.drop_duplicates(["vm_id", "metric"]).set_index(["vm_id", "metric"])["step"]


def _source(paths: Sequence[Path]) -> str:
    names = [str(p) for p in paths]
    for name in names:
        if not Path(name).is_file():
            raise AssessError(f"{name}: no such utilization file")
    listed = "[" + ", ".join(sql_text(n) for n in names) + "]"
    if all(n.lower().endswith(".parquet") for n in names):
        return f"read_parquet({listed}, union_by_name=true)"
    if any(n.lower().endswith(".parquet") for n in names):
        raise AssessError("give either Parquet or CSV utilization files to file_stats, not a mix")
    return f"read_csv({listed}, header=true, union_by_name=true)"


def file_stats(
    paths: Sequence[Path],
    lookback_days: float | None = None,
    end: pd.Timestamp | None = None,
    day_hours: tuple[int, int] = (8, 20),
    memory_limit: str | None = None,
) -> pd.DataFrame:
    """The stats table of canonical utilization files (Parquet or CSV), computed by DuckDB.

    The samples never enter pandas; DuckDB spills to disk beyond ``memory_limit`` (e.g. '4GB'),
    so tens of millions of samples summarise on a small machine. An estate folder's
    ``tables/utilization.parquet`` is such a file.
    """
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if memory_limit:
        con.execute(f"SET memory_limit = {sql_text(memory_limit)}")
    try:
        con.execute(f"""CREATE TEMP VIEW src AS
            SELECT CAST(vm_id AS VARCHAR) AS vm_id, CAST(metric AS VARCHAR) AS metric,
                   CAST(timestamp AS TIMESTAMPTZ) AS ts, CAST(value AS DOUBLE) AS v,
                   CAST(interval_s AS DOUBLE) AS iv
            FROM {_source(paths)} WHERE value IS NOT NULL""")
        rows = con.execute("SELECT count(*) FROM src").fetchone()[0]
    except duckdb.Error as exc:
        raise AssessError(f"utilization files {', '.join(map(str, paths))} cannot be read as the canonical "
                          f"table (vm_id, timestamp, metric, value, interval_s): {exc}") from exc
    if not rows:
        con.close()
        return _finish(pd.DataFrame(columns=STATS_COLUMNS))
    fixed = _window(None, end, None)[1] if end is not None else None
    ends = (f"SELECT vm_id, {sql_text(fixed.isoformat())}::TIMESTAMPTZ AS e FROM src GROUP BY vm_id"
            if fixed is not None else "SELECT vm_id, max(ts) AS e FROM src GROUP BY vm_id")
    con.execute(f"CREATE TEMP TABLE ends AS {ends}")
    where = "ts <= e" + (f" AND ts > e - INTERVAL {float(lookback_days) * 86400!r} SECOND"
                         if lookback_days is not None else "")
    passes = max(1, -(-rows // ROWS_PER_PASS))
    frames = []
    for part in range(passes):  # VMs split by hash: a pass holds all samples of its VMs
        part_of = f" AND hash(vm_id) % {passes} = {part}" if passes > 1 else ""
        con.execute("DROP TABLE IF EXISTS w")
        con.execute(f"""CREATE TEMP TABLE w AS
            SELECT vm_id, metric, ts, max(v) AS v, max(iv) AS iv FROM src JOIN ends USING (vm_id)
            WHERE {where}{part_of} GROUP BY vm_id, metric, ts""")
        frames.append(_stats_pass(con, day_hours))
    con.close()
    return _finish(pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0])


def _stats_pass(con: duckdb.DuckDBPyConnection, day_hours: tuple[int, int]) -> pd.DataFrame:
    """The stats of the samples in view ``w``, one row per (vm_id, metric).

    Two scans: every figure but the hourly means in one (the percentiles share one quantile
    state; the hour is integer arithmetic on the UTC epoch, not a time-zone lookup), the
    hourly means in the other. The recorded interval's median is taken only where it varies,
    and samples are sorted (for their spacing) only in series without a recorded interval.
    """
    hour = "((epoch_us(ts) // 3600000000) % 24)"
    day = f"h >= {int(day_hours[0])} AND h < {int(day_hours[1])}"
    keys = ["vm_id", "metric"]
    base = con.sql(f"""
        SELECT vm_id, metric, count(v) AS samples, min(v) AS min, avg(v) AS mean, stddev_samp(v) AS std,
               max(v) AS max, quantile_cont(v, [{", ".join(str(p / 100) for p in PERCENTILES)}]) AS pct,
               min(ts) AS first, max(ts) AS last, min(iv) AS iv_lo, max(iv) AS iv_hi,
               coalesce(sum(iv), 0) AS iv_sum, count(*) - count(iv) AS iv_missing,
               avg(v) FILTER (WHERE {day}) AS day_mean, avg(v) FILTER (WHERE NOT ({day})) AS night_mean,
               var_pop(v) AS total
        FROM (SELECT *, {hour} AS h FROM w) GROUP BY vm_id, metric""").df().set_index(keys)
    between = con.sql(f"""
        SELECT vm_id, metric, var_pop(hm) AS between FROM (
            SELECT vm_id, metric, {hour} AS h, avg(v) AS hm FROM w GROUP BY ALL) GROUP BY ALL
        """).df().set_index(keys)["between"].reindex(base.index)
    out = base[["samples", "min", "mean", "std", "max"]].copy()
    for k, p in enumerate(PERCENTILES):
        out[f"p{p}"] = base["pct"].str[k]
    out["first"], out["last"] = base["first"], base["last"]
    out["interval_s"] = base["iv_lo"].where(base["iv_lo"] == base["iv_hi"])
    varied = base.index[base["iv_lo"].notna() & (base["iv_lo"] != base["iv_hi"])]
    out["interval_s"] = out["interval_s"].fillna(_per_series(con, varied, "median(iv)", "w"))
    spacing = ("(SELECT vm_id, metric, "
               "epoch(ts) - epoch(lag(ts) OVER (PARTITION BY vm_id, metric ORDER BY ts)) AS step FROM w)")
    out["interval_s"] = out["interval_s"].fillna(
        _per_series(con, base.index[base["iv_lo"].isna()], "min_by(step, n)", _modes(spacing)))
    span = (out["last"] - out["first"]).dt.total_seconds() + out["interval_s"]
    out["coverage"] = (base["iv_sum"] + base["iv_missing"] * out["interval_s"]) / span
    out["day_night_ratio"] = base["day_mean"] / base["night_mean"].where(base["night_mean"] != 0)
    out["daily_cycle"] = between / base["total"].where(base["total"] > 0)
    return out.reset_index()


def _modes(spacing: str) -> str:
    """Per (vm_id, metric, step) counts of whole-second steps, negated so min_by picks the mode."""
    return (f"(SELECT vm_id, metric, step, -n * 1e9 + step AS n FROM (SELECT vm_id, metric, "
            f"round(step) AS step, count(*) AS n FROM {spacing} WHERE step IS NOT NULL GROUP BY ALL))")


def _per_series(con: duckdb.DuckDBPyConnection, series: pd.MultiIndex, aggregate: str, source: str
                ) -> pd.Series:
    """``aggregate`` over ``source`` for the (vm_id, metric) pairs in ``series`` only."""
    if series.empty:
        return pd.Series(dtype="float64")
    con.register("todo", series.to_frame(index=False))
    found = con.sql(f"SELECT vm_id, metric, {aggregate} FROM {source} "
                    "SEMI JOIN todo USING (vm_id, metric) GROUP BY ALL").df()
    con.unregister("todo")
    return found.set_index(["vm_id", "metric"]).iloc[:, 0]


file_stats.__doc__ += _DOC
