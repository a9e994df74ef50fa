"""The dependency map: move groups as named rows, the links between them as arcs, coloured by wave.

Why this drawing: a force layout of hundreds of groups is a hairball whose labels overlap, and
at 5,000 VMs it can only show a few dozen circles with no edges. Here each group drawn is one
row of readable text (its wave, name and size), and each link an arc on the right whose width
is its traffic; an arc between two waves is drawn in red, so cross-wave dependencies stand
out. Only the strongest ``top_links`` links and their groups are drawn; the caption says how
many there are in all, and the full list is the ``group_links`` table. The picture is plain
SVG written here, with every estate string escaped and a ``<title>`` (hover text) on each arc
naming both groups, the traffic and the ports: no script, nothing fetched.
"""

from __future__ import annotations

import os

import pandas as pd
from markupsafe import Markup, escape

#: Discrete wave colours (Tableau 10): wave ``n`` gets ``WAVE_COLOURS[n % 10]``.
WAVE_COLOURS = ["#76b7b2", "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#9c755f",
                "#ff9da7", "#e15759", "#bab0ac"]
HELD_COLOUR = "#d0d4da"
CROSS_WAVE = "#c0392b"
SAME_WAVE = "#7f8a99"
TO_SHARED = "#4e79a7"
ROW = 22
LABEL_WIDTH = 340
#: Characters of a group's name drawn (the hover text has it whole).
NAME_CHARS = 28
TOP = 58


class SvgMarkup(Markup):
    """Inline SVG that Jinja2 embeds as is and Jupyter draws as a picture (``_repr_svg_``)."""

    def _repr_svg_(self) -> str:
        return str(self)


def group_labels(plan: pd.DataFrame) -> pd.Series:
    """A readable name per group: ``group_name`` when the plan has it, else the VMs' common prefix.

    ``assets2-app-01, assets2-db-02`` gives ``assets2``; a group whose VM names share no
    prefix of three characters or more is named after its first VM (``web01 +2``).
    """
    if "group_name" in plan.columns and plan["group_name"].notna().any():
        named = plan.dropna(subset=["group_name"]).groupby("group")["group_name"].first()
        ids = plan.groupby("group")["group"].first()
        return ids.map(named).fillna(ids)

    def label(names: pd.Series) -> str:
        names = sorted(names.dropna().astype(str))
        if not names:
            return ""
        prefix = os.path.commonprefix(names).rstrip("-_.0123456789")
        if len(names) > 1 and len(prefix) >= 3:
            return prefix
        return names[0] + (f" +{len(names) - 1}" if len(names) > 1 else "")

    return plan.groupby("group")["name"].agg(label)


#: The one row that stands for every shared-services group.
SHARED = "shared services"


def _groups(plan: pd.DataFrame) -> pd.DataFrame:
    """Per group: wave (None when held), bucket, VMs and label; the shared services are one row.

    A label two groups share gets the group id, so no two rows read the same.
    """
    plan = plan.assign(group=_shared_as_one(plan))
    g = plan.groupby("group").agg(wave=("wave", "min"), bucket=("bucket", "first"), vms=("vm_id", "size"))
    g["label"] = group_labels(plan)
    g.loc[g.index == SHARED, "label"] = SHARED
    twice = g["label"].duplicated(keep=False)
    g.loc[twice, "label"] = g.loc[twice, "label"] + " · " + g.index[twice].astype(str)
    return g


def _shared_as_one(plan: pd.DataFrame) -> pd.Series:
    return plan["group"].where(plan["bucket"] != "shared-services", SHARED)


def _merged_shared(plan: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """``links`` with every shared-services group renamed :data:`SHARED` and links re-summed."""
    rename = dict(zip(plan["group"], _shared_as_one(plan)))
    a, b = links["group"].map(rename).fillna(links["group"]), links["other_group"].map(rename).fillna(
        links["other_group"])
    merged = links.assign(group=a.where(a <= b, b), other_group=b.where(a <= b, a))
    merged = merged[merged["group"] != merged["other_group"]]
    return merged.groupby(["group", "other_group"], as_index=False).agg(
        weight=("weight", "sum"),
        ports=("ports", lambda p: ", ".join(sorted({x for v in p for x in str(v).split(", ") if x},
                                                   key=lambda x: (len(x), x)))))


def _selected(links: pd.DataFrame, top_links: int) -> pd.DataFrame:
    """The ``top_links`` links to draw: between applications first, then to shared services, heaviest first.

    Links between applications are what can split an application across waves; a link to the
    shared services is expected (they move first). Ties go by group id, so the choice is reproducible.
    """
    shared = (links["group"] == SHARED) | (links["other_group"] == SHARED)
    return (links.assign(_s=shared).sort_values(["_s", "weight", "group", "other_group"],
                                                  ascending=[True, False, True, True])
            .head(top_links).drop(columns="_s"))


def _colour(wave) -> str:
    return HELD_COLOUR if pd.isna(wave) else WAVE_COLOURS[int(wave) % len(WAVE_COLOURS)]


#: What the wave chip says for a group outside every wave.
HELD_WORDS = {"remediate-first": "fix first", "excluded": "excluded"}


def _wave_text(row) -> str:
    return HELD_WORDS.get(row.bucket, str(row.bucket)) if pd.isna(row.wave) else f"W{int(row.wave)}"


def dependency_map(plan: pd.DataFrame, links: pd.DataFrame, top_links: int = 40) -> SvgMarkup:
    """The map as an inline ``<svg>``: the ``top_links`` heaviest links and the groups they join.

    Args:
        plan: the ``wave_plan`` table (``vm_id, group, wave, bucket, name``), with ``group_name``
            from ``move_groups`` when the caller adds it.
        links: ``group, other_group, weight, ports``: the waves stage's ``group_links`` table.
        top_links: links drawn at most.
    """
    groups = _groups(plan)
    links = _merged_shared(plan, links)
    links = links[links["group"].isin(groups.index) & links["other_group"].isin(groups.index)]
    chosen = _selected(links, top_links)
    drawn = groups.loc[sorted(set(chosen["group"]) | set(chosen["other_group"]))]
    drawn = drawn.assign(_w=drawn["wave"].fillna(10**6)).sort_values(["_w", "vms"], ascending=[True, False])
    row = {g: i for i, g in enumerate(drawn.index)}
    height = TOP + ROW * max(len(drawn), 1) + 30
    span = ROW * max(len(drawn), 1)
    width = LABEL_WIDTH + 24 + min(420, span // 2 + 40)
    parts = [_title(len(chosen), len(links), len(drawn), groups, width)]
    if chosen.empty:
        parts.append(f'<text x="10" y="{TOP + 14}" font-size="13">No links between move groups in the '
                     "flows (or no flows imported).</text>")
    top_weight = float(chosen["weight"].max()) if len(chosen) else 1.0
    for link in chosen.itertuples(index=False):
        parts.append(_arc(link, row, groups, top_weight))
    for group, info in drawn.iterrows():
        parts.append(_row(group, info, row[group]))
    body = "".join(parts)
    return SvgMarkup(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart depmap" '
                  f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
                  f'font-family="system-ui, sans-serif">'
                  f'<rect width="100%" height="100%" fill="#fff"/>{body}</svg>')


def _title(shown: int, total: int, groups_drawn: int, groups: pd.DataFrame, width: int) -> str:
    caption = (f"{shown} of {total:,} links, between applications first, heaviest first; "
               f"{groups_drawn} of {len(groups)} move groups; arc width = traffic")
    return (f'<text x="10" y="20" font-size="15" font-weight="600">Dependencies between move groups</text>'
            f'<text x="10" y="38" font-size="12" fill="#444">{escape(caption)}</text>'
            f'<line x1="10" x2="34" y1="50" y2="50" stroke="{CROSS_WAVE}" stroke-width="3"/>'
            f'<text x="38" y="54" font-size="11">crosses waves</text>'
            f'<line x1="130" x2="154" y1="50" y2="50" stroke="{SAME_WAVE}" stroke-width="3"/>'
            f'<text x="158" y="54" font-size="11">same wave</text>'
            f'<line x1="230" x2="254" y1="50" y2="50" stroke="{TO_SHARED}" stroke-width="3"/>'
            f'<text x="258" y="54" font-size="11">to shared services (moved first)</text>')


def _row(group, info, i: int) -> str:
    y = TOP + i * ROW
    size = f"({info.vms} VM{'s' if info.vms != 1 else ''})"
    name = info.label if len(info.label) <= NAME_CHARS else info.label[:NAME_CHARS - 1] + "\u2026"
    text = f"{name} {size}"
    wave = _wave_text(info)
    return (f'<g><title>{escape(f"group {group}: {info.label} {size}, {wave}")}</title>'
            f'<rect x="8" y="{y + 3}" width="92" height="{ROW - 6}" rx="3" fill="{_colour(info.wave)}"/>'
            f'<text x="14" y="{y + ROW - 7}" font-size="11">{escape(wave[:14])}</text>'
            f'<text x="106" y="{y + ROW - 7}" font-size="12">{escape(text)}</text>'
            f'<circle cx="{LABEL_WIDTH + 12}" cy="{y + ROW / 2}" r="3.5" fill="{_colour(info.wave)}" '
            f'stroke="#333" stroke-width="0.5"/></g>')


def _arc(link, row: dict, groups: pd.DataFrame, top_weight: float) -> str:
    i, j = sorted((row[link.group], row[link.other_group]))
    x = LABEL_WIDTH + 12
    y1, y2 = TOP + i * ROW + ROW / 2, TOP + j * ROW + ROW / 2
    bulge = min(400, 12 + (j - i) * ROW / 2)
    a, b = groups.loc[link.group], groups.loc[link.other_group]
    if SHARED in (link.group, link.other_group):
        colour = TO_SHARED
    elif pd.notna(a.wave) and pd.notna(b.wave) and a.wave == b.wave:
        colour = SAME_WAVE
    else:
        colour = CROSS_WAVE
    hover = (f"{a.label} ({_wave_text(a)}) \u2194 {b.label} ({_wave_text(b)}): traffic {link.weight:,.0f}"
             + (f"; ports {link.ports}" if link.ports else ""))
    return (f'<path d="M{x} {y1} C{x + bulge} {y1} {x + bulge} {y2} {x} {y2}" fill="none" '
            f'stroke="{colour}" stroke-opacity="0.7" '
            f'stroke-width="{1 + 5 * float(link.weight) / top_weight:.1f}">'
            f'<title>{escape(hover)}</title></path>')
