"""PVC sizes CDI will request per disk, and what they add up to per storage class.

CDI (``GetRequiredSpace`` in containerized-data-importer ``pkg/util/util.go``) requests, for a
Filesystem-mode volume, ``ceil(roundUp(size, 1 MiB) * (1 + filesystemOverhead))`` bytes; the
global overhead is 0.06 since CDI v1.64 (0.055 before) and can be set per storage class. Block
volumes get exactly the disk size. Thin source disks are copied sparse, so they consume their
used share on the target; thick disks consume the whole PVC. The raw capacity multiplies that by
the replication factor of the target storage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assess.sizing.params import KubeVirtMapping

MIB = 2**20
GIB = 2**30
ALIGN = MIB


def pvc_request_bytes(size_bytes, filesystem_overhead, block=False) -> np.ndarray:
    """Bytes a DataVolume's PVC requests for a disk of ``size_bytes`` (vectorised)."""
    size = np.asarray(size_bytes, dtype=np.float64)
    aligned = np.ceil(size / ALIGN) * ALIGN
    with_overhead = np.ceil(aligned * (1 + np.asarray(filesystem_overhead, dtype=np.float64)))
    return np.where(np.asarray(block, dtype=bool), size, with_overhead)


def disk_pvcs(disks: pd.DataFrame, vms: pd.DataFrame, params: KubeVirtMapping) -> pd.DataFrame:
    """One PVC per virtual disk: storage class, volume mode, requested and consumed size.

    Raw device mappings are sized like disks (Forklift copies them) and flagged. The consumed
    size of a thin disk is its capacity times its VM's committed/provisioned share.

    Returns:
        ``vm_id, disk_key, datastore, storage_class, volume_mode, capacity_mib, pvc_bytes,
        pvc_gib, thin, consumed_gib, raw_gib, note``.
    """
    frame = disks[["vm_id", "disk_key", "datastore", "capacity_mib", "thin", "raw"]].copy()
    datastore = frame["datastore"].astype("string").fillna("")
    frame["storage_class"] = datastore.map(
        lambda d: params.storage_class_map.get(d, params.default_storage_class)
    ).astype("string")
    frame["volume_mode"] = frame["storage_class"].map(
        lambda c: params.volume_mode.get(c, "Filesystem")
    ).astype("string")
    overhead = frame["storage_class"].map(
        lambda c: params.filesystem_overhead_per_class.get(c, params.filesystem_overhead)
    ).to_numpy(dtype=float)
    replication = frame["storage_class"].map(
        lambda c: params.replication_per_class.get(c, params.replication_factor)
    ).to_numpy(dtype=float)
    capacity = frame["capacity_mib"].astype("float64").fillna(0.0).to_numpy() * MIB
    frame["pvc_bytes"] = pvc_request_bytes(capacity, overhead, frame["volume_mode"].eq("Block").to_numpy())
    frame["pvc_gib"] = frame["pvc_bytes"] / GIB
    share = (vms.set_index("vm_id")["in_use_mib"] / vms.set_index("vm_id")["provisioned_mib"]).clip(0, 1)
    used_share = frame["vm_id"].map(share).astype("float64").fillna(1.0).to_numpy()
    thin = frame["thin"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    frame["consumed_gib"] = np.where(thin, frame["pvc_gib"] * used_share, frame["pvc_gib"])
    frame["raw_gib"] = frame["consumed_gib"] * replication
    note = np.where(frame["capacity_mib"].isna(), "capacity unknown: sized 0", "")
    note = np.where(frame["raw"].astype("boolean").fillna(False), "raw device mapping copied as a disk", note)
    frame["note"] = pd.array(note, dtype="string")
    return frame.drop(columns=["raw"]).reset_index(drop=True)


def storage_totals(pvcs: pd.DataFrame, params: KubeVirtMapping) -> pd.DataFrame:
    """Totals per storage class: PVCs, requested, consumed and raw (replicated) GiB."""
    totals = pvcs.groupby("storage_class", dropna=False).agg(
        volume_mode=("volume_mode", "first"), pvcs=("disk_key", "size"), vms=("vm_id", "nunique"),
        requested_gib=("pvc_gib", "sum"), consumed_gib=("consumed_gib", "sum"), raw_gib=("raw_gib", "sum"),
    ).reset_index()
    totals["replication_factor"] = totals["storage_class"].map(
        lambda c: params.replication_per_class.get(c, params.replication_factor)
    ).astype(float)
    totals["filesystem_overhead"] = totals["storage_class"].map(
        lambda c: params.filesystem_overhead_per_class.get(c, params.filesystem_overhead)
    ).astype(float)
    return totals
