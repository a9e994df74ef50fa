"""RVTools infrastructure sheets: hosts, clusters, datastores, networks, and the export's versions."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from assess.collect.rvtools_columns import normalise_header
from assess.collect.rvtools_files import RawSheet
from assess.collect.rvtools_sheets import ExportContext, column, object_ids, sheet_fields
from assess.collect.rvtools_values import text

_NETWORK_N = re.compile(r"^network #(\d+)$")


def read_inventory(ctx: ExportContext, parts: dict[str, list[pd.DataFrame]]) -> dict:
    """Append hosts, clusters, datastores and networks of one export to ``parts``.

    Returns:
        Provenance details: RVTools version, vCenter name, UUID and version, export time.
    """
    hosts = _entity(ctx, "vHost", "host_id", "name")
    if hosts is not None:
        cores = hosts["cores"] if "cores" in hosts else pd.Series(pd.NA, index=hosts.index,
                                                                  dtype="Int64")
        ht = column(hosts, "_ht_active").astype("boolean").fillna(False)
        hosts["threads"] = cores.where(~ht, cores * 2)
        parts["hosts"].append(hosts)
    clusters = _entity(ctx, "vCluster", "cluster_id", "name")
    if clusters is not None:
        if hosts is not None and "cluster" in hosts and "datacenter" in hosts:
            datacenter = hosts.dropna(subset=["cluster"]).drop_duplicates("cluster")
            clusters["datacenter"] = clusters["name"].map(
                datacenter.set_index("cluster")["datacenter"])
        parts["clusters"].append(clusters)
    datastores = _entity(ctx, "vDatastore", "datastore_id", "name")
    if datastores is not None:
        parts["datastores"].append(datastores)
    standard = _entity(ctx, "vPort", "network_id", "switch", "name")
    if standard is not None:
        parts["networks"].append(standard.drop_duplicates("network_id").assign(kind="standard"))
    distributed = _entity(ctx, "dvPort", "network_id", "switch", "name")
    if distributed is not None:
        parts["networks"].append(distributed.drop_duplicates("network_id")
                                 .assign(kind="distributed"))
    return _versions(ctx)


def vinfo_networks(sheet: RawSheet, vms: pd.DataFrame) -> pd.DataFrame:
    """Network connections from vInfo's 'Network #1' ... 'Network #n' columns, long form.

    Columns ``vm_id``, ``label`` ("Network adapter n") and ``network`` (the port group); one
    row per non-empty cell of the rows in ``vms`` (indexed by vInfo source row).
    """
    numbered = [(h, int(m.group(1))) for h in sheet.headers
                if (m := _NETWORK_N.match(normalise_header(h)))]
    if not numbered or vms.empty:
        return pd.DataFrame({"vm_id": pd.Series(dtype="string"), "label": pd.Series(dtype="string"),
                             "network": pd.Series(dtype="string")})
    sheet.load([h for h, _ in numbered])
    values = np.concatenate([text(sheet.raw(h).loc[vms.index]).to_numpy(dtype=object)
                             for h, _ in numbered])
    frame = pd.DataFrame({
        "vm_id": np.tile(vms["vm_id"].to_numpy(dtype=object), len(numbered)),
        "label": np.repeat([f"Network adapter {n}" for _, n in numbered], len(vms)),
        "network": values,
    })
    return frame[frame["network"].notna()].astype("string").reset_index(drop=True)


def _entity(ctx: ExportContext, sheet: str, id_col: str, *name_cols: str) -> pd.DataFrame | None:
    got = sheet_fields(ctx, sheet)
    if got is None:
        return None
    fields = got[0]
    if "name" not in fields:
        ctx.warn("rvtools.sheet.unnamed", sheet, "no name column; sheet skipped")
        ctx.absent_sheets.append(sheet)
        return None
    unnamed = fields["name"].isna()
    if unnamed.any():
        ctx.warn("rvtools.row.unnamed", sheet,
                 f"{int(unnamed.sum())} row(s) without a name skipped (first at row "
                 f"{unnamed.idxmax()})", row=unnamed.idxmax())
        fields = fields[~unnamed]
    fields[id_col] = object_ids(fields, *name_cols)
    fields["vcenter"] = column(fields, "_vcenter")
    fields["source"] = ctx.source
    return fields


def _versions(ctx: ExportContext) -> dict:
    details: dict = {}
    meta = sheet_fields(ctx, "vMetaData")
    if meta is not None and len(meta[0]):
        first = meta[0].iloc[0]
        details["tool_version"] = _value(first, "version")
        details["exported_at"] = _value(first, "created")
        details["vcenter"] = _value(first, "server")
    source = sheet_fields(ctx, "vSource")
    if source is not None and len(source[0]):
        rows = source[0]
        details["vcenter"] = _joined(rows, "server") or details.get("vcenter")
        details["vcenter_uuid"] = _joined(rows, "uuid", lower=True)
        details["vcenter_version"] = _joined(rows, "version")
        details["vcenter_fullname"] = _joined(rows, "fullname")
    return {k: v for k, v in details.items() if v}


def _value(row: pd.Series, name: str) -> str | None:
    value = row.get(name)
    return None if value is None or pd.isna(value) else str(value)


def _joined(rows: pd.DataFrame, name: str, lower: bool = False) -> str | None:
    values = column(rows, name).dropna()
    if lower:
        values = values.str.lower()
    return ", ".join(dict.fromkeys(values)) or None
