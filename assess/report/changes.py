""""Since the last run" as a summary: counts by kind, the most important changes, the rest in a CSV.

A scheduled run over a changing estate can record a thousand changes; listed inline they bury
the few that matter (a VM that became not ready, one that left its wave). The report shows the
counts by kind and the :data:`TOP_CHANGES` most important rows (ranked by :data:`IMPORTANCE`);
``changes.csv`` beside the report holds every row, by VM name.
"""

from __future__ import annotations

import pandas as pd

#: How much a kind of change matters to the plan, most first.
IMPORTANCE = ["readiness_changed", "removed", "added", "wave_changed", "dependency_added", "resized",
              "dependency_removed", "renamed", "figure_changed"]
#: What each kind of change is called in the report.
KIND_WORDS = {"readiness_changed": "readiness changed", "removed": "VM removed", "added": "VM added",
              "wave_changed": "moved to another wave", "dependency_added": "new dependency",
              "resized": "resized", "dependency_removed": "dependency gone", "renamed": "renamed",
              "figure_changed": "headline figure changed"}
TOP_CHANGES = 20
#: Headline figures whose change leads the list (the plan's size); other figures rank last.
KEY_FIGURES = ("vms", "workload_nodes", "failover_nodes", "placed", "waves", "cost_target_per_year")


def change_counts(changes: pd.DataFrame) -> pd.DataFrame:
    """``kind, changes``: one row per kind of change, most important kind first."""
    counts = changes["change"].value_counts()
    order = [k for k in IMPORTANCE if k in counts.index] + sorted(set(counts.index) - set(IMPORTANCE))
    return pd.DataFrame({"kind": [KIND_WORDS.get(k, k) for k in order],
                         "changes": [int(counts[k]) for k in order]})


def top_changes(changes: pd.DataFrame, top: int = TOP_CHANGES) -> pd.DataFrame:
    """The ``top`` most important changes: ``change, name, detail`` (kind in words, VM by name).

    A change of a :data:`KEY_FIGURES` figure (nodes, waves, cost) comes first; a VM that became
    ``not_ready`` ranks first among readiness changes; ties go by name.
    """
    rank = changes["change"].map({k: i for i, k in enumerate(IMPORTANCE)}).fillna(len(IMPORTANCE))
    figure = changes["detail"].fillna("").str.split(" ").str[0]
    rank = rank.mask((changes["change"] == "figure_changed") & figure.isin(KEY_FIGURES), -1)
    worse = changes["detail"].fillna("").str.contains("-> not_ready", regex=False)
    ordered = changes.assign(_r=rank, _w=~worse, _n=changes["name"].fillna("")).sort_values(
        ["_r", "_w", "_n"], kind="stable")
    out = ordered.head(top)[["change", "name", "detail"]].copy()
    out["change"] = out["change"].map(lambda k: KIND_WORDS.get(k, k))
    return out.fillna("").reset_index(drop=True)

