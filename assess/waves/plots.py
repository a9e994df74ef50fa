"""Pictures of the plan: the wave calendar (Gantt chart) and the move groups with their links."""

from __future__ import annotations

import matplotlib.dates as mdates
import networkx as nx
import numpy as np
import pandas as pd

from assess.plotting import Figure

KIND_COLOURS = {"shared-services": "#76b7b2", "pilot": "#59a14f", "dev/test": "#4e79a7",
                "production": "#f28e2b", "standard": "#9c755f"}


def wave_gantt(waves: pd.DataFrame) -> Figure:
    """Gantt chart: one bar per wave over its window, the estimated transfer drawn inside it.

    Over-cap waves (``within_caps`` False) are outlined in red.
    """
    fig = Figure(figsize=(8, 0.6 + 0.35 * max(len(waves), 2)))
    ax = fig.add_subplot()
    if waves.empty:
        ax.text(0.5, 0.5, "no waves planned", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    w = waves.sort_values("wave").reset_index(drop=True)
    start = mdates.date2num(w["start"].dt.tz_convert(None))
    window = (w["end"] - w["start"]).dt.total_seconds().to_numpy() / 86400
    transfer = w["transfer_hours"].to_numpy(dtype=float) / 24
    colours = [KIND_COLOURS.get(k, "#bab0ac") for k in w["kind"]]
    edges = ["#e15759" if not ok else "none" for ok in w["within_caps"]]
    y = np.arange(len(w))
    ax.barh(y, window, left=start, height=0.7, color=colours, alpha=0.35, edgecolor=edges, linewidth=1.5)
    ax.barh(y, transfer, left=start, height=0.35, color=colours)
    ax.set_yticks(y, [f"W{int(n)} {k} ({v} VMs)" for n, k, v in zip(w["wave"], w["kind"], w["vms"])],
                  fontsize="small")
    ax.invert_yaxis()
    ax.xaxis_date()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    fig.autofmt_xdate()
    ax.set_title("Wave calendar: window (light) and estimated transfer (dark)")
    return fig


def move_group_figure(wave_plan: pd.DataFrame, flows: pd.DataFrame, max_groups: int = 40,
                      seed: int = 0) -> Figure:
    """Move groups as circles (area ~ VMs, colour = wave) joined by the flows between them.

    Shows the ``max_groups`` largest groups; shared services and unplanned VMs are left
    out. Layout: spring layout with a fixed ``seed``.
    """
    planned = wave_plan[wave_plan["wave"].notna() & (wave_plan["bucket"] != "shared-services")]
    sizes = planned.groupby("group").size().sort_values(ascending=False).head(max_groups)
    wave = planned.groupby("group")["wave"].min()
    group = planned.set_index("vm_id")["group"]
    f = pd.DataFrame({"a": flows["src"].map(group), "b": flows["dst"].map(group),
                      "w": flows["bytes"].fillna(flows["connections"]).astype(float)}).dropna()
    f = f[(f["a"] != f["b"]) & f["a"].isin(sizes.index) & f["b"].isin(sizes.index)]
    G = nx.Graph()
    G.add_nodes_from(sizes.index)
    for (a, b), w in f.groupby(["a", "b"])["w"].sum().items():
        G.add_edge(a, b, weight=G.edges[a, b]["weight"] + w if G.has_edge(a, b) else w)
    fig = Figure(figsize=(8, 6))
    ax = fig.add_subplot()
    ax.set_axis_off()
    if not len(G):
        ax.text(0.5, 0.5, "no move groups in waves", ha="center", va="center", transform=ax.transAxes)
        return fig
    pos = nx.spring_layout(G, seed=seed, weight=None)
    top = max((d["weight"] for _, _, d in G.edges(data=True)), default=1.0)
    for a, b, d in G.edges(data=True):
        ax.plot([pos[a][0], pos[b][0]], [pos[a][1], pos[b][1]], color="#888888",
                linewidth=0.5 + 3 * d["weight"] / top, zorder=1)
    xy = np.array([pos[n] for n in G])
    points = ax.scatter(xy[:, 0], xy[:, 1], s=[40 + 25 * sizes[n] for n in G],
                        c=[wave[n] for n in G], cmap="viridis", edgecolors="white", zorder=2)
    for n, (x, yv) in zip(G, xy):
        ax.annotate(str(n), (x, yv), fontsize=6, ha="center", va="center", zorder=3)
    fig.colorbar(points, ax=ax, label="wave")
    left = planned["group"].nunique() - len(sizes)
    ax.set_title("Move groups (circle area ~ VMs) and the traffic between them"
                 + (f"; {left} smaller groups not drawn" if left > 0 else ""))
    return fig
