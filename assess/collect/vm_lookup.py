"""Find inventory VMs by the names, UUIDs, host names and IPs that other sources use.

Utilization files name a VM by vm_id, instance UUID or display name; flow records by DNS
name or IP. These helpers index the inventory once and resolve many values at a time.
"""

from __future__ import annotations

import pandas as pd

from assess.model import Estate

RESOLVED, UNKNOWN, AMBIGUOUS = "resolved", "unknown", "ambiguous"


def _index(pairs: list[tuple[pd.Series, pd.Series, int]]) -> pd.DataFrame:
    """(key, vm_id, rank) rows; keys lower-cased and stripped, blanks dropped."""
    frames = []
    for keys, vm_ids, rank in pairs:
        frame = pd.DataFrame({"key": keys.astype("string").str.strip().str.lower(),
                              "vm_id": vm_ids.astype("string"), "rank": rank})
        frames.append(frame[frame["key"].notna() & (frame["key"] != "")])
    return pd.concat(frames, ignore_index=True).drop_duplicates()


def _best(index: pd.DataFrame) -> pd.DataFrame:
    """Per key: the VMs of its best (lowest) rank, with the count of distinct candidates."""
    best = index[index["rank"] == index.groupby("key")["rank"].transform("min")]
    grouped = best.groupby("key", sort=False)["vm_id"]
    out = pd.DataFrame({"candidates": grouped.nunique(), "vm_id": grouped.first()})
    out["examples"] = out["vm_id"]
    several = out.index[out["candidates"] > 1]
    if len(several):
        shared = best[best["key"].isin(several)].sort_values("vm_id")
        out.loc[several, "examples"] = shared.groupby("key")["vm_id"].agg(", ".join)
        out.loc[several, "vm_id"] = pd.NA
    return out


def resolve_vms(values: pd.Series, inventory: Estate) -> pd.DataFrame:
    """Map each distinct value (a vm_id, instance UUID or VM name) to one inventory VM.

    Case-insensitive; a vm_id match wins over a UUID match, which wins over a name match.
    Returns one row per distinct value: ``value, vm_id, status`` (resolved, unknown or
    ambiguous when a name belongs to several VMs) and ``candidates`` (the VMs it could be).
    """
    vms = inventory["vms"]
    index = _index([(vms["vm_id"], vms["vm_id"], 0), (vms["instance_uuid"], vms["vm_id"], 1),
                    (vms["name"], vms["vm_id"], 2)])
    best = _best(index)
    distinct = pd.Series(values.dropna().unique(), dtype="string")
    found = best.reindex(distinct.str.strip().str.lower().to_numpy())
    status = pd.Series(UNKNOWN, index=found.index)
    status[found["candidates"] == 1] = RESOLVED
    status[found["candidates"] > 1] = AMBIGUOUS
    return pd.DataFrame({"value": distinct.to_numpy(), "vm_id": found["vm_id"].astype("string").to_numpy(),
                         "status": status.to_numpy(),
                         "candidates": found["examples"].astype("string").to_numpy()})


def ip_index(inventory: Estate) -> pd.DataFrame:
    """Key ``ip`` -> ``vm_id, candidates`` from ``nics.ipv4`` (comma separated) and ``vms.primary_ip``."""
    nics, vms = inventory["nics"], inventory["vms"]
    nic_ips = nics[["vm_id", "ipv4"]].dropna()
    nic_ips = nic_ips.assign(ip=nic_ips["ipv4"].str.split(",")).explode("ip")
    return _best(_index([(nic_ips["ip"], nic_ips["vm_id"], 0), (vms["primary_ip"], vms["vm_id"], 0)]))


def name_index(inventory: Estate) -> pd.DataFrame:
    """Key ``name`` -> ``vm_id, candidates`` from guest host names (full and short) and VM names.

    A full DNS name or VM name outranks a short host name, so ``web01.a.example`` and
    ``web01.b.example`` stay distinct while ``web01`` alone is ambiguous between them.
    """
    vms = inventory["vms"]
    host = vms["hostname"].astype("string")
    short = host.str.split(".").str[0]
    return _best(_index([(host, vms["vm_id"], 0), (vms["name"], vms["vm_id"], 0),
                         (short, vms["vm_id"], 1)]))
