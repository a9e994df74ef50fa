"""What a run remembers about the estate, and what changed between two runs.

A snapshot is a small set of tables cut from a run's estate and results: one row per VM with
the facts people track (name, size, readiness, wave), the VM-to-VM dependencies, and the
headline figures. :func:`diff_snapshots` compares two of them.
"""

from __future__ import annotations

import pandas as pd

from assess.model.derived import vm_storage
from assess.run import Run

VM_STATE_COLUMNS = {
    "vm_id": "string",
    "name": "string",
    "vcpus": "Int64",
    "memory_mib": "float64",
    "disk_mib": "float64",
    "verdict": "string",
    "wave": "Int64",
}


def snapshot(run: Run) -> dict[str, pd.DataFrame]:
    """Cut the tables a run keeps in the history store: ``vm_state``, ``dependencies``, ``figures``."""
    estate = run.estate
    vms = estate["vms"]
    state = pd.DataFrame(
        {
            "vm_id": vms["vm_id"],
            "name": vms["name"],
            "vcpus": vms["vcpus"],
            "memory_mib": vms["memory_mib"],
            "disk_mib": vm_storage(estate)["disk_gib"].to_numpy() * 1024,  # with vm_storage's fallback
        }
    )
    for column, table in (("verdict", "readiness"), ("wave", "wave_plan")):
        found = run.has_table(table)
        state[column] = vms["vm_id"].map(run.table(table).set_index("vm_id")[column]) if found else None
    state = state.astype(VM_STATE_COLUMNS)

    flows = estate["flows"]
    deps = flows.loc[flows["src_vm"].fillna(False) & flows["dst_vm"].fillna(False), ["src", "dst"]]
    deps = deps.drop_duplicates().reset_index(drop=True).astype("string")

    figures = {"vms": len(vms)}
    for result in run.results.values():
        figures.update({k: v for k, v in result.summary.items() if isinstance(v, int | float)})
    fig = pd.DataFrame({"figure": list(figures), "value": [float(v) for v in figures.values()]})
    return {"vm_state": state, "dependencies": deps, "figures": fig.astype({"figure": "string"})}


def diff_snapshots(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Changes from ``before`` to ``after``, one row each: ``change, vm_id, name, detail``.

    Changes: ``added``, ``removed``, ``renamed``, ``resized`` (vCPU, memory or disk),
    ``readiness_changed``, ``wave_changed``, ``dependency_added``, ``dependency_removed``
    (with the waves it touches), and ``figure_changed`` (e.g. nodes, waves).
    """
    old = before["vm_state"].set_index("vm_id")
    new = after["vm_state"].set_index("vm_id")
    rows: list[dict] = []
    for vm_id in new.index.difference(old.index):
        rows.append(_row("added", vm_id, new.at[vm_id, "name"], ""))
    for vm_id in old.index.difference(new.index):
        rows.append(_row("removed", vm_id, old.at[vm_id, "name"], ""))
    common = new.index.intersection(old.index)
    o, n = old.loc[common], new.loc[common]
    for vm_id in common[_differs(o["name"], n["name"])]:
        rows.append(
            _row("renamed", vm_id, n.at[vm_id, "name"], f"{o.at[vm_id, 'name']} -> {n.at[vm_id, 'name']}")
        )
    sizes = [("vcpus", "vCPU"), ("memory_mib", "memory GiB"), ("disk_mib", "disk GiB")]
    resized = pd.concat([_differs(o[c], n[c]) for c, _ in sizes], axis=1).any(axis=1)
    for vm_id in common[resized.to_numpy()]:
        detail = "; ".join(
            f"{label} {_fmt(o.at[vm_id, c], c)} -> {_fmt(n.at[vm_id, c], c)}"
            for c, label in sizes
            if _differs(o[c], n[c]).at[vm_id]
        )
        rows.append(_row("resized", vm_id, n.at[vm_id, "name"], detail))
    for column, change in (("verdict", "readiness_changed"), ("wave", "wave_changed")):
        for vm_id in common[_differs(o[column], n[column])]:
            detail = f"{_fmt(o.at[vm_id, column])} -> {_fmt(n.at[vm_id, column])}"
            rows.append(_row(change, vm_id, n.at[vm_id, "name"], detail))
    rows += _dependency_changes(before["dependencies"], after["dependencies"], new)
    rows += _figure_changes(before["figures"], after["figures"])
    return pd.DataFrame(rows, columns=["change", "vm_id", "name", "detail"]).astype("string")


def _row(change: str, vm_id, name, detail: str) -> dict:
    return {"change": change, "vm_id": vm_id, "name": name, "detail": detail}


def _differs(a: pd.Series, b: pd.Series) -> pd.Series:
    """Element-wise 'not equal', treating two nulls as equal."""
    both_null = a.isna() & b.isna()
    return (~both_null & (a.isna() | b.isna() | (a.astype(object) != b.astype(object)))).astype(bool)


def _fmt(value, column: str = "") -> str:
    """A value as people read it: MiB as GiB, thousands separated, no exponent; ``none`` when null."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return "none"
    if column.endswith("_mib"):
        return f"{float(value) / 1024:,.1f}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() or abs(value) >= 100 else f"{value:,.3g}"
    return str(value)


def _dependency_changes(old: pd.DataFrame, new: pd.DataFrame, state: pd.DataFrame) -> list[dict]:
    old_pairs = set(zip(old["src"], old["dst"]))
    new_pairs = set(zip(new["src"], new["dst"]))
    names = state["name"]
    waves = state["wave"]
    rows = []
    for change, pairs in (
        ("dependency_added", new_pairs - old_pairs),
        ("dependency_removed", old_pairs - new_pairs),
    ):
        for src, dst in sorted(pairs):
            touched = sorted({_fmt(waves.get(v)) for v in (src, dst) if v in waves.index} - {"none"})
            where = f"; waves affected: {', '.join(touched)}" if touched else ""
            detail = f"{names.get(src, src)} -> {names.get(dst, dst)}{where}"
            rows.append(_row(change, src, names.get(src, src), detail))
    return rows


def _figure_changes(old: pd.DataFrame, new: pd.DataFrame) -> list[dict]:
    before = dict(zip(old["figure"], old["value"]))
    rows = []
    for figure, value in zip(new["figure"], new["value"]):
        if figure in before and before[figure] != value:
            rows.append(
                _row("figure_changed", pd.NA, pd.NA, f"{figure} {_fmt(before[figure])} -> {_fmt(value)}")
            )
    return rows
