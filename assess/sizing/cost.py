"""Yearly cost of the current VMware estate and of the target cluster, side by side.

Both sides list the same three kinds of cost: **licences** (VMware per-core subscription today,
counted per host as ``sockets x max(cores per socket, minimum per socket)``; the platform
subscription per node and per core on the target), **hardware** (given per year today; the node
profiles' yearly price on the target) and **support**. Every price row says where its price
comes from in ``input``: ``default`` (the documented default), ``given`` (passed by the user) or
``not given``. A not-given price is not counted as 0: its row has no cost, and the side's total
says which items it omits, so a comparison that is not like for like reads as such.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assess.sizing.params import Cost, NodeProfile

COLUMNS = ["side", "item", "kind", "quantity", "unit", "unit_cost", "annual_cost", "currency", "input",
           "assumption"]


def licensed_cores(hosts: pd.DataFrame, min_cores_per_socket: int) -> pd.Series:
    """Cores to license per host: sockets x max(cores per socket, the per-socket minimum)."""
    sockets = hosts["sockets"].astype("Float64")
    per_socket = np.ceil(hosts["cores"].astype("Float64") / sockets)
    return (sockets * per_socket.clip(lower=min_cores_per_socket)).astype("Float64")


def node_cost_per_year(profile: NodeProfile, params: Cost) -> float:
    """Yearly cost of one node: hardware price plus the platform subscription given (per node, per core)."""
    return (profile.price_per_year + (params.target_subscription_per_node_year or 0.0)
            + (params.target_subscription_per_core_year or 0.0) * profile.cores)


def price_input(params: Cost, name: str) -> str:
    """``given``, ``default`` or ``not given`` for the price parameter ``name``."""
    if getattr(params, name) is None:
        return "not given"
    return "given" if name in params.model_fields_set else "default"


class _Rows:
    """Cost rows; a price that was not given makes its row cost-less and names it as omitted."""

    def __init__(self, params: Cost):
        self.params, self.rows = params, []

    def add(self, side, item, kind, quantity, unit, price_name, assumption, unit_cost=None, source=None):
        price = getattr(self.params, price_name) if unit_cost is None else unit_cost
        source = source or price_input(self.params, price_name)
        annual = np.nan if price is None else quantity * price
        text = f"{assumption}; price {source}" if price is not None else (
            f"{assumption}; price not given: not counted (set cost.{price_name})")
        self.rows.append((side, item, kind, float(quantity), unit, np.nan if price is None else float(price),
                          annual, self.params.currency, source, text))


def cost_table(
    hosts: pd.DataFrame, nodes: pd.DataFrame, profiles: list[NodeProfile], params: Cost,
    profiles_given: bool = False,
) -> pd.DataFrame:
    """The ``cost`` table: licences, hardware and support of the current and target side, then totals.

    Args:
        hosts: canonical ``hosts`` table (sockets, cores).
        nodes: the ``nodes`` table of the packing (one row per node, ``node_profile``).
        profiles: node profiles by which nodes are priced.
        params: cost parameters.
        profiles_given: whether the node profiles (and their prices) were passed by the user.
    """
    rows = _Rows(params)
    _current(rows, hosts, params)
    by_name = {p.name: p for p in profiles}
    counts = nodes.groupby("node_profile").size() if len(nodes) else pd.Series(dtype=int)
    for name, count in counts.items():
        p = by_name[name]
        spare = int((nodes["node_profile"].eq(name) & nodes["role"].eq("failover")).sum())
        rows.add("target", f"nodes {name}", "hardware", count, "node", "", f"{p.cores} cores, "
                 f"{p.memory_mib / 1024:g} GiB each; {spare} of them failover; hardware per node-year",
                 unit_cost=p.price_per_year, source="given" if profiles_given else "default")
        rows.add("target", f"platform subscription {name} (per node)", "licences", count, "node",
                 "target_subscription_per_node_year", "subscription per node-year")
        rows.add("target", f"platform subscription {name} (per core)", "licences", count * p.cores, "core",
                 "target_subscription_per_core_year", "subscription per physical core-year")
    rows.add("target", "support", "support", 1, "year", "target_support_per_year",
             "target support per year")
    return _with_totals(pd.DataFrame(rows.rows, columns=COLUMNS), params.currency)


def _current(rows: _Rows, hosts: pd.DataFrame, params: Cost) -> None:
    known = hosts["sockets"].notna() & hosts["cores"].notna() & hosts["sockets"].gt(0)
    cores = float(licensed_cores(hosts[known], params.vmware_min_cores_per_socket).sum())
    physical = int(hosts.loc[known, "cores"].sum())
    rows.add("current", "VMware subscription", "licences", cores, "licensed core",
             "vmware_price_per_core_year",
             f"{int(known.sum())} hosts, {physical} physical cores; each socket licensed for at least "
             f"{params.vmware_min_cores_per_socket} cores")
    if (~known).any():
        rows.rows.append(("current", "hosts without socket/core counts", "licences", float((~known).sum()),
                          "host", np.nan, np.nan, params.currency, "not given",
                          "not licensed in this estimate (no socket/core counts): "
                          + ", ".join(hosts.loc[~known, "name"].astype(str))))
    rows.add("current", "hardware", "hardware", 1, "year", "current_hardware_per_year",
             "current hardware per year")
    rows.add("current", "support", "support", 1, "year", "current_support_per_year",
             "current support per year")


def _with_totals(table: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Append per-side totals (naming the items each omits) and the difference."""
    totals, omitted = {}, {}
    for side in ("current", "target"):
        rows = table[table["side"] == side]
        totals[side] = float(rows["annual_cost"].sum())
        omitted[side] = sorted(set(rows.loc[rows["annual_cost"].isna(), "item"]))
        note = "sum of the rows above" + (f"; omits {', '.join(omitted[side])} (not given)"
                                          if omitted[side] else "")
        table.loc[len(table)] = (side, "total", "total", 1.0, "year", totals[side], totals[side], currency,
                                 "computed", note)
    saving = totals["current"] - totals["target"]
    note = "positive: the target costs less per year"
    if omitted["current"] or omitted["target"]:
        gaps = "; ".join(f"{side} omits {', '.join(items)}" for side, items in omitted.items() if items)
        note += f"; not like for like: {gaps}"
    table.loc[len(table)] = ("difference", "current - target", "total", 1.0, "year", saving, saving, currency,
                             "computed", note)
    return table.astype({"side": "string", "item": "string", "kind": "string", "unit": "string",
                         "currency": "string", "input": "string", "assumption": "string"})
