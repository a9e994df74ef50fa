"""Import network dependency records and aggregate them into canonical ``flows`` rows.

Formats: ``azure-migrate`` (the dependency-analysis export: ``Time slot, Source server name,
Source IP, Source application, Source process, Destination server name, Destination IP,
Destination application, Destination process, Destination port``, optional VLAN columns, and
the newer layout with ``Date`` and ``Connection Count``) and ``csv`` (generic: ``src, dst``
as names or IPs, ``port``, ``protocol``, ``bytes`` or ``connections``, ``time``).

Endpoints are resolved to VMs through the inventory's IPs (``nics.ipv4``, ``vms.primary_ip``)
and names (``vms.hostname`` full and short, ``vms.name``), case-insensitively; the rest are
kept as external nodes ``ext:<ip or name>``. Repeats (one row per time slot) aggregate into one
row per (src, dst, port, protocol) with counts and first/last seen.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from assess.collect.vm_lookup import ip_index, name_index
from assess.model import AssessError, Estate, conform

FORMATS = ("azure-migrate", "csv")
UNKNOWN_PROCESS = "unknown process"
_EXAMPLES = 5
#: Separators of a time-slot range: " - ", "..", " to ", an en dash, or a bare "-" between a time
#: and the next time or date ("3/1/2025 12:00-18:00", "12:00-3/1/2025 18:00", "12:00-2025-03-01 18:00").
_RANGE = re.compile(r"\s+-\s+|\.\.|\s+to\s+|\s*\u2013\s*|(?<=\d)-(?=\d{1,2}[:/]|\d{4}-\d{2}-\d{2})")

#: Normalised column -> header names (lower case) it may have, per format.
_AZURE = {
    "time": ("time slot", "timeslot", "date"),
    "src_name": ("source server name",), "src_ip": ("source ip",), "src_process": ("source process",),
    "dst_name": ("destination server name",), "dst_ip": ("destination ip",),
    "dst_process": ("destination process",), "port": ("destination port",),
    "connections": ("connection count", "count"), "protocol": ("protocol",),
    "src_vlan": ("source vlan",), "dst_vlan": ("destination vlan",),
}
_GENERIC = {
    "time": ("time", "timestamp", "first_seen", "date"), "last": ("last_seen",),
    "src": ("src", "source", "src_name", "source_name"), "dst": ("dst", "destination", "dest", "dst_name"),
    "src_ip": ("src_ip", "source_ip"), "dst_ip": ("dst_ip", "destination_ip", "dest_ip"),
    "src_process": ("src_process",), "dst_process": ("dst_process",),
    "port": ("port", "dst_port", "dest_port", "destination_port"), "protocol": ("protocol", "proto"),
    "connections": ("connections", "count", "connection_count"), "bytes": ("bytes",),
    "src_vlan": ("src_vlan", "source_vlan"), "dst_vlan": ("dst_vlan", "destination_vlan"),
}
#: Ports at or above this are ephemeral (IANA dynamic range): a flow "to" one is a reply or a
#: client-side port, not a service, and says nothing about dependencies.
EPHEMERAL_PORT = 49152


def _read_table(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype="string", encoding="utf-8-sig", keep_default_na=False,
                            skipinitialspace=True)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise AssessError(f"{path}: cannot be read as CSV ({exc})") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def detect_flow_format(columns: Sequence[str], path: Path) -> str:
    """``azure-migrate`` or ``csv`` from the (lower-cased) header of ``path``."""
    cols = set(columns)
    if "destination port" in cols and cols & {"source server name", "source ip"}:
        return "azure-migrate"
    if cols & set(_GENERIC["src"] + _GENERIC["src_ip"]) and cols & set(_GENERIC["dst"] + _GENERIC["dst_ip"]):
        return "csv"
    raise AssessError(
        f"{path}: unknown flow layout (header: {', '.join(sorted(cols))[:200]}). Expected an Azure "
        "Migrate dependency export (Time slot, Source server name, Source IP, ..., Destination port) "
        "or a CSV with src,dst[,port,protocol,bytes,connections,time]; pass --format to say which"
    )


def _pick(frame: pd.DataFrame, names: dict[str, tuple[str, ...]]) -> dict[str, pd.Series]:
    out = {}
    for key, options in names.items():
        for option in options:
            if option in frame.columns:
                out[key] = frame[option].str.strip().replace("", pd.NA)
                break
    return out


def _is_ip(values: pd.Series) -> pd.Series:
    def check(text: str) -> bool:
        try:
            ipaddress.ip_address(text)
            return True
        except ValueError:
            return False

    distinct = values.dropna().unique()
    flags = {v: check(v) for v in distinct}
    return values.map(flags).fillna(False).astype(bool)


def _times(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(start, end) of each time slot text (a single time or a range); NaT where unreadable."""
    distinct = pd.Series(values.dropna().unique(), dtype="string")
    if distinct.empty:
        nat = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
        return nat, nat
    parts = distinct.str.split(_RANGE, n=1, expand=True, regex=True)
    start = pd.to_datetime(parts[0], utc=True, errors="coerce", format="mixed")
    end = _slot_end(start, parts[1]) if 1 in parts else start
    end = end.fillna(start)
    keys = distinct.to_numpy()
    # to_datetime, not astype: where no slot parsed, the mapped values are naive NaT
    return tuple(pd.to_datetime(values.map(t.set_axis(keys)), utc=True).astype("datetime64[ns, UTC]")
                 for t in (start, end))


def _slot_end(start: pd.Series, text: pd.Series) -> pd.Series:
    """End of a time slot: a full date-time, or a bare time on the start's day.

    A bare time that is not after the start rolls to the next day (``18:00-00:00`` ends at midnight).
    """
    text = text.fillna("").str.strip()
    bare = text.str.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?")
    full = pd.to_datetime(text.where(~bare), utc=True, errors="coerce", format="mixed")
    clock = pd.to_timedelta(text.where(bare).str.replace(r"^(\d{1,2}:\d{2})$", r"\1:00", regex=True),
                            errors="coerce")
    on_day = start.dt.normalize() + clock
    on_day = on_day.where(on_day > start, on_day + pd.Timedelta(days=1))
    return full.where(~bare, on_day)


def _records(path: Path, fmt: str | None) -> tuple[pd.DataFrame, str, list[dict]]:
    """Rows of one file in the normalised form (before endpoint resolution) and its warnings."""
    raw = _read_table(path)
    fmt = fmt or detect_flow_format(raw.columns, path)
    warnings = []
    if raw.empty:
        warnings.append(_warning("flows.file.empty", path,
                                 f"{path}: a header but no flow rows; nothing imported"))
    if fmt == "azure-migrate":
        cols = _pick(raw, _AZURE)
        if "port" not in cols:
            raise AssessError(f"{path}: Azure Migrate export lacks the 'Destination port' column")
        protocol = cols.get("protocol", pd.Series("tcp", index=raw.index, dtype="string"))
    elif fmt == "csv":
        cols = _pick(raw, _GENERIC)
        for side in ("src", "dst"):
            if side in cols:
                ip = _is_ip(cols[side])
                cols[f"{side}_ip"] = cols.get(f"{side}_ip", cols[side].where(ip)).fillna(cols[side].where(ip))
                cols[f"{side}_name"] = cols[side].where(~ip)
        protocol = cols.get("protocol", pd.Series(pd.NA, index=raw.index, dtype="string"))
    else:
        raise AssessError(f"unknown flow format '{fmt}'; use one of {', '.join(FORMATS)}")
    empty = pd.Series(pd.NA, index=raw.index, dtype="string")
    keys = ("src_name", "src_ip", "dst_name", "dst_ip", "src_process", "dst_process", "src_vlan", "dst_vlan")
    rows = pd.DataFrame({k: cols.get(k, empty) for k in keys})
    for side in ("src_process", "dst_process"):
        rows[side] = rows[side].mask(rows[side].str.lower() == UNKNOWN_PROCESS)
    rows["protocol"] = protocol.str.lower()
    port_text = cols["port"] if "port" in cols else empty
    rows["port"] = pd.to_numeric(port_text, errors="coerce").astype("Int64")
    bad_port = port_text.notna() & rows["port"].isna()
    if bad_port.any():
        example = port_text[bad_port].iloc[0]
        warnings.append(_warning("flows.port.invalid", path, f"{path}: {int(bad_port.sum())} row(s) have a "
                                 f"destination port that is not a number (e.g. '{example}'); kept without "
                                 "port", int(bad_port.idxmax()) + 2, "port"))
    count_text = cols.get("connections", empty)
    rows["connections"] = pd.to_numeric(count_text, errors="coerce").fillna(1).astype("Int64")
    rows["bytes"] = pd.to_numeric(cols.get("bytes", empty), errors="coerce").astype("float64")
    rows["first_seen"], rows["last_seen"] = _times(cols.get("time", empty))
    if "last" in cols:
        rows["last_seen"] = _times(cols["last"])[1].fillna(rows["last_seen"])
    bad_time = cols.get("time", empty).notna() & rows["first_seen"].isna()
    if bad_time.any():
        warnings.append(_warning("flows.time.invalid", path, f"{path}: {int(bad_time.sum())} row(s) have an "
                                 f"unreadable time (e.g. '{cols['time'][bad_time].iloc[0]}'); kept without "
                                 "first/last seen", int(bad_time.idxmax()) + 2, "time"))
    rows["file"] = str(path)
    rows["line"] = rows.index + 2  # header is line 1
    return rows, fmt, warnings


def _warning(code: str, path, message: str, row: object = "", column: str = "") -> dict:
    return dict(code=code, source=str(path), table="flows", row=str(row), column=column, message=message)


def _endpoints(rows: pd.DataFrame, inventory: Estate) -> pd.DataFrame:
    """Resolve every distinct (name, ip) endpoint: node, is_vm and the reason when external."""
    ends = pd.concat([rows[["src_name", "src_ip"]].set_axis(["name", "ip"], axis=1),
                      rows[["dst_name", "dst_ip"]].set_axis(["name", "ip"], axis=1)]).drop_duplicates()
    names, ips = name_index(inventory), ip_index(inventory)
    key = (ends["name"].str.lower().astype(object)
           .fillna(ends["ip"].map(_file_names(ends)).astype(object)).astype("string"))
    by_name = names.reindex(key.to_numpy())
    short = names.reindex(key.str.split(".").str[0].to_numpy())
    dotted = key.str.contains(".", regex=False).fillna(False).to_numpy()
    use_short = by_name["candidates"].isna().to_numpy() & dotted
    by_name[use_short] = short[use_short].to_numpy()
    by_ip = ips.reindex(ends["ip"].to_numpy())
    n_count = by_name["candidates"].fillna(0).to_numpy()
    i_count = by_ip["candidates"].fillna(0).to_numpy()
    node = pd.Series(pd.NA, index=ends.index, dtype="string")
    reason = pd.Series("not in the inventory", index=ends.index, dtype="string")
    node[n_count == 1] = by_name["vm_id"].to_numpy()[n_count == 1]
    by_ip_ok = (n_count != 1) & (i_count == 1)
    node[by_ip_ok] = by_ip["vm_id"].to_numpy()[by_ip_ok]
    ambiguous_name = (n_count > 1) & ~by_ip_ok
    ambiguous_ip = (n_count == 0) & (i_count > 1)
    reason[ambiguous_name] = "name matches " + by_name["examples"].astype("string")[ambiguous_name].to_numpy()
    reason[ambiguous_ip] = "IP matches " + by_ip["examples"].astype("string")[ambiguous_ip].to_numpy()
    ends["is_vm"] = node.notna()
    ends["resolved_by_ip"] = by_ip_ok & (n_count > 1)
    ends["node"] = node.fillna("ext:" + ends["ip"].fillna(ends["name"].str.lower()))
    ends["reason"] = reason.where(~ends["is_vm"])
    return ends


def _file_names(ends: pd.DataFrame) -> pd.Series:
    """IP -> server name (lower case) where the files name that IP as exactly one server.

    A destination recorded by IP only resolves through the name the same export gives it on
    other rows, even when the inventory does not know the IP.
    """
    pairs = ends.dropna(subset=["name", "ip"]).assign(name=lambda f: f["name"].str.lower())
    counts = pairs.groupby("ip")["name"].nunique()
    single = pairs[pairs["ip"].isin(counts.index[counts == 1])].drop_duplicates("ip")
    return pd.Series(single["name"].to_numpy(), index=single["ip"].to_numpy(), dtype="string")


def _resolution_warnings(rows: pd.DataFrame, ends: pd.DataFrame) -> list[dict]:
    warnings = []
    sides = []
    for side in ("src", "dst"):
        part = rows[[f"{side}_name", f"{side}_ip", "file"]].set_axis(["name", "ip", "file"], axis=1)
        sides.append(part)
    used = pd.concat(sides).merge(ends, on=["name", "ip"], how="left")
    for file, group in used.groupby("file", sort=True):
        external = group[~group["is_vm"]].groupby(["node", "reason"]).size().sort_values(ascending=False)
        if len(external):
            shown = ", ".join(f"{node} ({n}{'' if why == 'not in the inventory' else '; ' + why})"
                              for (node, why), n in list(external.items())[:_EXAMPLES])
            more = f" and {len(external) - _EXAMPLES} more" if len(external) > _EXAMPLES else ""
            warnings.append(_warning(
                "flows.endpoint.external", file,
                f"{file}: {len(external)} endpoint(s) are not VMs of the inventory and are kept as external "
                f"nodes ({int(external.sum())} endpoint occurrence(s)): {shown}{more}"))
        ambiguous = group[group["reason"].fillna("").str.contains("matches") | group["resolved_by_ip"]]
        if len(ambiguous):
            names = sorted(set(ambiguous["name"].fillna(ambiguous["ip"])))
            by_ip = int(ambiguous["resolved_by_ip"].sum())
            warnings.append(_warning(
                "flows.endpoint.ambiguous", file,
                f"{file}: {len(names)} endpoint name(s) or IP(s) match several VMs "
                f"({', '.join(names[:_EXAMPLES])}); {by_ip} occurrence(s) resolved by IP, "
                f"{len(ambiguous) - by_ip} kept as external nodes; make names unique or record IPs"))
    return warnings


def read_flows(paths: Sequence[Path], inventory: Estate, format: str | None = None) -> Estate:
    """Read dependency files into an Estate holding aggregated canonical ``flows`` rows.

    Args:
        paths: Azure Migrate dependency exports or generic flow CSV files.
        inventory: the estate whose VMs the endpoints are resolved against.
        format: ``azure-migrate`` or ``csv``; detected per file when None.

    Returns:
        An Estate with one ``flows`` row per (src, dst, port, protocol), warnings about
        external, ambiguous and unusable endpoints, and one provenance entry per file.
    """
    if format is not None and format not in FORMATS:
        raise AssessError(f"unknown flow format '{format}'; use one of {', '.join(FORMATS)}")
    out = Estate()
    frames, warnings = [], []
    for path in map(Path, paths):
        if not path.is_file():
            raise AssessError(f"{path}: no such flow file")
        rows, fmt, found = _records(path, format)
        frames.append(rows)
        warnings += found
        out.add_source("flows", path=str(path), format=fmt, records=len(rows))
    rows = pd.concat(frames, ignore_index=True)
    unusable = ((rows["src_name"].isna() & rows["src_ip"].isna())
                | (rows["dst_name"].isna() & rows["dst_ip"].isna()))
    for file, group in rows[unusable].groupby("file"):
        warnings.append(_warning("flows.row.unusable", file, f"{file}: {len(group)} row(s) name neither a "
                                 "server nor an IP for source or destination and were not imported (lines "
                                 f"{', '.join(map(str, group['line'].head(_EXAMPLES)))})",
                                 group["line"].iloc[0]))
    rows = rows[~unusable]
    ends = _endpoints(rows, inventory)
    warnings += _resolution_warnings(rows, ends)
    for side in ("src", "dst"):
        part = ends.rename(columns={"name": f"{side}_name", "ip": f"{side}_ip", "node": side,
                                    "is_vm": f"{side}_vm"})
        rows = rows.merge(part[[f"{side}_name", f"{side}_ip", side, f"{side}_vm"]],
                          on=[f"{side}_name", f"{side}_ip"], how="left")
    out["flows"] = conform("flows", _aggregate(rows))
    out.warn_many(warnings)
    return out


def _aggregate(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (src, dst, port, protocol): summed counts, first/last seen, distinct IPs and processes."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("rows", rows.drop(columns=["file", "line"]))
    texts = ", ".join(f"string_agg(DISTINCT {c}, ', ' ORDER BY {c}) AS {c}"
                      for c in ("src_ip", "dst_ip", "src_process", "dst_process", "src_vlan", "dst_vlan"))
    texts += ", " + ", ".join(f"string_agg(DISTINCT lower({c}), ', ' ORDER BY lower({c})) AS {c}"
                              for c in ("src_name", "dst_name"))
    frame = con.sql(f"""
        SELECT src, dst, port, protocol, bool_or(src_vm) AS src_vm, bool_or(dst_vm) AS dst_vm, {texts},
               sum(connections) AS connections, sum(bytes) AS bytes,
               min(first_seen) AS first_seen, max(last_seen) AS last_seen
        FROM rows GROUP BY src, dst, port, protocol
        ORDER BY src, dst, port NULLS LAST, protocol NULLS LAST""").df()
    con.close()
    return frame


def _single(values: pd.Series) -> pd.Series:
    """The value where a comma-separated aggregate holds exactly one item, else NA."""
    text = values.astype("string").str.strip()
    return text.where(~text.str.contains(",", regex=False).fillna(False))


def _run_time_nodes(flows: pd.DataFrame, inventory: Estate) -> pd.DataFrame:
    """Distinct (node, name, ip) endpoints of ``flows`` with the node each resolves to now.

    A node that is a VM of ``inventory`` stays; else the recorded name (full, then short host
    name), then the recorded IP against the inventory's IPs, then against IPs that the flow
    rows themselves tie to a resolved server name. O(distinct endpoints).
    """
    ends = pd.concat([flows[[f"{s}", f"{s}_name", f"{s}_ip"]].set_axis(["node", "name", "ip"], axis=1)
                      for s in ("src", "dst")]).drop_duplicates().reset_index(drop=True)
    vm_ids = set(inventory["vms"]["vm_id"].astype(str))
    names, ips = name_index(inventory), ip_index(inventory)
    name, ip = _single(ends["name"]).str.lower(), _single(ends["ip"])
    by_name = names.reindex(name.to_numpy())
    short = names.reindex(name.str.split(".").str[0].to_numpy())
    use_short = by_name["candidates"].isna().to_numpy()
    by_name[use_short] = short[use_short].to_numpy()
    by_ip = ips.reindex(ip.to_numpy())
    out = pd.Series(np.where(ends["node"].astype(str).isin(vm_ids), ends["node"].astype(str), None),
                    dtype=object)
    for found in (by_name, by_ip):
        hit = (found["candidates"] == 1).to_numpy() & out.isna().to_numpy()
        out[hit] = found["vm_id"].to_numpy()[hit]
    learned = pd.DataFrame({"ip": ip, "vm": out}).dropna().drop_duplicates()
    learned = learned[~learned["ip"].duplicated(keep=False)].set_index("ip")["vm"]
    fill = out.isna().to_numpy()
    out[fill] = ip[fill].map(learned).to_numpy()
    ends["resolved"] = out.where(out.notna(), ends["node"].astype(str))
    ends["is_vm"] = ends["resolved"].isin(vm_ids)
    return ends


def resolve_flows(flows: pd.DataFrame, inventory: Estate) -> tuple[pd.DataFrame, list[dict]]:
    """``flows`` resolved against ``inventory`` as it is now, cleaned, with the warnings.

    Endpoints resolve whatever the import order (flows read before the RVTools export
    resolve now); self-loops (a VM to itself) and flows to ephemeral ports (>=
    :data:`EPHEMERAL_PORT`) are dropped with a warning that counts them; rows that now name
    the same (src, dst, port, protocol) are summed. Pure: ``flows`` is not changed. O(rows).
    """
    if flows.empty:
        return flows, []
    ends = _run_time_nodes(flows, inventory)
    out = flows.copy()
    for side in ("src", "dst"):
        keyed = ends.rename(columns={"node": side, "name": f"{side}_name", "ip": f"{side}_ip"})
        merged = out[[side, f"{side}_name", f"{side}_ip"]].merge(
            keyed, on=[side, f"{side}_name", f"{side}_ip"], how="left")
        out[side] = merged["resolved"].fillna(out[side].astype(str)).to_numpy()
        out[f"{side}_vm"] = merged["is_vm"].fillna(False).to_numpy(dtype=bool)
    warnings = []
    loop = (out["src"] == out["dst"]).to_numpy(dtype=bool)
    ephemeral = (out["port"] >= EPHEMERAL_PORT).fillna(False).to_numpy(dtype=bool) & ~loop
    for mask, code, what in ((loop, "flows.self_loop", "self-loop(s): a node talking to itself"),
                             (ephemeral, "flows.port.ephemeral",
                              f"flow(s) to ephemeral ports (>= {EPHEMERAL_PORT}): replies or client ports, "
                              "not services")):
        if mask.any():
            warnings.append(_warning(code, "flows", f"{int(mask.sum())} aggregated {what}; dropped from "
                                     "the dependency graph"))
    out = out[~loop & ~ephemeral]
    if out.duplicated(["src", "dst", "port", "protocol"]).any():
        keys = ["src", "dst", "port", "protocol"]
        sums = out.groupby(keys, dropna=False)[["connections", "bytes"]].sum(min_count=1)
        out = out.drop_duplicates(keys).drop(columns=["connections", "bytes"]).merge(
            sums.reset_index(), on=keys, how="left")
    return conform("flows", out.reset_index(drop=True)), warnings
