"""Re-planning: keep what already ran, re-plan the rest, and see which waves new flows touch."""

from __future__ import annotations

import pandas as pd

from assess.model import Estate
from assess.model.results import StageResult
from assess.waves.links import port_label
from assess.waves.params import WavesParams
from assess.waves.stage import plan_waves


def pins_from_plan(wave_plan: pd.DataFrame, through_wave: int) -> dict[str, int]:
    """Pins (vm_id -> wave) that freeze every VM of waves ``<= through_wave`` of an earlier plan."""
    done = wave_plan[wave_plan["wave"].notna() & (wave_plan["wave"] <= through_wave)]
    return {str(v): int(w) for v, w in zip(done["vm_id"], done["wave"])}


def replan_waves(estate: Estate, previous: pd.DataFrame, through_wave: int,
                 readiness: pd.DataFrame | None = None, sizing: pd.DataFrame | None = None,
                 params: WavesParams | None = None) -> StageResult:
    """Plan again after waves ``<= through_wave`` ran: those VMs stay put, the rest is re-planned.

    User pins in ``params`` win over the frozen ones; no new group enters a frozen wave.
    """
    params = params or WavesParams()
    pins = {**pins_from_plan(previous, through_wave), **params.pins}
    start = max(params.start_wave, through_wave + 1)
    updated = params.model_copy(update={"pins": pins, "start_wave": start})
    return plan_waves(estate, readiness, sizing, updated)


def affected_waves(
    wave_plan: pd.DataFrame, flows: pd.DataFrame, params: WavesParams | None = None
) -> pd.DataFrame:
    """New flows whose ends sit in different waves (or one end is not in a wave), with the impact.

    Database-port flows are hard links when ``database_links="hard"``: they split a move
    group and need a re-plan; other flows add cross-wave traffic. Flows touching a shared
    service or an endpoint outside the plan are left out. O(rows).
    """
    params = params or WavesParams()
    plan = wave_plan.set_index("vm_id")
    cols = ["src", "dst", "port", "src_wave", "dst_wave", "link", "waves", "impact"]
    f = flows.assign(src_wave=flows["src"].map(plan["wave"]), dst_wave=flows["dst"].map(plan["wave"]),
                     src_bucket=flows["src"].map(plan["bucket"]), dst_bucket=flows["dst"].map(plan["bucket"]))
    known = f["src_bucket"].notna() & f["dst_bucket"].notna()
    shared = (f["src_bucket"] == "shared-services") | (f["dst_bucket"] == "shared-services")
    f = f[known & ~shared.fillna(False)]
    f = f[(f["src_wave"] != f["dst_wave"]).fillna(True) & (f["src_wave"].notna() | f["dst_wave"].notna())]
    if f.empty:
        return pd.DataFrame(columns=cols)
    hard = f["port"].isin(list(params.db_ports)).fillna(False) & (params.database_links == "hard")
    rows = []
    for r, is_hard in zip(f.itertuples(index=False), hard):
        waves = sorted({int(w) for w in (r.src_wave, r.dst_wave) if pd.notna(w)})
        label = port_label(f"{r.port}/{r.protocol if isinstance(r.protocol, str) else 'tcp'}", params)
        if is_hard:
            impact = (f"hard link ({label}) split across waves {waves}: re-plan so both ends move "
                      "together")
        elif len(waves) == 2:
            impact = f"new cross-wave traffic ({label}) over {waves[1] - waves[0]} wave(s)"
        else:
            impact = f"new traffic ({label}) to a VM outside the waves (remediate-first or excluded)"
        rows.append((r.src, r.dst, r.port, r.src_wave, r.dst_wave, "hard" if is_hard else "soft",
                     ",".join(map(str, waves)), impact))
    return pd.DataFrame(rows, columns=cols).astype({"src_wave": "Int64", "dst_wave": "Int64"})
