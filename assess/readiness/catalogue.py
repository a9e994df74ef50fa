"""The rule catalogue: every readiness rule in order, its version, and running them on an estate.

Bump :data:`RULES_VERSION` whenever a rule is added, removed or changes what it fires on; the
version is stamped on every ``readiness`` and ``concerns`` row so an old assessment can be
recognised.
"""

from __future__ import annotations

import pandas as pd

from assess.readiness import (
    rules_devices,
    rules_disks,
    rules_exclusions,
    rules_firmware,
    rules_guest,
    rules_hardware,
    rules_naming,
    rules_network,
    rules_placement,
)
from assess.readiness.base import CATEGORIES, Context, Rule

RULES_VERSION = "2026.11.1"

#: All rules, exclusions first, then by area; ids are unique.
RULES: tuple[Rule, ...] = (
    *rules_exclusions.RULES,
    *rules_devices.RULES,
    *rules_disks.RULES,
    *rules_guest.RULES,
    *rules_firmware.RULES,
    *rules_hardware.RULES,
    *rules_network.RULES,
    *rules_placement.RULES,
    *rules_naming.RULES,
)

CONCERN_COLUMNS = ["vm_id", "rule_id", "category", "status", "label", "assessment", "remediation",
                   "detail", "rules_version"]


def catalogue() -> pd.DataFrame:
    """The rules as a table: id, category, label, assessment, remediation, needs, excludes."""
    return pd.DataFrame([
        dict(rule_id=r.id, category=r.category, label=r.label, assessment=r.assessment,
             remediation=r.remediation, needs=", ".join(r.needs), excludes=r.excludes)
        for r in RULES
    ])


def evaluate(ctx: Context, rules: tuple[Rule, ...] = RULES) -> pd.DataFrame:
    """The ``concerns`` table: one row per (VM, rule) that fired or could not be evaluated.

    Rows are ordered by VM (estate order), then category (Critical first), then catalogue order.
    """
    parts = []
    for order, rule in enumerate(rules):
        found = rule.check(ctx)
        if len(found):
            parts.append(found.assign(rule_id=rule.id, category=rule.category, label=rule.label,
                                      assessment=rule.assessment, remediation=rule.remediation,
                                      _order=order))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in CONCERN_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    position = pd.Series(range(len(ctx.vm_index)), index=ctx.vm_index)
    out["_vm"] = out["vm_id"].map(position)
    out["_cat"] = out["category"].map({c: i for i, c in enumerate(CATEGORIES)})
    out = out.sort_values(["_vm", "_cat", "_order"], kind="stable")
    out["rules_version"] = RULES_VERSION
    return out[CONCERN_COLUMNS].astype("string").reset_index(drop=True)


def rule(rule_id: str) -> Rule:
    """The catalogue entry with id ``rule_id`` (KeyError naming the id if there is none)."""
    for r in RULES:
        if r.id == rule_id:
            return r
    raise KeyError(f"no readiness rule '{rule_id}' in catalogue {RULES_VERSION}")
