"""Charts of the sizing results (matplotlib ``Figure`` objects, no pyplot state)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assess.plotting import Figure


def node_fill_figure(nodes: pd.DataFrame, ceiling: float = 0.8) -> Figure:
    """Bar chart of CPU and memory fill per node, with the target utilisation ceiling.

    Args:
        nodes: the ``nodes`` table of :func:`assess.sizing.size_estate`.
        ceiling: target utilisation drawn as a line (the packing's fill ceiling).
    """
    fig = Figure(figsize=(max(6.0, 0.12 * len(nodes) + 2), 3.5), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(nodes))
    ax.bar(x - 0.2, nodes["cpu_fill"] * 100, width=0.4, label="CPU (cores after overcommit)")
    ax.bar(x + 0.2, nodes["memory_fill"] * 100, width=0.4, label="memory (pods incl. overhead)")
    ax.axhline(ceiling * 100, color="black", linestyle="--", linewidth=1, label=f"ceiling {ceiling:.0%}")
    spare = np.flatnonzero(nodes["role"].eq("failover").to_numpy()) if len(nodes) else []
    for i in spare:
        ax.axvspan(i - 0.5, i + 0.5, color="grey", alpha=0.15)
    ax.set_xticks(x, nodes["node"] if len(nodes) <= 40 else [""] * len(nodes), rotation=90, fontsize=7)
    ax.set_ylabel("fill of allocatable, %")
    ax.set_ylim(0, 100)
    ax.set_title(f"Node fill: {len(nodes) - len(spare)} workload + {len(spare)} failover (shaded)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the bars, never over them
    return fig
