"""Read RVTools exports (xlsx or 'export all to CSV' folders) into one canonical estate.

Every sheet the estate uses is mapped column by column (aliases for 3.x and 4.x headers in
:mod:`assess.collect.rvtools_columns`), vectorised over rows. Several exports, from one or
several vCenters, land in one estate: VM keys carry the vCenter instance UUID.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from assess.collect.rvtools_columns import SHEET_MEANING, SHEETS, VM_KEY, normalise_header
from assess.collect.rvtools_files import open_export
from assess.collect.rvtools_identity import VmIdentity
from assess.collect.rvtools_inventory import read_inventory, vinfo_networks
from assess.collect.rvtools_sheets import VINFO_HEADERS, ExportContext, column, sheet_fields, vm_keys
from assess.collect.rvtools_values import first_group, text
from assess.model.errors import AssessError
from assess.model.estate import Estate

#: Per-VM sheets that add rows to a child table: sheet -> (table, device kind or "").
CHILD_SHEETS = {
    "vDisk": ("disks", ""),
    "vPartition": ("partitions", ""),
    "vNetwork": ("nics", ""),
    "vSnapshot": ("snapshots", ""),
    "vUSB": ("devices", "usb_device"),
    "vCD": ("devices", "cdrom"),
}
#: Per-VM sheets whose columns complete the vms rows.
VM_DETAIL_SHEETS = ("vCPU", "vMemory", "vTools")
#: vms columns several sheets carry; a disagreement between them is warned about.
ALLOCATION_COLUMNS = ("vcpus", "memory_mib")
#: vms columns detail sheets only fill in (not read when vInfo has them for every VM).
FILL_ONLY = ("guest_os_config", "guest_os_tools")


def read_rvtools(paths: Sequence[Path]) -> Estate:
    """Read RVTools exports into an estate with every canonical table they can fill.

    Args:
        paths: xlsx exports and/or folders written by RVTools' "export all to CSV".

    Returns:
        An estate holding vms, attributes, disks, nics, partitions, snapshots, devices,
        hosts, clusters, datastores, networks and affinity_rules, with one provenance
        entry per export (RVTools and vCenter versions, absent sheets and columns) and
        the recorded warnings.

    Raises:
        AssessError: a path is missing, unreadable, not an RVTools export, or lacks the
            vInfo sheet or its VM column; the message names file and sheet.
    """
    if not paths:
        raise AssessError("no RVTools export given; pass xlsx files or CSV export folders")
    estate = Estate()
    parts: dict[str, list[pd.DataFrame]] = defaultdict(list)
    warnings: list[dict] = []
    for path in paths:
        with open_export(Path(path)) as export:
            source = estate.add_source("rvtools", path=str(export.path), format=export.kind,
                                       tool="RVTools")
            ctx = ExportContext(export, source)
            _read_export(ctx, parts)
            estate.provenance[-1].update(
                read_inventory(ctx, parts),
                absent_sheets=ctx.absent_sheets,
                absent_columns={t: c for t, c in ctx.absent_columns.items() if c},
                unused_sheets=export.unused_sheets(),
            )
        for sheet_name in ctx.absent_sheets:
            ctx.warn("rvtools.sheet.missing", sheet_name,
                     f"sheet absent or unusable; {SHEET_MEANING[sheet_name]} unknown for this export")
        warnings.extend(ctx.warnings)
    tables = {name: pd.concat(frames) for name, frames in parts.items()}
    _drop_duplicate_vms(tables, estate.provenance, warnings)
    for name, frame in tables.items():
        estate[name] = frame
    estate.warn_many(warnings)
    return estate


def _read_export(ctx: ExportContext, parts: dict[str, list[pd.DataFrame]]) -> None:
    fields, sheet = sheet_fields(ctx, "vInfo", require_vm=True)
    fields = _named_rows(ctx, "vInfo", fields)
    keys, named = vm_keys(fields, ctx.export.path.name)
    if named.any():
        ctx.warn("rvtools.key.name", "vInfo",
                 f"{int(named.sum())} VM(s) have no vCenter UUID/moref or instance UUID; keyed "
                 f"by vCenter (or file) and name, which is not stable (first at row {named.idxmax()})",
                 row=named.idxmax())
    vms = fields.assign(vm_id=keys, source=ctx.source, _row=fields.index)
    vms["vcenter_uuid"] = vms["vcenter_uuid"].str.lower() if "vcenter_uuid" in vms else pd.NA
    if "instance_uuid" in vms:
        vms["instance_uuid"] = vms["instance_uuid"].str.lower()
    parts["attributes"].append(_custom_attributes(sheet, vms))
    networks = vinfo_networks(sheet, vms)
    del sheet  # its rows are many Python objects; free them before the next sheet is read
    identity = VmIdentity.of(vms)
    for detail in VM_DETAIL_SHEETS:
        _add_vm_details(ctx, detail, vms, identity)
    parts["vms"].append(vms)
    parts["affinity_rules"].append(_affinity_rules(ctx, vms))
    for sheet_name, (table, kind) in CHILD_SHEETS.items():
        rows = _child_rows(ctx, sheet_name, identity)
        if table == "nics":
            rows = _with_vinfo_networks(ctx, rows, networks)
        if rows is not None:
            parts[table].append(_finish_child(table, kind, rows))


def _named_rows(ctx: ExportContext, sheet: str, fields: pd.DataFrame) -> pd.DataFrame:
    """Drop rows with no VM name, VM ID or VM UUID (they cannot be keyed), with one warning."""
    unnamed = column(fields, "name").isna()
    if sheet != "vInfo":
        unnamed &= column(fields, "moref").isna() & column(fields, "instance_uuid").isna()
    if unnamed.any():
        rows = fields.index[unnamed]
        listed = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
        ctx.warn("rvtools.row.unnamed", sheet,
                 f"{len(rows)} row(s) have values but no VM name (row {listed}); skipped",
                 row=rows[0], column="VM")
    return fields[~unnamed]


def _add_vm_details(ctx: ExportContext, sheet: str, vms: pd.DataFrame, identity: VmIdentity) -> None:
    """Fill the vms columns ``sheet`` carries where vInfo left them empty (vInfo wins otherwise)."""
    complete = frozenset(c for c in FILL_ONLY if c in vms and vms[c].notna().all())
    got = sheet_fields(ctx, sheet, per_vm=True, skip=complete)
    if got is None:
        return
    fields = _named_rows(ctx, sheet, got[0])
    fields = fields.assign(vm_id=identity.resolve(ctx, sheet, fields))
    fields = fields.drop_duplicates("vm_id")
    detail_cols = [c for c in SHEETS[sheet][1] if c in fields and c not in VM_KEY]
    looked_up = fields.set_index(fields["vm_id"].astype(object))[detail_cols]
    for col in detail_cols:
        found = vms["vm_id"].astype(object).map(looked_up[col])
        if col in vms:
            _warn_disagreement(ctx, sheet, vms, col, found)
            vms[col] = vms[col].fillna(found)
        else:
            vms[col] = found


def _warn_disagreement(ctx: ExportContext, sheet: str, vms: pd.DataFrame, col: str,
                       found: pd.Series) -> None:
    """One warning naming the VMs whose ``col`` in vInfo differs from ``sheet`` (vInfo is kept)."""
    if col not in ALLOCATION_COLUMNS:
        return
    differ = vms[col].notna() & found.notna() & (vms[col].astype(float) != found.astype(float))
    if not differ.any():
        return
    listed = "; ".join(f"{n}: {a:g} in vInfo, {b:g} in {sheet}" for n, a, b in zip(
        vms.loc[differ, "name"][:10], vms.loc[differ, col][:10], found[differ][:10], strict=True))
    ctx.warn("rvtools.allocation.disagree", sheet,
             f"{int(differ.sum())} VM(s) have a different {col} than vInfo ({listed}"
             f"{'; ...' if differ.sum() > 10 else ''}); the vInfo value is used", column=col)


def _child_rows(ctx: ExportContext, sheet: str, identity: VmIdentity) -> pd.DataFrame | None:
    got = sheet_fields(ctx, sheet, per_vm=True)
    if got is None:
        return None
    fields = _named_rows(ctx, sheet, got[0])
    return fields.assign(vm_id=identity.resolve(ctx, sheet, fields), source=ctx.source)


def _with_vinfo_networks(ctx: ExportContext, rows: pd.DataFrame | None, networks: pd.DataFrame
                         ) -> pd.DataFrame | None:
    """VNetwork rows plus vInfo 'Network #n' connections of the VMs vNetwork does not list."""
    if rows is not None:
        networks = networks[~networks["vm_id"].astype(object).isin(set(rows["vm_id"].astype(object)))]
    if networks.empty:
        return rows
    ctx.warn("rvtools.nics.from_vinfo", "vInfo",
             f"{networks['vm_id'].nunique()} VM(s) without vNetwork rows: {len(networks)} network "
             "connection(s) taken from vInfo 'Network #n' (adapter type, MAC and IPs unknown)")
    networks = networks.assign(source=ctx.source)
    return networks if rows is None else pd.concat([rows, networks], ignore_index=True)


def _finish_child(table: str, kind: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Table-specific completion of child rows (derived columns, fallbacks)."""
    if table == "disks":
        rows["disk_key"] = column(rows, "disk_key").fillna(column(rows, "label"))
        rows["datastore"] = first_group(column(rows, "file"), r"^\[([^\]]+)\]")
    elif table == "partitions":
        if "_free_pct" in rows and "capacity_mib" in rows:
            estimate = rows["capacity_mib"] * rows["_free_pct"] / 100
            rows["free_mib"] = rows["free_mib"].fillna(estimate) if "free_mib" in rows else estimate
    elif table == "nics":
        rows["adapter"] = column(rows, "adapter").str.lower()
    elif table == "snapshots":
        rows["name"] = column(rows, "snapshot")
    elif table == "devices":
        rows["kind"] = kind
        rows["label"] = column(rows, "label").fillna(kind)
    return rows


def _custom_attributes(sheet, vms: pd.DataFrame) -> pd.DataFrame:
    """Long-form custom attributes: vInfo columns between 'Annotation' and 'Datacenter'."""
    headers = sheet.headers
    norm = [normalise_header(h) for h in headers]
    if "annotation" not in norm or "datacenter" not in norm:
        return pd.DataFrame(columns=["vm_id", "kind", "name", "value"])
    start, stop = norm.index("annotation") + 1, norm.index("datacenter")
    custom = [h for h, n in zip(headers[start:stop], norm[start:stop], strict=True)
              if n not in VINFO_HEADERS]
    if not custom:
        return pd.DataFrame(columns=["vm_id", "kind", "name", "value"])
    sheet.load(custom)
    values = [text(sheet.raw(h).loc[vms.index]).to_numpy() for h in custom]
    return pd.DataFrame({
        "vm_id": np.tile(vms["vm_id"].to_numpy(), len(custom)),
        "kind": "custom",
        "name": np.repeat(custom, len(vms)),
        "value": pd.array(np.concatenate(values), dtype="string"),
    })


def _affinity_rules(ctx: ExportContext, vms: pd.DataFrame) -> pd.DataFrame:
    """DRS rule membership from vInfo 'Cluster rule(s)' / 'Cluster rule name(s)'."""
    names = column(vms, "_rule_names")
    has = names.notna()
    if not has.any():
        return pd.DataFrame(columns=["cluster", "rule", "kind", "member"])
    rows = pd.DataFrame({"vm_id": vms.loc[has, "vm_id"], "vcenter": column(vms, "vcenter")[has],
                         "cluster": column(vms, "cluster")[has]})
    rule_names = names[has].str.split(r"\s*,\s*", regex=True)
    kinds = column(vms, "_rule_kinds")[has].fillna("").str.split(r"\s*,\s*", regex=True)
    rows["rule"] = rule_names
    rows["kind"] = [k if len(k) == len(n) else [""] * len(n)
                    for k, n in zip(kinds, rule_names, strict=True)]
    rows = rows.explode(["rule", "kind"])
    kind = rows["kind"].str.lower()
    rows["kind"] = np.select(
        [kind.str.contains("anti"), kind.str.contains("host"), kind.str.contains("affinity")],
        ["vm_anti_affinity", "vm_host", "vm_affinity"], default="")
    unknown = rows["kind"] == ""
    if unknown.any():
        ctx.warn("rvtools.rule.kind", "vInfo",
                 f"{int(unknown.sum())} cluster rule membership(s) of unknown type (first: "
                 f"{rows.loc[unknown, 'rule'].iloc[0]!r}); left out of affinity_rules",
                 column="Cluster rule(s)")
    return rows[~unknown].rename(columns={"vm_id": "member"})


def _drop_duplicate_vms(tables: dict[str, pd.DataFrame], provenance: list[dict],
                        warnings: list[dict]) -> None:
    """Keep the first row per vm_id, warning with file and row for each repeat."""
    vms = tables["vms"].reset_index(drop=True)
    dup = vms.duplicated("vm_id", keep="first")
    if not dup.any():
        tables["vms"] = vms
        return
    paths = {p["id"]: p.get("path", "") for p in provenance}
    first = vms[~dup].set_index("vm_id")
    for _, row in vms[dup].iterrows():
        kept = first.loc[row["vm_id"]]
        warnings.append(dict(
            source=row["source"], code="rvtools.vm.duplicate", table="vInfo", row=str(row["_row"]),
            column="VM",
            message=f"{paths[row['source']]}, sheet vInfo: row {row['_row']} repeats VM "
            f"{row['name']!r} ({row['vm_id']}) already read from {paths[kept['source']]} row "
            f"{kept['_row']}; the first is kept"))
    dropped = vms.loc[dup, ["vm_id", "source"]]
    other_source = dropped[dropped["source"].to_numpy()
                           != first.loc[dropped["vm_id"], "source"].to_numpy()]
    pairs = pd.MultiIndex.from_frame(other_source)
    for name, frame in tables.items():
        if name != "vms" and len(pairs) and {"vm_id", "source"} <= set(frame.columns):
            tables[name] = frame[~pd.MultiIndex.from_frame(frame[["vm_id", "source"]]).isin(pairs)]
    tables["vms"] = vms[~dup]
