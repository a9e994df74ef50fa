"""Target shape per VM: the cheapest honest instancetype, or explicit (custom) resources.

An instancetype is a fixed vCPU/memory pair, so rounding a right-sized VM up to one can hand
the guest far more than it needs (a 4 vCPU / 2 GiB VM becomes u1.xlarge, 16 GiB) or more vCPUs
than it has today (which multiplies per-core licences inside the guest). For each VM the
candidates are the instancetypes of its allowed series that hold its demand without more
vCPUs than its ceiling (the allocation, unless measured demand is higher); the cheapest in
node capacity wins. When none qualifies, or the winner overshoots the memory demand by more
than the limit, the VM gets ``shape == "custom"``: explicit ``domain.cpu`` / ``domain.memory``
of exactly its demand (a VirtualMachine without an instancetype).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SHAPE_COLUMNS = ["vm_id", "shape", "instancetype", "series", "guest_vcpus", "guest_memory_mib",
                 "memory_overshoot_pct", "instancetype_reason"]


def capacity_cost(table: pd.DataFrame, node_cores: float, node_memory_mib: float, cpu_overcommit: float
                  ) -> np.ndarray:
    """Share of one node each instancetype takes: CPU share plus memory share.

    CPU: dedicated CPUs take whole cores, others ``vcpus / cpu_overcommit``; memory: the pod's
    request (guest memory less the series' overcommit percent).
    """
    vcpus = table["vcpus"].to_numpy(dtype=float)
    cores = np.where(table["dedicated_cpu"].to_numpy(dtype=bool), vcpus, vcpus / cpu_overcommit)
    memory = table["memory_mib"].to_numpy(dtype=float) * (
        1 - table["memory_overcommit_percent"].to_numpy(dtype=float) / 100)
    return cores / node_cores + memory / node_memory_mib


def choose_shapes(demand: pd.DataFrame, table: pd.DataFrame, cost: np.ndarray, max_overshoot_pct: float
                  ) -> pd.DataFrame:
    """The target shape of each VM.

    Args:
        demand: per VM ``vm_id``, ``vcpus`` and ``memory_mib`` (what the guest needs),
            ``max_vcpus`` (most guest vCPUs allowed) and ``series`` (allowed series, space
            separated, in order of preference for equal cost).
        table: instancetype table (:func:`assess.sizing.instancetypes.load_instancetypes`).
        cost: node capacity cost of each row of ``table`` (:func:`capacity_cost`).
        max_overshoot_pct: largest memory overshoot (guest memory over demand, %) accepted
            from an instancetype before the VM gets a custom shape.

    Returns:
        :data:`SHAPE_COLUMNS`, one row per row of ``demand``; ``instancetype`` and ``series`` are
        empty for a custom shape, whose guest size is the demand rounded up to whole vCPUs/MiB.
    """
    order = table.assign(_cost=cost, _gi=table["hugepages"].eq("1Gi")).sort_values(
        ["_cost", "memory_mib", "vcpus", "_gi", "name"], kind="stable")
    vcpus = demand["vcpus"].to_numpy(dtype=float)
    memory = demand["memory_mib"].to_numpy(dtype=float)
    ceiling = np.maximum(demand["max_vcpus"].to_numpy(dtype=float), vcpus)
    n = len(demand)
    name = np.full(n, None, dtype=object)
    it_vcpus, it_memory = np.full(n, np.nan), np.full(n, np.nan)
    allowed = demand["series"].astype(str).to_numpy()
    for series in pd.unique(allowed):
        rows = np.flatnonzero(allowed == series)
        group = order[order["series"].isin(series.split())]
        gv, gm = group["vcpus"].to_numpy(dtype=float), group["memory_mib"].to_numpy(dtype=float)
        fits = (gv[None, :] >= vcpus[rows, None] - 1e-9) & (gm[None, :] >= memory[rows, None] - 1e-9) & (
            gv[None, :] <= ceiling[rows, None] + 1e-9)
        found = fits.any(axis=1)
        pick = fits.argmax(axis=1)
        name[rows[found]] = group["name"].to_numpy()[pick[found]]
        it_vcpus[rows[found]], it_memory[rows[found]] = gv[pick[found]], gm[pick[found]]
    overshoot = (it_memory - memory) / np.maximum(memory, 1.0) * 100
    custom = np.isnan(it_memory) | (overshoot > max_overshoot_pct + 1e-9)
    reason = _reasons(demand, name, it_vcpus, it_memory, overshoot, custom, ceiling, max_overshoot_pct)
    guest_v = np.where(custom, np.ceil(vcpus - 1e-9), it_vcpus)
    guest_m = np.where(custom, np.ceil(memory - 1e-9), it_memory)
    out = pd.DataFrame({
        "vm_id": demand["vm_id"].to_numpy(),
        "shape": np.where(custom, "custom", "instancetype"),
        "instancetype": pd.array(np.where(custom, None, name), dtype="string"),
        "series": pd.array([None if c else str(x).split(".")[0] for c, x in zip(custom, name)],
                           dtype="string"),
        "guest_vcpus": guest_v,
        "guest_memory_mib": guest_m,
        "memory_overshoot_pct": np.round((guest_m - memory) / np.maximum(memory, 1.0) * 100, 1),
        "instancetype_reason": pd.array(reason, dtype="string"),
    })
    return out.astype({"shape": "string"})


def _reasons(demand, name, it_vcpus, it_memory, overshoot, custom, ceiling, limit) -> list[str]:
    out = []
    for k, series in enumerate(demand["series"].astype(str)):
        tried = ", ".join(series.split())
        if not custom[k]:
            out.append(f"{name[k]}: cheapest of {tried} holding the demand "
                       f"(memory overshoot {overshoot[k]:.0f}%)")
        elif name[k] is None:
            out.append(f"custom: no instancetype of {tried} holds {demand['vcpus'].iat[k]:g} vCPU / "
                       f"{demand['memory_mib'].iat[k]:.0f} MiB with at most {ceiling[k]:g} vCPU")
        else:
            out.append(f"custom: cheapest instancetype {name[k]} ({it_vcpus[k]:g} vCPU, "
                       f"{it_memory[k] / 1024:g} GiB) would overshoot memory by {overshoot[k]:.0f}% "
                       f"(limit {limit:g}%)")
    return out
