"""Inventory charts, and the helper that embeds any matplotlib figure as inline SVG."""

from __future__ import annotations

import io

import matplotlib
import pandas as pd

from assess.model.derived import vm_os
from assess.plotting import Figure
from assess.report.depmap import WAVE_COLOURS

#: Colours readable in print and in dark mail clients (mid-tone, not pure black or white).
PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]
#: Narrowest transfer bar drawn, as a share of the calendar's span (so an hour stays visible).
MIN_TRANSFER_SHARE = 0.012


def figure_svg(fig: Figure) -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog, no external references).

    Text stays text (``svg.fonttype: none``): a third of the size of glyph outlines, searchable,
    and drawn in the reader's sans-serif font. The background is white for dark mail clients.
    """
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "assess"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", transparent=False, facecolor="white",
                    metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]


def vms_per_cluster_chart(vms: pd.DataFrame, top: int = 25) -> Figure:
    """Stacked bars: VMs per cluster by power state; beyond ``top`` clusters the rest are one bar."""
    cluster = vms["cluster"].fillna("(no cluster)")
    largest = cluster.value_counts().head(top).index
    rest = cluster.nunique() - len(largest)
    cluster = cluster.where(cluster.isin(largest), f"({rest} other clusters)")
    counts = (
        vms.assign(cluster=cluster, power_state=vms["power_state"].fillna("unknown"))
        .pivot_table(index="cluster", columns="power_state", values="vm_id", aggfunc="count",
                     fill_value=0)
        .sort_index()
    )
    fig = Figure(figsize=(7, 0.5 + 0.45 * max(len(counts), 2)))
    ax = fig.add_subplot()
    left = pd.Series(0, index=counts.index)
    for i, state in enumerate(counts.columns):
        ax.barh(counts.index.astype(str), counts[state], left=left, label=str(state),
                color=PALETTE[i % len(PALETTE)])
        left = left + counts[state]
    ax.set_xlabel("VMs")
    ax.set_title("VMs per cluster by power state")
    ax.legend(loc="lower right", fontsize="small")
    ax.invert_yaxis()
    return fig


def os_family_chart(vms: pd.DataFrame) -> Figure:
    """Bars: VMs per guest OS distribution, as readiness reads it (:func:`assess.model.derived.vm_os`)."""
    os = vm_os(vms)
    label = os["os_distro"].where(os["os_distro"].fillna("") != "", os["os_family"].str.capitalize())
    counts = label.value_counts().sort_values()
    fig = Figure(figsize=(7, 0.5 + 0.45 * max(len(counts), 2)))
    ax = fig.add_subplot()
    ax.barh(counts.index.astype(str), counts.values, color=PALETTE[0])
    for y, value in enumerate(counts.values):
        ax.text(value, y, f" {value}", va="center", fontsize="small")
    ax.set_xlabel("VMs")
    ax.set_title("VMs per guest OS")
    return fig


def node_fill_histogram(nodes: pd.DataFrame, ceiling: float = 0.8) -> Figure:
    """Workload nodes counted by CPU and memory fill (10-point bins): the node-fill chart at scale.

    Used instead of one bar per node when there are too many nodes to draw one by one.
    """
    workload = nodes[nodes["role"] == "workload"]
    bins = [i * 10 for i in range(11)]
    fig = Figure(figsize=(7, 3.5), layout="constrained")
    ax = fig.add_subplot()
    ax.hist([workload["cpu_fill"] * 100, workload["memory_fill"] * 100], bins=bins,
            color=PALETTE[:2], label=["CPU", "memory"])
    ax.axvline(ceiling * 100, color="#555555", linestyle="--", linewidth=1, label=f"ceiling {ceiling:.0%}")
    ax.set_xlabel("fill of allocatable, %")
    ax.set_ylabel("nodes")
    ax.set_title(f"Node fill of {len(workload)} workload nodes "
                 f"(+{len(nodes) - len(workload)} failover, empty)")
    ax.legend(fontsize=8)
    return fig


def wave_calendar(waves: pd.DataFrame) -> Figure:
    """One row per wave: its window (light bar) and the estimated transfer inside it (dark bar).

    A transfer of an hour in a 48-hour window is a hair on a calendar of weeks. The transfer bar
    is therefore drawn at least :data:`MIN_TRANSFER_SHARE` of the calendar wide, and the hours
    are written beside each row, so the figure is read, not guessed.
    Over-cap waves are outlined in red.
    """
    import matplotlib.dates as mdates

    w = waves.sort_values("wave").reset_index(drop=True)
    fig = Figure(figsize=(9, 0.9 + 0.42 * max(len(w), 2)), layout="constrained")
    ax = fig.add_subplot()
    start = mdates.date2num(w["start"].dt.tz_convert("UTC").dt.tz_localize(None))
    window = (w["end"] - w["start"]).dt.total_seconds().to_numpy() / 86400
    transfer = w["transfer_hours"].to_numpy(dtype=float) / 24
    span = max(float(start.max() + window.max() - start.min()), 1.0)
    shown = [min(max(t, MIN_TRANSFER_SHARE * span), win) if t > 0 else 0 for t, win in zip(transfer, window)]
    colours = [WAVE_COLOURS[int(n) % len(WAVE_COLOURS)] for n in w["wave"]]
    y = range(len(w))
    ax.barh(y, window, left=start, height=0.7, color=colours, alpha=0.3,
            edgecolor=["#c0392b" if not ok else "#555555" for ok in w["within_caps"]], linewidth=1)
    ax.barh(y, shown, left=start, height=0.7, color=colours)
    for i, row in w.iterrows():
        ax.text(start[i] + window[i], i, f"  {int(row['vms'])} VMs, {row['storage_tib']:.1f} TiB; transfer "
                f"{row['transfer_hours']:.1f} h of {window[i] * 24:.0f} h", va="center", fontsize=8)
    ax.set_yticks(list(y), [f"W{int(n)} {k}" for n, k in zip(w["wave"], w["kind"])], fontsize=8)
    ax.invert_yaxis()
    ax.xaxis_date()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.set_xlim(start.min() - 0.02 * span, start.min() + 1.5 * span)
    ax.set_xlabel("date (UTC)")
    ax.set_title("Wave calendar: migration window (light) and estimated transfer (dark)")
    return fig
