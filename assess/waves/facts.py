"""What the planner needs to know per VM: readiness, strategy, storage, and whether to schedule it.

And how much of its disk a VM copies inside the window (``transfer_gib``) and how many days of
warm pre-copy it needs before it (``precopy_days``), on the basis ``transfer_basis``:

- ``cold full copy``: the whole disk in the window, no pre-copy;
- ``warm measured change rate``: Forklift re-copies the changed blocks every
  ``precopy_interval_minutes`` (``controller_precopy_interval``), so the cutover copies what
  changed since the last pre-copy: the change rate x the interval, at most the disk. The rate is
  the sizing stage's ``disk_kbps_p95`` (read + write, KB/s with vCenter's KB of 1024 bytes, as
  the collectors store ``disk.usage``): an upper bound on the write rate, so this is an upper
  bound on the delta. 1,000 KB/s over 60 min: 1000 x 1024 x 3600 / 2^30 = 3.43 GiB;
- ``warm assumed delta fraction``: the rate is not measured, so ``warm_delta_fraction`` of the
  disk, as assumed;
- ``warm full copy (change rate >= copy rate)``: the measured bound reaches one VM's copy rate,
  so a pre-copy may never catch up with the writes; planned as a full copy in the window.

A warm VM's first full copy must end before its cutover: ``precopy_days`` = the longer of
``warm_precopy_days`` and the disk at one VM's copy rate (1 TiB at 2 Gbit/s: 1024 x 8.59 / 2 s
= 0.05 days, so the 2-day floor; 40 TiB: 2.04 days). 0 for VMs copied whole in the window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assess.model import Estate
from assess.model.derived import vm_storage
from assess.waves.params import WavesParams
from assess.waves.schedule import GIB_TO_GBIT, WaveCaps

READY_NOTE = "readiness not assessed: assumed ready, cold migration"
COLD = "cold full copy"
MEASURED = "warm measured change rate"
ASSUMED = "warm assumed delta fraction"
DIVERGES = "warm full copy (change rate >= copy rate)"
#: Bases whose VMs are pre-copied ahead of their window.
PRECOPIED = (MEASURED, ASSUMED)
KIB_PER_GIB = 2.0**20
DAY_S = 86400.0


def _readiness_columns(out: pd.DataFrame, readiness: pd.DataFrame | None) -> None:
    if readiness is None:
        out["verdict"], out["method"], out["effort"], out["note"] = "ready", "cold", 1, READY_NOTE
        out["remediation"], out["excluded_reason"], out["strategy"], out["strategy_reason"] = "", "", "", ""
        return
    r = readiness.drop_duplicates("vm_id").set_index("vm_id").reindex(out.index)
    blank = pd.Series("", index=r.index)
    out["verdict"] = r["verdict"].astype(object).where(r["verdict"].notna(), "unknown")
    out["method"] = r["method"].astype(object).where(r["method"].notna(), "cold")
    out["effort"] = pd.to_numeric(r["effort"], errors="coerce") if "effort" in r else np.nan
    out["note"] = np.where(r["verdict"].isna(), "no readiness row for this VM: treated as unknown", "")
    for column in ("remediation", "excluded_reason", "strategy", "strategy_reason"):
        out[column] = r.get(column, blank).fillna("").astype(str)


def _physical_rdm(estate: Estate, index: pd.Index) -> pd.Series:
    disks = estate["disks"]
    physical = disks["raw"].fillna(False).astype(bool) & (disks["rdm_mode"] == "physicalMode").fillna(False)
    raw = disks[physical.to_numpy(dtype=bool)]
    return pd.Series(index.isin(set(raw["vm_id"].astype(str))), index=index)


def vm_facts(estate: Estate, readiness: pd.DataFrame | None, sizing: pd.DataFrame | None,
             params: WavesParams) -> pd.DataFrame:
    """Per VM (index vm_id): name, verdict, method, strategy, storage, in-window GiB, ``status``.

    ``status`` is ``plan``, ``remediate`` (not ready, blocked, or a physical-mode RDM that no
    disk image carries) or ``excluded`` (readiness excluded it, or its strategy is ``retire``
    or ``retain``), with ``status_reason``. With ``params.schedule_unready`` every VM but the
    excluded-by-readiness ones is planned. Storage: sizing ``storage_gib``, else
    :func:`~assess.model.derived.vm_storage`. In-window GiB, pre-copy days and their basis:
    :func:`transfer_columns` (the change rate from sizing ``disk_kbps_p95`` where measured).
    """
    vms = estate["vms"].set_index("vm_id")
    out = pd.DataFrame({"name": vms["name"].astype(str)}, index=vms.index)
    _readiness_columns(out, readiness)
    storage = vm_storage(estate)["disk_gib"].reindex(out.index)
    if sizing is not None and "storage_gib" in sizing:
        sized = sizing.drop_duplicates("vm_id").set_index("vm_id")["storage_gib"].reindex(out.index)
        storage = sized.astype(float).fillna(storage)
    out["storage_gib"] = storage.astype(float).fillna(0.0).to_numpy()
    rate = (sizing.drop_duplicates("vm_id").set_index("vm_id")["disk_kbps_p95"].reindex(out.index)
            if sizing is not None and "disk_kbps_p95" in sizing else pd.Series(np.nan, index=out.index))
    # rounded to a millionth of a KB/s: the P95 in pandas and in DuckDB differ in the last bits, and a
    # rate such as 1472.5 must print and plan the same from either
    rate = pd.to_numeric(rate, errors="coerce").astype(float)
    out["disk_kbps_p95"] = rate.clip(lower=0).round(6).to_numpy()
    transfer_columns(out, params, WaveCaps.from_params(params).per_vm_gbps)
    rdm = _physical_rdm(estate, out.index).to_numpy()
    blocked = ((out["verdict"] == "not_ready") | (out["method"] == "blocked")).to_numpy() | rdm
    kept = out["strategy"].isin(["retire", "retain"]).to_numpy()
    status = np.where(blocked, "remediate", np.where(kept, "excluded", "plan"))
    if params.schedule_unready:
        status = np.full(len(out), "plan", dtype=object)
    out["status"] = np.where(out["verdict"] == "excluded", "excluded", status)
    out["status_reason"] = np.select(
        [out["verdict"] == "excluded", out["status"] == "excluded", rdm & (out["status"] == "remediate")],
        ["excluded by readiness: " + out["excluded_reason"].replace("", "readiness verdict excluded"),
         "strategy " + out["strategy"] + ": not migrated ("
         + out["strategy_reason"].replace("", "no reason given") + "); schedule_unready plans it anyway",
         "physical-mode RDM: no disk image carries it; remediate first (convert to a virtual disk or "
         "re-present the LUN to the target)"], "")
    return out


def copy_days(gib, gbps: float):
    """Days to copy ``gib`` GiB at ``gbps`` Gbit/s (scalar or array): 1 TiB at 2 Gbit/s is 0.0509."""
    return gib * GIB_TO_GBIT / gbps / DAY_S


def transfer_columns(out: pd.DataFrame, params: WavesParams, per_vm_gbps: float) -> None:
    """Add ``transfer_basis``, ``transfer_gib``, ``precopy_days`` and ``transfer_note`` to ``out``.

    ``out`` holds ``method``, ``storage_gib`` and ``disk_kbps_p95`` (NaN: not measured);
    ``per_vm_gbps`` is one VM's copy rate (see the module docstring for the rules). Vectorised.
    """
    storage, kbps = out["storage_gib"].to_numpy(float), out["disk_kbps_p95"].to_numpy(float)
    warm, measured = (out["method"] == "warm").to_numpy(), ~np.isnan(kbps)
    rate_gbps = kbps * 1024 * 8 / 1e9
    diverges = warm & measured & (rate_gbps >= per_vm_gbps)
    out["transfer_basis"] = np.select([~warm, diverges, measured], [COLD, DIVERGES, MEASURED], ASSUMED)
    delta = np.where(measured, np.minimum(storage, kbps * params.precopy_interval_minutes * 60 / KIB_PER_GIB),
                     storage * params.warm_delta_fraction)
    precopied = warm & ~diverges
    out["transfer_gib"] = np.where(precopied, delta, storage)
    lead = np.maximum(params.warm_precopy_days, copy_days(storage, per_vm_gbps))
    out["precopy_days"] = np.where(precopied, lead, 0.0)
    rows = out[["transfer_basis", "storage_gib", "transfer_gib", "precopy_days", "disk_kbps_p95"]].itertuples(
        index=False, name=None)
    out["transfer_note"] = [_note(*row, rate_gbps=g, params=params, per_vm_gbps=per_vm_gbps)
                            for row, g in zip(rows, rate_gbps)]


def _note(basis: str, storage: float, transfer: float, days: float, kbps: float, *, rate_gbps: float,
          params: WavesParams, per_vm_gbps: float) -> str:
    """How one VM's disk is copied: the text its ``wave_plan`` reason carries."""
    if basis == COLD:
        return f"cold: {storage:.0f} GiB copied in the window"
    bound = f"disk throughput P95 {kbps:,.0f} KB/s (read+write, an upper bound on the change rate)"
    if basis == DIVERGES:
        return (f"warm, but may not converge: {bound} = {rate_gbps:.2f} Gbit/s reaches one VM's copy rate "
                f"{per_vm_gbps:g} Gbit/s, so a pre-copy may never catch up; planned as a full copy of "
                f"{storage:.0f} GiB in the window (measure its write rate alone, or migrate it cold)")
    first = copy_days(storage, per_vm_gbps)
    lead = f"first full copy {first:.2f} day(s) at {per_vm_gbps:g} Gbit/s"
    lead = lead if first > params.warm_precopy_days else f"warm_precopy_days floor; {lead}"
    head = (f"warm: {storage:.0f} GiB pre-copied over {days:.2f} day(s) before the window ({lead}); "
            "in the window")
    if basis == MEASURED:
        cap = " (capped at the disk)" if 0 < storage <= transfer else ""
        return (f"{head} {transfer:.2f} GiB = {bound} x the {params.precopy_interval_minutes:g}-min pre-copy "
                f"interval{cap}")
    return (f"{head} {transfer:.0f} GiB = warm_delta_fraction {params.warm_delta_fraction:g} of the disk "
            "(change rate not measured: no disk throughput for this VM)")
