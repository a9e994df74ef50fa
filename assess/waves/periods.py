"""The programme period by period: what moves, what binds, which clusters empty, what it costs.

One ``programme_periods`` row per calendar month from the first window to the end of the last
(quarters, then years, when months would give more than :data:`MAX_PERIODS` rows, so a
steering committee reads one screen whatever the programme's length; at the default throughput
the programme is months long and the rows are months, one to one with ``dual_running``).

A wave belongs to the period its window opens in. The ``binding_limit`` of a period is the limit
that closed most of its waves (``waves.closed_by``, normalised by :func:`wave_limits` into a few
kinds), with the count ``binding_waves``; a tie goes to the kind first in :data:`LIMIT_KINDS`
(capacity limits before structural ones). ``window_hours`` is what the calendar offers: the
windows opening in the period (one every ``cadence_days`` from the first) x ``parallel_waves``
x ``window_hours``, beside the ``transfer_hours`` the waves use. Clusters emptied are the
``timeline`` rows of kind ``cluster empty`` whose date falls in the period; the costs are the
``dual_running`` months summed (null when no cost was given: unknown, not zero).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assess.waves.params import WavesParams

COLUMNS = ["period", "start", "end", "waves", "vms", "storage_tib", "transfer_hours", "window_hours",
           "binding_limit", "binding_kind", "binding_waves", "clusters_emptied", "emptied_clusters",
           "current_cost", "target_cost", "total_cost"]
#: Most rows the table has: months up to three years, then quarters, then years.
MAX_PERIODS = 36
FREQUENCIES = (("M", "month"), ("Q", "quarter"), ("Y", "year"))
#: Kinds of limit that close a wave, capacity limits first (the order breaks ties).
LIMIT_KINDS = ("VMs per window", "copy window", "storage cap", "phase change", "dependencies or pins",
               "pilot size", "shared services", "last VMs", "other")
DTYPES = {"period": "string", "waves": "Int64", "vms": "Int64", "binding_limit": "string",
          "binding_kind": "string", "binding_waves": "Int64", "clusters_emptied": "Int64",
          "emptied_clusters": "string"}


def limit_of(closed_by: str, kind: str, last: bool) -> tuple[str, str]:
    """``(kind, limit)`` of one wave from its ``closed_by`` text, its wave ``kind`` and whether it is last.

    ``VM cap 100 (validation (100 VMs per window))`` gives ``("VMs per window", "validation (100
    VMs per window)")``; a wave no cap closed is the shared-services wave, the last wave, or one
    whose next groups waited for dependencies, keep-apart rules or pins. Unknown texts are kept
    whole under ``other``.
    """
    text = (closed_by or "").strip()
    if text.startswith("VM cap"):
        detail = text.split("(", 1)[1][:-1] if "(" in text and text.endswith(")") else text
        return "VMs per window", detail
    for prefix, limit_kind in (("transfer window", "copy window"), ("storage cap", "storage cap"),
                               ("phase change", "phase change"), ("pilot size", "pilot size")):
        if text.startswith(prefix):
            return limit_kind, text
    if text:
        return "other", text
    if kind == "shared-services":
        return "shared services", "shared services (one wave)"
    if last:
        return "last VMs", "last VMs (nothing left to move)"
    return "dependencies or pins", "no cap: the next groups waited for dependencies, keep-apart rules or pins"


def wave_limits(waves: pd.DataFrame) -> pd.DataFrame:
    """``binding_kind`` and ``binding_limit`` of each wave (``waves`` row order), by :func:`limit_of`."""
    regular = waves.loc[waves["kind"] != "shared-services", "wave"]
    last = regular.max() if len(regular) else None
    pairs = [limit_of(c, k, w == last) for c, k, w in zip(waves["closed_by"].fillna(""), waves["kind"],
                                                          waves["wave"])]
    return pd.DataFrame(pairs, columns=["binding_kind", "binding_limit"], index=waves.index)


def frequency(first: pd.Timestamp, last: pd.Timestamp) -> tuple[str, str]:
    """``(pandas frequency, name)``: months, unless that gives more than :data:`MAX_PERIODS` rows."""
    for freq, name in FREQUENCIES:
        if len(pd.period_range(first, last, freq=freq)) <= MAX_PERIODS:
            return freq, name
    return FREQUENCIES[-1]


def naive_utc(times: pd.Series) -> pd.Series:
    """Times as UTC without a time zone (what ``to_period`` and matplotlib's dates take)."""
    return pd.to_datetime(times, utc=True).dt.tz_convert(None)


def _binding(limits: pd.DataFrame) -> tuple[str, str, int]:
    """The limit that closed most of these waves: ``(limit, kind, waves)``; ties by :data:`LIMIT_KINDS`."""
    counts = limits.groupby(["binding_limit", "binding_kind"], sort=False).size().reset_index(name="n")
    counts["rank"] = counts["binding_kind"].map({k: i for i, k in enumerate(LIMIT_KINDS)})
    top = counts.sort_values(["n", "rank"], ascending=[False, True], kind="stable").iloc[0]
    return str(top["binding_limit"]), str(top["binding_kind"]), int(top["n"])


def _windows(waves: pd.DataFrame, periods: pd.PeriodIndex, freq: str, cadence_days: float) -> pd.Series:
    """Windows opening in each period: one every ``cadence_days`` from the first to the last wave's."""
    start = naive_utc(waves["start"])
    step = pd.Timedelta(days=cadence_days)
    count = int((start.max() - start.min()) / step + 1e-9) + 1
    opens = pd.DatetimeIndex(start.min() + step * np.arange(count))
    return pd.Series(opens.to_period(freq)).value_counts().reindex(periods, fill_value=0)


def programme_periods(waves: pd.DataFrame, timeline: pd.DataFrame, dual_running: pd.DataFrame,
                      params: WavesParams) -> tuple[pd.DataFrame, dict]:
    """The ``programme_periods`` table (see the module docstring) and its summary.

    The summary names the period length (``frequency``), the number of periods and the limit
    that closed most waves of the whole programme with its count. Empty table and ``{}``
    without waves. Pure: the inputs are not changed. O(waves + clusters + months).
    """
    if waves.empty:
        return pd.DataFrame({c: pd.Series(dtype=DTYPES.get(c, "float64")) for c in COLUMNS}), {}
    first, last = naive_utc(waves["start"]).min(), naive_utc(waves["end"]).max()
    freq, name = frequency(first, last)
    periods = pd.period_range(first, last, freq=freq)
    w = waves.assign(period=naive_utc(waves["start"]).dt.to_period(freq)).join(wave_limits(waves))
    load = w.groupby("period").agg(waves=("wave", "size"), vms=("vms", "sum"),
                                   storage_tib=("storage_tib", "sum"),
                                   transfer_hours=("transfer_hours", "sum")).reindex(periods)
    binding = {p: _binding(part) for p, part in w.groupby("period")}
    empty = timeline[(timeline["kind"] == "cluster empty") & timeline["end"].notna()]
    empty = empty.assign(period=naive_utc(empty["end"]).dt.to_period(freq)).sort_values(["end", "item"])
    emptied = empty.groupby("period")["item"].agg(list)
    cost = _period_cost(dual_running, freq).reindex(periods)
    table = pd.DataFrame({
        "period": [str(p) for p in periods],
        "start": periods.start_time.tz_localize("UTC"),
        "end": periods.end_time.tz_localize("UTC"),
        "waves": load["waves"].fillna(0).to_numpy(), "vms": load["vms"].fillna(0).to_numpy(),
        "storage_tib": load["storage_tib"].fillna(0.0).to_numpy(),
        "transfer_hours": load["transfer_hours"].fillna(0.0).to_numpy(),
        "window_hours": (_windows(waves, periods, freq, params.cadence_days) * params.parallel_waves
                         * params.window_hours).to_numpy(dtype=float),
        "binding_limit": [binding.get(p, (None,) * 3)[0] for p in periods],
        "binding_kind": [binding.get(p, (None,) * 3)[1] for p in periods],
        "binding_waves": [binding.get(p, (None,) * 3)[2] for p in periods],
        "clusters_emptied": [len(emptied.get(p, [])) for p in periods],
        "emptied_clusters": ["; ".join(emptied.get(p, [])) or None for p in periods],
        **{c: cost[c].to_numpy(dtype=float) for c in ("current_cost", "target_cost", "total_cost")},
    }, columns=COLUMNS).astype(DTYPES)
    overall = _binding(w)
    summary = {"frequency": name, "periods": len(table), "binding_limit": overall[0],
               "binding_kind": overall[1], "binding_waves": overall[2], "waves": len(waves)}
    return table, summary


def _period_cost(dual_running: pd.DataFrame, freq: str) -> pd.DataFrame:
    """The ``dual_running`` months summed per period (no rows when there is no cost)."""
    columns = ["current_cost", "target_cost", "total_cost"]
    if dual_running.empty:
        return pd.DataFrame(columns=columns, dtype=float)
    period = pd.PeriodIndex(dual_running["month"].astype(str), freq="M").asfreq(freq)
    return dual_running[columns].astype(float).groupby(period).sum()
