"""Tie rows of RVTools' per-VM sheets to the VMs of vInfo, by identity before name.

Hand-edited and anonymised exports rename VMs on one sheet and not another, so a row's VM is
found by, in order: (vCenter UUID, VM ID), then VM UUID, then VM ID alone within the export,
and only then by VM name. When a row's name disagrees with the VM its identity points to, the
identity wins and one warning counts such rows.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from assess.collect.rvtools_sheets import ExportContext, column, vm_keys


def _objects(series: pd.Series) -> np.ndarray:
    """Values as an object array with None for nulls (one conversion, then plain hashing)."""
    return series.astype(object).where(series.notna(), None).to_numpy(dtype=object)


def _unique_map(keys: pd.Series, values: pd.Series) -> pd.Series:
    """Key -> value for keys that occur once (ambiguous keys cannot identify a VM)."""
    frame = pd.DataFrame({"k": _objects(keys), "v": _objects(values)})
    frame = frame[frame["k"].notna()].drop_duplicates("k", keep=False)
    return pd.Series(frame["v"].to_numpy(), index=pd.Index(frame["k"], dtype=object))


def _lookup(mapping: pd.Series, keys: np.ndarray) -> np.ndarray:
    """``mapping[key]`` per key, None where the key is absent."""
    position = mapping.index.get_indexer(keys)
    found = np.asarray(mapping.to_numpy(dtype=object))
    return np.where(position >= 0, found[np.maximum(position, 0)] if len(found) else None, None)


class VmIdentity:
    """The VMs of one export's vInfo and the ways a detail row can point at one of them.

    The lookups by VM UUID, VM ID and name are built on first use: most exports tie every row
    by (vCenter UUID, VM ID) and never need them.
    """

    def __init__(self, vms: pd.DataFrame) -> None:
        self._vms = vms
        self.known = pd.Index(vms["vm_id"].astype(object).unique(), dtype=object)

    @classmethod
    def of(cls, vms: pd.DataFrame) -> VmIdentity:
        """Index the ``vms`` rows of one export (columns ``vm_id``, ``name``, ``moref``, ...)."""
        return cls(vms)

    @cached_property
    def by_uuid(self) -> pd.Series:
        """VM UUID (lower case) -> vm_id."""
        return _unique_map(column(self._vms, "instance_uuid").str.lower(), self._vms["vm_id"])

    @cached_property
    def by_moref(self) -> pd.Series:
        """VM ID (moref) -> vm_id, for VM IDs that occur once in the export."""
        return _unique_map(column(self._vms, "moref"), self._vms["vm_id"])

    @cached_property
    def by_name(self) -> pd.Series:
        """VM name -> vm_id, for names that occur once in the export."""
        return _unique_map(column(self._vms, "name"), self._vms["vm_id"])

    @cached_property
    def names(self) -> pd.Series:
        """vm_id -> VM name."""
        first = self._vms.drop_duplicates("vm_id")
        return pd.Series(first["name"].astype(object).to_numpy(),
                         index=pd.Index(first["vm_id"].astype(object).to_numpy(), dtype=object))

    def resolve(self, ctx: ExportContext, sheet: str, fields: pd.DataFrame) -> pd.Series:
        """vm_id of each row of ``sheet``; rows matching no VM keep their own key, with a warning."""
        own = _objects(vm_keys(fields, ctx.export.path.name)[0])
        moref = _objects(column(fields, "moref"))
        by_id = np.where(pd.Index(own, dtype=object).isin(self.known) & (moref != None), own, None)  # noqa: E711
        todo = by_id == None  # noqa: E711
        if todo.any():
            uuid = _objects(column(fields, "instance_uuid").str.lower())
            by_id = np.where(todo, _lookup(self.by_uuid, uuid), by_id)
            by_id = np.where(by_id == None, _lookup(self.by_moref, moref), by_id)  # noqa: E711
        names = _objects(column(fields, "name"))
        self._warn_renamed(ctx, sheet, fields, names, by_id)
        resolved = np.where(by_id == None, _lookup(self.by_name, names), by_id)  # noqa: E711
        unmatched = pd.Series(resolved == None, index=fields.index)  # noqa: E711
        if unmatched.any():
            first = unmatched.idxmax()
            row = unmatched.index.get_loc(first)
            label = names[row] if names[row] is not None else moref[row]
            ctx.warn("rvtools.row.unknown_vm", sheet,
                     f"{int(unmatched.sum())} row(s) name a VM not in vInfo (first at row {first}: "
                     f"{label!r}); kept", row=first, column="VM")
        return pd.Series(np.where(unmatched, own, resolved), index=fields.index, dtype="string")

    def _warn_renamed(self, ctx: ExportContext, sheet: str, fields: pd.DataFrame, names: np.ndarray,
                      by_id: np.ndarray) -> None:
        owner = _lookup(self.names, by_id)
        differ = (owner != None) & (names != None) & (names != owner)  # noqa: E711
        if not differ.any():
            return
        i = int(np.argmax(differ))
        first = fields.index[i]
        ctx.warn("rvtools.row.name_mismatch", sheet,
                 f"{int(differ.sum())} row(s) carry a VM name that differs from the VM their VM "
                 f"ID/UUID names (first at row {first}: {names[i]!r} is {owner[i]!r} in vInfo); "
                 "the VM ID wins", row=first, column="VM")
