"""Tie rows of RVTools' per-VM sheets to the VMs of vInfo, by identity before name.

Hand-edited and anonymised exports rename VMs on one sheet and not another, so a row's VM is
found by, in order: (vCenter UUID, VM ID), then VM UUID, then VM ID alone within the export,
and only then by VM name. When a row's name disagrees with the VM its identity points to, the
identity wins and one warning counts such rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from assess.collect.rvtools_sheets import ExportContext, column, vm_keys


def _unique_map(keys: pd.Series, values: pd.Series) -> pd.Series:
    """Key -> value for keys that occur once (ambiguous keys cannot identify a VM)."""
    frame = pd.DataFrame({"k": keys.astype(object).to_numpy(), "v": values.astype(object).to_numpy()})
    frame = frame[frame["k"].notna()].drop_duplicates("k", keep=False)
    return pd.Series(frame["v"].to_numpy(), index=pd.Index(frame["k"], dtype=object))


@dataclass(frozen=True)
class VmIdentity:
    """The VMs of one export's vInfo and the ways a detail row can point at one of them."""

    known: frozenset
    by_uuid: pd.Series
    by_moref: pd.Series
    by_name: pd.Series
    names: pd.Series

    @classmethod
    def of(cls, vms: pd.DataFrame) -> VmIdentity:
        """Index the ``vms`` rows of one export (columns ``vm_id``, ``name``, ``moref``, ...)."""
        ids = vms["vm_id"]
        first = vms.drop_duplicates("vm_id")
        return cls(
            known=frozenset(ids.astype(object)),
            by_uuid=_unique_map(column(vms, "instance_uuid").str.lower(), ids),
            by_moref=_unique_map(column(vms, "moref"), ids),
            by_name=_unique_map(column(vms, "name"), ids),
            names=pd.Series(first["name"].astype(object).to_numpy(),
                            index=first["vm_id"].astype(object).to_numpy()),
        )

    def resolve(self, ctx: ExportContext, sheet: str, fields: pd.DataFrame) -> pd.Series:
        """vm_id of each row of ``sheet``; rows matching no VM keep their own key, with a warning."""
        own, _ = vm_keys(fields, ctx.export.path.name)
        exact = own.astype(object).where(own.astype(object).isin(self.known)
                                         & column(fields, "moref").notna())
        by_uuid = column(fields, "instance_uuid").str.lower().astype(object).map(self.by_uuid)
        by_moref = column(fields, "moref").astype(object).map(self.by_moref)
        by_id = exact.fillna(by_uuid).fillna(by_moref)
        by_name = column(fields, "name").astype(object).map(self.by_name)
        resolved = by_id.fillna(by_name)
        self._warn_renamed(ctx, sheet, fields, by_id)
        unmatched = resolved.isna()
        if unmatched.any():
            first = unmatched.idxmax()
            label = fields.at[first, "name"] if "name" in fields else None
            label = label if label is not None and not pd.isna(label) else column(fields, "moref").at[first]
            ctx.warn("rvtools.row.unknown_vm", sheet,
                     f"{int(unmatched.sum())} row(s) name a VM not in vInfo (first at row {first}: "
                     f"{label!r}); kept", row=first, column="VM")
        return resolved.fillna(own.astype(object)).astype("string")

    def _warn_renamed(self, ctx: ExportContext, sheet: str, fields: pd.DataFrame,
                      by_id: pd.Series) -> None:
        if "name" not in fields:
            return
        owner = by_id.map(self.names)
        differ = owner.notna() & fields["name"].notna() & (fields["name"].astype(object) != owner)
        if not differ.any():
            return
        first = differ.idxmax()
        ctx.warn("rvtools.row.name_mismatch", sheet,
                 f"{int(differ.sum())} row(s) carry a VM name that differs from the VM their VM "
                 f"ID/UUID names (first at row {first}: {fields.at[first, 'name']!r} is "
                 f"{owner.at[first]!r} in vInfo); the VM ID wins", row=first, column="VM")
