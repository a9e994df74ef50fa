"""What the planner needs to know per VM: readiness, strategy, storage, and whether to schedule it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assess.model import Estate
from assess.waves.params import WavesParams

READY_NOTE = "readiness not assessed: assumed ready, cold migration"


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
    excluded-by-readiness ones is planned. Storage: sizing ``storage_gib``, else the disks'
    capacity, else the provisioned storage; warm VMs copy ``warm_delta_fraction`` in the window.
    """
    vms = estate["vms"].set_index("vm_id")
    out = pd.DataFrame({"name": vms["name"].astype(str)}, index=vms.index)
    _readiness_columns(out, readiness)
    disks = estate["disks"].groupby("vm_id")["capacity_mib"].sum(min_count=1) / 1024.0
    storage = disks.reindex(out.index).fillna(vms["provisioned_mib"] / 1024.0)
    if sizing is not None and "storage_gib" in sizing:
        sized = sizing.drop_duplicates("vm_id").set_index("vm_id")["storage_gib"].reindex(out.index)
        storage = sized.astype(float).fillna(storage)
    out["storage_gib"] = storage.astype(float).fillna(0.0).to_numpy()
    warm = (out["method"] == "warm").to_numpy()
    out["transfer_gib"] = np.where(warm, out["storage_gib"] * params.warm_delta_fraction, out["storage_gib"])
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
