"""Yearly cost of the current VMware estate and of the target cluster, side by side.

Current: VMware per-core subscription counted per host as ``sockets x max(cores per socket,
minimum per socket)`` (the 16-core minimum per CPU), plus optional hardware and support.
Target: every node (failover included) at its profile's yearly price, plus the platform
subscription per node and per core, plus support. Every figure is a row carrying its assumption.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assess.sizing.params import Cost, NodeProfile

COLUMNS = ["side", "item", "quantity", "unit", "unit_cost", "annual_cost", "currency", "assumption"]


def licensed_cores(hosts: pd.DataFrame, min_cores_per_socket: int) -> pd.Series:
    """Cores to license per host: sockets x max(cores per socket, the per-socket minimum)."""
    sockets = hosts["sockets"].astype("Float64")
    per_socket = np.ceil(hosts["cores"].astype("Float64") / sockets)
    return (sockets * per_socket.clip(lower=min_cores_per_socket)).astype("Float64")


def node_cost_per_year(profile: NodeProfile, params: Cost) -> float:
    """Yearly cost of one node: hardware price plus platform subscription per node and per core."""
    return (profile.price_per_year + params.target_subscription_per_node_year
            + params.target_subscription_per_core_year * profile.cores)


def cost_table(
    hosts: pd.DataFrame, nodes: pd.DataFrame, profiles: list[NodeProfile], params: Cost
) -> pd.DataFrame:
    """The ``cost`` table: one row per cost item of the current and target side, then totals.

    Args:
        hosts: canonical ``hosts`` table (sockets, cores).
        nodes: the ``nodes`` table of the packing (one row per node, ``node_profile``).
        profiles: node profiles by which nodes are priced.
        params: cost parameters.
    """
    c, rows = params.currency, []
    known = hosts["sockets"].notna() & hosts["cores"].notna() & hosts["sockets"].gt(0)
    cores = licensed_cores(hosts[known], params.vmware_min_cores_per_socket)
    physical = int(hosts.loc[known, "cores"].sum())
    rows.append(("current", "VMware subscription", float(cores.sum()), "licensed core",
                 params.vmware_price_per_core_year, float(cores.sum()) * params.vmware_price_per_core_year, c,
                 f"{int(known.sum())} hosts, {physical} physical cores; each socket licensed for at least "
                 f"{params.vmware_min_cores_per_socket} cores; price per core-year as given"))
    if (~known).any():
        rows.append(("current", "hosts without socket/core counts", float((~known).sum()), "host", 0.0, 0.0,
                     c,
                     "not licensed in this estimate: " + ", ".join(hosts.loc[~known, "name"].astype(str))))
    rows.append(("current", "hardware", 1.0, "year", params.current_hardware_per_year,
                 params.current_hardware_per_year, c, "current hardware per year as given"))
    rows.append(("current", "support", 1.0, "year", params.current_support_per_year,
                 params.current_support_per_year, c, "current support per year as given"))
    by_name = {p.name: p for p in profiles}
    counts = nodes.groupby("node_profile").size() if len(nodes) else pd.Series(dtype=int)
    for name, count in counts.items():
        p = by_name[name]
        spare = int((nodes["node_profile"].eq(name) & nodes["role"].eq("failover")).sum())
        rows.append(("target", f"nodes {name}", float(count), "node", p.price_per_year,
                     count * p.price_per_year, c,
                     f"{p.cores} cores, {p.memory_mib / 1024:g} GiB each; {spare} of them failover; "
                     "hardware price per node-year as given"))
        rows.append(("target", f"platform subscription {name} (per node)", float(count), "node",
                     params.target_subscription_per_node_year,
                     count * params.target_subscription_per_node_year, c,
                     "subscription per node-year as given"))
        rows.append(("target", f"platform subscription {name} (per core)", float(count * p.cores), "core",
                     params.target_subscription_per_core_year,
                     count * p.cores * params.target_subscription_per_core_year, c,
                     "subscription per physical core-year as given"))
    rows.append(("target", "support", 1.0, "year", params.target_support_per_year,
                 params.target_support_per_year, c, "target support per year as given"))
    table = pd.DataFrame(rows, columns=COLUMNS)
    totals = table.groupby("side", sort=False)["annual_cost"].sum()
    for side, total in totals.items():
        table.loc[len(table)] = (side, "total", 1.0, "year", total, total, c, "sum of the rows above")
    saving = totals.get("current", 0.0) - totals.get("target", 0.0)
    table.loc[len(table)] = ("difference", "current - target", 1.0, "year", saving, saving, c,
                             "positive: the target costs less per year")
    return table.astype({"side": "string", "item": "string", "unit": "string", "currency": "string",
                         "assumption": "string"})
