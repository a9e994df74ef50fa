"""Readiness charts: verdict breakdown and the concerns affecting most VMs."""

from __future__ import annotations

import pandas as pd

from assess.plotting import Figure
from assess.readiness.stage import VERDICTS

VERDICT_COLOURS = {"ready": "#59a14f", "ready_with_warnings": "#edc948", "not_ready": "#e15759",
                   "unknown": "#bab0ac", "excluded": "#76b7b2"}
CATEGORY_COLOURS = {"Critical": "#e15759", "Warning": "#f28e2b", "Information": "#4e79a7"}


def readiness_chart(readiness: pd.DataFrame, concern_summary: pd.DataFrame, top: int = 10) -> Figure:
    """Two panels: VMs per verdict, and the ``top`` fired concerns, most severe first, then by VMs affected.

    Severity comes first so that a Critical concern on two VMs is not hidden behind Information
    notes that touch every VM (DRS and HA settings).
    """
    counts = readiness["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0)
    fired = concern_summary[concern_summary["status"] == "fired"].assign(
        severity=lambda f: f["category"].map({c: i for i, c in enumerate(CATEGORY_COLOURS)}).fillna(9)
    )
    fired = fired.sort_values(["severity", "vm_count", "rule_id"], ascending=[True, False, True],
                              kind="stable").head(top)  # the order of the report's top-concerns table
    fig = Figure(figsize=(11, 0.8 + 0.42 * max(len(fired), len(VERDICTS))))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
    bars = left.barh(list(counts.index), counts.to_numpy(),
                     color=[VERDICT_COLOURS[v] for v in counts.index])
    left.bar_label(bars, padding=2, fontsize="small")
    left.invert_yaxis()
    left.set_xlabel("VMs")
    left.set_title(f"Readiness of {len(readiness)} VMs")
    if fired.empty:
        right.text(0.5, 0.5, "no concerns fired", ha="center", va="center")
        right.set_axis_off()
    else:
        labels = fired["label"].str.slice(0, 45)
        bars = right.barh(labels, fired["vm_count"].astype(int),
                          color=[CATEGORY_COLOURS.get(c, "#9c755f") for c in fired["category"]])
        right.bar_label(bars, padding=2, fontsize="small")
        right.invert_yaxis()
        right.set_xlabel("VMs affected")
        right.set_title(f"Top {len(fired)} concerns, most severe first\n"
                        "(red Critical, orange Warning, blue Information)")
    fig.tight_layout()
    return fig
