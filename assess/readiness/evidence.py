"""Which facts each source could not supply, so that a rule says "unknown" instead of "ready".

A *data key* names a fact: a canonical table (``disks``), a device kind (``devices.vtpm``)
or a VM column (``vms.cpu_hot_add``). A source lacks a data key when

- its provenance entry lists it under ``lacks`` (data keys), or lists the RVTools sheet that
  carries it under ``missing_sheets`` / ``absent_sheets`` (see :data:`SHEET_DATA`), or lists
  the column under ``absent_columns`` (``{table: [column, ...]}``), or
- it is of a kind whose format cannot hold the fact at all (:data:`KIND_BLIND_SPOTS`: an
  RVTools export has no sheet for PCI passthrough, vGPU or vTPM devices).

A VM lacks a data key when the estate holds no row (no non-null value) of that fact for it and
the source the VM came from (``vms.source``; any source when the VM has none) lacks the key or
its whole table. A PCI passthrough device or vGPU is proven absent, whatever the source, when
the VM's memory reservation is below its memory (vSphere refuses to power on such a VM).

:func:`settled_by` names the source that would supply a data key.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from assess.model import Estate

#: RVTools sheet -> data keys it carries (an absent sheet means these facts are unknown).
SHEET_DATA: dict[str, tuple[str, ...]] = {
    "vDisk": ("disks",),
    "vPartition": ("partitions",),
    "vNetwork": ("nics",),
    "vSnapshot": ("snapshots",),
    "vUSB": ("devices.usb_controller", "devices.usb_device"),
    "vCD": ("devices.cdrom",),
    "vCPU": ("vms.cpu_hot_add", "vms.cores_per_socket"),
    "vMemory": ("vms.memory_hot_add", "vms.memory_reservation_mib"),
    "vTools": ("vms.tools_status",),
    "vCluster": ("clusters",),
}

#: Facts a kind of source cannot hold whatever it contains.
KIND_BLIND_SPOTS: dict[str, frozenset[str]] = {
    "rvtools": frozenset({"devices.pci_passthrough", "devices.vgpu", "devices.vtpm"}),
}


def source_gaps(estate: Estate) -> dict[str, set[str]]:
    """Data keys each source lacks, by provenance id (sources lacking nothing are left out)."""
    gaps: dict[str, set[str]] = {}
    lower_sheets = {name.lower(): keys for name, keys in SHEET_DATA.items()}
    for entry in estate.provenance:
        keys = set(entry.get("lacks") or ())
        for sheet in list(entry.get("missing_sheets") or ()) + list(entry.get("absent_sheets") or ()):
            keys.update(lower_sheets.get(str(sheet).lower(), ()))
        for table, columns in (entry.get("absent_columns") or {}).items():
            keys.update(f"{table}.{column}" for column in columns)
        keys |= KIND_BLIND_SPOTS.get(str(entry.get("kind", "")), frozenset())
        if entry.get("kind") == "rvtools":
            keys |= _rvtools_blind()
        if keys:
            gaps[str(entry.get("id", ""))] = keys
    return gaps


@cache
def _rvtools_blind() -> frozenset[str]:
    """``table.column`` keys of per-VM tables that no RVTools sheet maps (e.g. vms.cpu_affinity)."""
    from assess.collect.rvtools_columns import SHEETS
    from assess.model.schema import TABLES

    mapped = {(table, column) for table, spec in SHEETS.values() for column in spec}
    mapped |= {("disks", "datastore"), ("devices", "kind")}  # derived by the import
    tables = {table for table, _ in SHEETS.values() if table}
    return frozenset(f"{t}.{c}" for t in tables if "vm_id" in TABLES[t].names
                     for c in TABLES[t].names if (t, c) not in mapped and c not in ("vm_id", "source"))


def lacking(estate: Estate, key: str, gaps: dict[str, set[str]] | None = None) -> pd.Series:
    """Boolean per VM (index ``vm_id``): True where the estate cannot know fact ``key`` for the VM.

    A VM that has at least one row of the fact (e.g. a vTPM row in ``devices``) never lacks it.
    """
    gaps = source_gaps(estate) if gaps is None else gaps
    vms = estate["vms"]
    table = key.partition(".")[0]
    lacking_sources = {sid for sid, keys in gaps.items() if key in keys or table in keys}
    index = pd.Index(vms["vm_id"], name="vm_id")
    if not lacking_sources:
        return pd.Series(False, index=index)
    source = vms["source"]
    by_source = source.isin(lacking_sources).to_numpy()
    if source.isna().any():
        by_source = by_source | source.isna().to_numpy()
    result = pd.Series(by_source, index=index)
    return result & ~result.index.astype(object).isin(_vms_with(estate, key))


def _vms_with(estate: Estate, key: str) -> set:
    table, _, detail = key.partition(".")
    frame = estate[table]
    if "vm_id" not in frame:
        return set()
    if table == "devices" and detail:
        proven = set(_passthrough_impossible(estate)) if detail in PROVABLY_ABSENT else set()
        return set(frame.loc[frame["kind"] == detail, "vm_id"]) | proven
    if detail and detail in frame:
        frame = frame[frame[detail].notna()]
    return set(frame["vm_id"])


#: Device kinds a VM cannot have when its memory reservation is below its memory.
PROVABLY_ABSENT = frozenset({"pci_passthrough", "vgpu"})


def _passthrough_impossible(estate: Estate) -> pd.Series:
    vms = estate["vms"]
    return vms.loc[(vms["memory_reservation_mib"] < vms["memory_mib"]).fillna(False).astype(bool),
                   "vm_id"]


#: Where the facts of a data key come from when an RVTools export lacks them.
_VCENTER_ONLY = {"devices.pci_passthrough", "devices.vgpu", "devices.vtpm", "devices.sriov_nic",
                 "vms.cpu_affinity", "vms.numa_affinity", "vms.guest_id", "vms.guest_family"}


#: What supplies a table's rows for one VM when the source has the table but not for that VM.
_PER_VM_ROWS = {"partitions": "VMware Tools running in the guest (vPartition rows)",
                "disks": "vDisk rows for the VM"}


def settled_by(key: str, per_vm: bool = False) -> str:
    """The source that would supply data key ``key`` ("vCenter collection", "vTools sheet", ...).

    With ``per_vm`` the source has the fact but not for the VM in question: what would report it
    for that VM (VMware Tools running, a value in the column).
    """
    from assess.collect.rvtools_columns import SHEETS

    table = key.partition(".")[0]
    if per_vm and table in _PER_VM_ROWS:
        return _PER_VM_ROWS[table]
    if per_vm:
        return "a value for the VM in " + settled_by(key).removesuffix(" sheet")
    if key in _VCENTER_ONLY:
        return "vCenter collection"
    table, _, column = key.partition(".")
    for sheet, keys in SHEET_DATA.items():
        if key in keys or table in keys:
            return f"{sheet} sheet"
    for sheet, (sheet_table, spec) in SHEETS.items():
        if sheet_table == table and column in spec:
            return f"{sheet} '{spec[column][0]}' column"
    return "vCenter collection"
