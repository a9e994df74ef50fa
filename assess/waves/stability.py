"""Stable re-plans: a re-run starts from the previous plan and moves only groups whose inputs changed.

A group of the new plan whose members are exactly those of a group of the previous plan keeps
that group's id and, where the caps still allow, its wave; every other group gets a fresh id
and is planned again, with a note saying what changed. So removing one VM re-plans only the
group that held it (and whatever the scheduler must move to make room, which says why).
"""

from __future__ import annotations

import re

import pandas as pd


def _previous_groups(previous: pd.DataFrame) -> tuple[dict[str, frozenset], dict[str, int]]:
    """Previous group id -> members, and -> wave when all its members shared one."""
    plan = previous[previous["group"].notna()]
    members = {str(g): frozenset(map(str, part["vm_id"])) for g, part in plan.groupby("group", sort=True)}
    waves = {}
    for g, part in plan.groupby("group", sort=True):
        w = part["wave"].dropna().unique()
        if len(w) == 1 and part["wave"].notna().all():
            waves[str(g)] = int(w[0])
    return members, waves


def _fresh(prefix: str, width: int, taken: set[str]):
    """Ids ``<prefix><n>`` (zero-padded) not in ``taken``, counting up."""
    n = 0
    while True:
        n += 1
        gid = f"{prefix}{n:0{width}d}"
        if gid not in taken:
            taken.add(gid)
            yield gid


def carry_over(groups: list[tuple], previous: pd.DataFrame | None) -> tuple[list[tuple], dict, dict]:
    """``groups`` renamed against ``previous`` (a ``wave_plan`` table), the waves to keep, and notes.

    Args:
        groups: ``(gid, members, how, shared)`` as freshly numbered by the planner.
        previous: the previous run's ``wave_plan`` (``vm_id``, ``group``, ``wave``) or None.

    Returns:
        ``(groups, keep, changed)``: groups with stable ids; ``keep`` maps a group id to its
        previous wave; ``changed`` maps a re-planned group that existed before (in part) to
        what changed.
    """
    if previous is None or previous.empty:
        return groups, {}, {}
    members, waves = _previous_groups(previous)
    by_members = {m: g for g, m in members.items()}
    group_of = {v: g for g, m in members.items() for v in m}
    taken = set(members)
    counters = {p: _fresh(p, w, taken) for p, w in (("g", 4), ("s", 3))}
    out, keep, changed = [], {}, {}
    for gid, m, how, shared in groups:
        old = by_members.get(frozenset(m))
        if old is not None:
            out.append((old, m, how, shared))
            if old in waves:
                keep[old] = waves[old]
            continue
        new = next(counters["s" if shared else "g"]) if re.fullmatch(r"[gs]\d+", gid) else gid
        out.append((new, m, how, shared))
        before = {group_of[v] for v in m if v in group_of}
        if before:
            added = len([v for v in m if v not in group_of])
            lost = sum(len(members[g] - m) for g in before)
            changed[new] = (f"re-planned: its members changed since the previous plan (was group(s) "
                            f"{', '.join(sorted(before))}; {added} VM(s) added, {lost} left)")
    return out, keep, changed
