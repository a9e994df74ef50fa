"""Pictures of the plan: the programme by week and cluster, the wave calendar, the move groups."""

from __future__ import annotations

import matplotlib.dates as mdates
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm, Normalize
from matplotlib.ticker import FuncFormatter, NullFormatter

from assess.plotting import Figure
from assess.waves.periods import naive_utc

KIND_COLOURS = {"shared-services": "#76b7b2", "pilot": "#59a14f", "dev/test": "#4e79a7",
                "production": "#f28e2b", "standard": "#9c755f"}


#: Source clusters drawn as their own row of the programme chart (most VMs); the rest share one row.
TOP_CLUSTERS = 20
#: Column widths of the programme chart, finest first, with the most columns each may give.
CHART_BINS = (("W-SUN", 104, "week"), ("M", 120, "month"), ("Q", 160, "quarter"), ("Y", None, "year"))
#: Colour of the cluster-empty ticks: red stands out on every shade of the heat map.
EMPTY_MARK = "#e15759"
#: Longest cluster name drawn whole; longer ones are cut with an ellipsis.
NAME_CHARS = 32


def _moved(wave_plan: pd.DataFrame, vms: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """Wave number and source cluster (``(none)`` when unknown) of every VM in a wave."""
    planned = wave_plan[wave_plan["wave"].notna()]
    cluster = planned["vm_id"].map(vms.set_index("vm_id")["cluster"]).astype("string").fillna("(none)")
    return planned["wave"].to_numpy(dtype="int64"), cluster


def vms_by_period_and_cluster(wave_plan: pd.DataFrame, waves: pd.DataFrame, vms: pd.DataFrame,
                              top: int = TOP_CLUSTERS) -> tuple[pd.DataFrame, str]:
    """VMs moved per source cluster (rows) and period (columns, ``pd.Period``), and the period name.

    Every VM in a wave is counted once, in the period its wave's window opens: the cells sum to
    the planned VMs. Periods are weeks (Monday to Sunday) while the programme spans at most two
    years of them, then months, quarters or years (:data:`CHART_BINS`), every period between
    the first and the last present so the columns are a time axis. Rows: the ``top`` clusters
    with most planned VMs, ordered by the period they start moving in (then by VMs), and one
    ``(N other clusters)`` row for the rest; VMs without a cluster count as ``(none)``.
    O(VMs + waves + rows x columns).
    """
    wave, cluster = _moved(wave_plan, vms)
    starts = naive_utc(waves.set_index("wave")["start"])
    starts = starts[starts.index.isin(np.unique(wave))]
    freq, name = next((f, n) for f, most, n in CHART_BINS
                      if most is None or len(pd.period_range(starts.min(), starts.max(), freq=f)) <= most)
    periods = pd.period_range(starts.min(), starts.max(), freq=freq)
    column = pd.Series(starts.dt.to_period(freq).array.asi8 - periods[0].ordinal, index=starts.index)
    sizes = cluster.value_counts()
    largest = list(sizes.index[:top if len(sizes) > top + 1 else top + 1])  # never a row of one "other"
    rest = len(sizes) - len(largest)
    rows = largest + ([f"({rest} other clusters)"] if rest else [])
    label = cluster.where(cluster.isin(largest), rows[-1])
    row = pd.Categorical(label, categories=rows).codes.astype("int64")
    cells = np.bincount(row * len(periods) + column.reindex(wave).to_numpy(),
                        minlength=len(rows) * len(periods))
    counts = pd.DataFrame(cells.reshape(len(rows), len(periods)), index=rows, columns=periods)
    order = sorted(largest, key=lambda c: (int(np.argmax(counts.loc[c].to_numpy() > 0)), -sizes[c], c))
    return counts.reindex(order + rows[len(largest):]), name


def programme_chart(wave_plan: pd.DataFrame, waves: pd.DataFrame, vms: pd.DataFrame, timeline: pd.DataFrame,
                    top: int = TOP_CLUSTERS) -> Figure:
    """Gantt-style heat map of the whole programme: VMs moved per week (x) and source cluster (y).

    Readable at any size: every wave is in it (cells from :func:`vms_by_period_and_cluster`,
    bounded to ``top`` + 1 rows and a few hundred columns), darker cells move more VMs (log
    scale), a red tick marks the date each cluster is empty (``timeline`` rows of kind
    ``cluster empty``; the other clusters' dates on their shared row), and the right axis states
    that date, or that the cluster waits on remediate-first VMs. Names are drawn as written.
    """
    counts, name = vms_by_period_and_cluster(wave_plan, waves, vms, top)
    rows = len(counts)
    fig = Figure(figsize=(10, 1.6 + 0.32 * max(rows, 3)), layout="constrained")
    ax = fig.add_subplot()
    edges = [mdates.date2num(p.start_time) for p in counts.columns]
    edges.append(mdates.date2num(counts.columns[-1].end_time))
    cells = np.ma.masked_equal(counts.to_numpy(dtype=float), 0)
    peak = float(cells.max()) if cells.count() else 1.0
    norm = LogNorm(vmin=1, vmax=peak) if peak > 1 else Normalize(vmin=0, vmax=1)
    image = ax.imshow(cells, aspect="auto", interpolation="none", cmap="viridis_r", norm=norm,
                      extent=(edges[0], edges[-1], rows, 0))
    ax.set_yticks(np.arange(rows) + 0.5, [_short(c) for c in counts.index], fontsize=8)
    _empty_marks(ax, counts.index, set(_moved(wave_plan, vms)[1]), timeline)
    ax.xaxis_date()
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    emptied = naive_utc(timeline.loc[timeline["kind"] == "cluster empty", "end"].dropna())
    right = max(edges[-1], mdates.date2num(emptied.max()) if len(emptied) else edges[-1])
    ax.set_xlim(edges[0], right + 0.01 * (right - edges[0]))  # a tick on the last day stays in view
    ax.set_ylim(rows, 0)
    ax.grid(axis="y", color="#dddddd", linewidth=0.5)
    ax.set_xlabel(f"{name} the wave's window opens (UTC); red tick: the cluster is empty")
    bar = fig.colorbar(image, ax=ax, pad=0.01, label=f"VMs moved per {name}", ticks=_count_ticks(peak))
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    bar.ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_title(f"VMs moved per {name} and source cluster: all {len(waves):,} waves, "
                 f"{int(counts.to_numpy().sum()):,} VMs")
    return fig


def _count_ticks(peak: float) -> list[float]:
    """Colour-bar ticks written as plain numbers: 1, 2, 5, 10 ... up to ``peak`` (decades when many)."""
    decades = range(int(np.log10(max(peak, 1))) + 1)
    ticks = [m * 10**e for e in decades for m in (1, 2, 5) if m * 10**e <= peak]
    return ticks if len(ticks) <= 7 else [t for t in ticks if str(int(t)).startswith("1")]


def _short(text: str) -> str:
    return text if len(text) <= NAME_CHARS else text[:NAME_CHARS - 1] + "\u2026"


def _empty_marks(ax, rows: pd.Index, moved: set, timeline: pd.DataFrame) -> None:
    """A red tick at each cluster's empty date on its row, and that date on the right axis.

    A cluster that moves VMs has no date only while some of its VMs wait in remediate-first.
    """
    empty = timeline[timeline["kind"] == "cluster empty"].set_index("item")["end"]
    rest = sorted(moved - set(rows))
    right = []
    for y, row in enumerate(rows):
        ends = empty.reindex(rest if row not in moved else [row])
        known = naive_utc(ends.dropna())
        if len(known):
            ax.scatter(mdates.date2num(known), np.full(len(known), y + 0.5), marker="|", s=90,
                       color=EMPTY_MARK, linewidths=2, zorder=3)
        waiting = int(ends.isna().sum())
        if row in moved:
            right.append("waits on remediation" if waiting else f"empty {known.max():%d %b %Y}")
        else:
            right.append(f"{waiting} wait on remediation" if waiting
                         else f"all empty by {known.max():%d %b %Y}")
    twin = ax.twinx()
    twin.set_ylim(len(rows), 0)
    twin.set_yticks(np.arange(len(rows)) + 0.5, right, fontsize=7, color="#555555")


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


def dependency_map(wave_plan: pd.DataFrame, move_groups: pd.DataFrame, group_links: pd.DataFrame,
                   max_groups: int = 40, seed: int = 0) -> Figure:
    """Named move groups joined by their links (width ~ weight, top port on the heaviest), coloured by wave.

    Readable at any estate size: the ``max_groups`` groups with the heaviest links are drawn
    (shared services included), the rest counted in the title; waves get a discrete legend.
    Names are drawn as written (:mod:`assess.plotting` turns mathtext off).
    """
    fig = Figure(figsize=(9, 7))
    ax = fig.add_subplot()
    ax.set_axis_off()
    if group_links.empty:
        ax.text(0.5, 0.5, "no links between move groups", ha="center", va="center", transform=ax.transAxes)
        return fig
    strength = pd.concat([group_links.set_index("group")["weight"],
                          group_links.set_index("other_group")["weight"]])
    top = strength.groupby(level=0).sum().sort_values(ascending=False).head(max_groups).index
    links = group_links[group_links["group"].isin(top) & group_links["other_group"].isin(top)]
    G = nx.Graph()
    G.add_nodes_from(top)
    G.add_weighted_edges_from(links[["group", "other_group", "weight"]].itertuples(index=False))
    pos = nx.spring_layout(G, seed=seed, weight=None)
    heaviest = float(links["weight"].max()) if len(links) else 1.0
    for a, b, w, ports in links[["group", "other_group", "weight", "ports"]].itertuples(index=False):
        ax.plot([pos[a][0], pos[b][0]], [pos[a][1], pos[b][1]], color="#888888", zorder=1,
                linewidth=0.5 + 4 * w / heaviest)
        if w >= 0.5 * heaviest and isinstance(ports, str):
            ax.text((pos[a][0] + pos[b][0]) / 2, (pos[a][1] + pos[b][1]) / 2, ports.split(",")[0], fontsize=6,
                    color="#555555", ha="center")
    wave = wave_plan.dropna(subset=["wave"]).groupby("group")["wave"].min()
    size = wave_plan.groupby("group").size()
    name = move_groups.dropna(subset=["group"]).drop_duplicates("group").set_index("group")["group_name"]
    waves = sorted({int(wave[g]) for g in G if g in wave.index})
    colours = {w: f"C{i % 10}" for i, w in enumerate(waves)}
    for n in G:
        c = colours.get(int(wave[n]), "#bab0ac") if n in wave.index else "#bab0ac"
        ax.scatter(*pos[n], s=40 + 20 * float(size.get(n, 1)), color=c, edgecolors="white", zorder=2)
        ax.text(pos[n][0], pos[n][1], str(name.get(n, n)), fontsize=6, ha="center", va="center", zorder=3)
    handles = [ax.scatter([], [], color=colours[w], label=f"wave {w}") for w in waves]
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize="small", ncols=max(1, len(handles) // 8))
    left = int(move_groups["group"].nunique()) - len(G)
    ax.set_title("Move groups and their dependencies (width ~ traffic)"
                 + (f"; {left} less-linked groups not drawn" if left > 0 else ""))
    return fig
