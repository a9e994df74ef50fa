"""What one migration window can carry: copy rate, cutovers and validation, and which limit binds.

A wave holds what its window can move and validate, not a fixed number of VMs:

- copy rate (Gbit/s per wave) = the smallest of the network (``bandwidth_gbps x efficiency``),
  the target storage's write rate (``storage_write_gbps``) and Forklift's concurrency
  (``max_concurrent`` VMs per provider x ``per_vm_gbps``), each shared by the
  ``parallel_waves`` that run in one window;
- VMs per wave = the smallest of the cutovers that fit the window (``(window - cutover per
  wave) / cutover per VM`` rounds, ``max_concurrent`` VMs at a time per provider), the people
  limit ``validate_vms_per_window`` and the optional ``max_vms_per_wave``.

When no people limit is set, :func:`validation_load` says how many VMs the busiest window asks the
teams to validate and how many migration-factory teams that takes.

Example: 10 TiB cold over 10 Gbit/s at 70% efficiency is 10,240 GiB x 8.59 Gbit/GiB / 7 Gbit/s =
12,566 s = 3.5 h, well inside a 48 h window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from assess.model import AssessError
from assess.waves.params import WavesParams


@dataclass(frozen=True)
class Throughput:
    """Per-wave capacity of a window and the limit that binds each figure."""

    copy_gbps: float
    copy_limit: str
    per_vm_gbps: float
    vms_per_wave: int
    vms_limit: str
    in_flight: int

    @classmethod
    def from_params(cls, params: WavesParams) -> Throughput:
        """The model for ``params``; ``parallel_waves`` above ``providers`` is refused."""
        k = params.parallel_waves
        if k > params.providers:
            raise AssessError(f"waves parameter parallel_waves={k} should be <= providers="
                              f"{params.providers}: each wave of a window runs on its own provider")
        in_flight = params.max_concurrent * (params.providers // k)
        copy = {f"network ({params.bandwidth_gbps:g} Gbit/s x {params.efficiency:g})":
                params.bandwidth_gbps * params.efficiency / k,
                f"Forklift concurrency ({in_flight} VMs x {params.per_vm_gbps:g} Gbit/s)":
                in_flight * params.per_vm_gbps}
        if params.storage_write_gbps is not None:
            storage = params.storage_write_gbps
            copy[f"target storage write ({storage:g} Gbit/s)"] = storage / k
        copy_limit, copy_gbps = min(copy.items(), key=lambda t: t[1])
        minutes = params.window_hours * 60 - params.cutover_minutes_per_wave
        per_vm = params.cutover_minutes_per_vm
        rounds = math.inf if per_vm == 0 else max(0, minutes) // per_vm
        vms = {f"cutover ({params.cutover_minutes_per_vm:g} min per VM, {in_flight} at a time)":
               max(1.0, rounds * in_flight)}
        if params.validate_vms_per_window is not None:
            people = params.validate_vms_per_window
            vms[f"validation ({people} VMs per window)"] = people
        if params.max_vms_per_wave is not None:
            vms[f"max_vms_per_wave {params.max_vms_per_wave}"] = params.max_vms_per_wave
        vms_limit, vms_per_wave = min(vms.items(), key=lambda t: t[1])
        cap = int(min(vms_per_wave, 10**9))
        return cls(copy_gbps, copy_limit, min(params.per_vm_gbps, copy_gbps), cap, vms_limit, in_flight)


#: Servers one migration-factory team moves and validates a week at full velocity (AWS Prescriptive
#: Guidance, "Large migrations", stage 2: start at about 5 a week, grow to 50-100).
TEAM_VMS_PER_WEEK = (50, 100)


def validation_load(waves: pd.DataFrame, params: WavesParams) -> dict | None:
    """The VMs the busiest window asks to validate, and the teams that takes at the cited pace.

    Windows are the waves' ``start`` times (parallel waves share one). The team count is a range
    from :data:`TEAM_VMS_PER_WEEK` scaled to the window cadence. None without waves.
    """
    if waves.empty:
        return None
    per_window = waves.groupby("start")["vms"].sum()
    peak = int(per_window.max())
    weeks = params.cadence_days / 7
    low, high = (math.ceil(peak / (pace * weeks)) for pace in reversed(TEAM_VMS_PER_WEEK))
    return {"peak_window_vms": peak, "peak_window_start": per_window.idxmax(),
            "teams_low": low, "teams_high": high,
            "limit": params.validate_vms_per_window}
