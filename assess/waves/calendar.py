"""Wave calendar: a start, a window length and a cadence give each wave its dates."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd


def wave_calendar(
    waves: pd.DataFrame, start: datetime, cadence_days: float, window_hours: float
) -> pd.DataFrame:
    """``waves`` with ``start``, ``end`` (window) and ``transfer_end`` (estimated) columns.

    Wave ``w`` opens at ``start + (w - first wave) x cadence_days`` (pins to a far wave leave
    gaps on purpose); the window lasts ``window_hours``; the transfer ends ``transfer_hours``
    after the window opens (later than ``end`` when a wave is over its cap). Times are UTC.
    """
    out = waves.copy()
    if out.empty:
        for col in ("start", "end", "transfer_end"):
            out[col] = pd.Series(dtype="datetime64[ns, UTC]")
        return out
    origin = pd.Timestamp(start)
    origin = origin.tz_localize("UTC") if origin.tzinfo is None else origin.tz_convert("UTC")
    offset = (out["wave"].astype("int64") - int(out["wave"].min())) * cadence_days
    out["start"] = (origin + pd.to_timedelta(offset, unit="D")).astype("datetime64[ns, UTC]")
    out["end"] = out["start"] + timedelta(hours=window_hours)
    out["transfer_end"] = out["start"] + pd.to_timedelta(out["transfer_hours"].astype(float), unit="h")
    return out
