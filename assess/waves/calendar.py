"""Wave calendar: a start, a window length and a cadence give each wave its dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from assess.waves.params import WavesParams


def first_window(params: WavesParams, now: datetime | None = None) -> datetime:
    """Start of the first window: ``params.start``, else the next default window after ``now``.

    The default window opens on ``window_weekday`` at ``window_time`` (UTC), strictly after
    ``now`` (default: the run's clock), so a plan never opens in the past.
    """
    if params.start is not None:
        return params.start
    now = now or datetime.now(UTC)
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    hour, minute = (int(x) for x in params.window_time.split(":"))
    day = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    day += timedelta(days=(params.window_weekday - day.weekday()) % 7)
    return day if day > now else day + timedelta(days=7)


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
