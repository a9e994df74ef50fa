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
from assess.readiness.base import CATEGORIES, NOT_FOR_VM, NOT_IN_SOURCE, Context, Rule, from_mask
from assess.readiness.evidence import settled_by

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
                   "detail", "settled_by", "rules_version"]


def catalogue() -> pd.DataFrame:
    """The rules as a table: id, category, label, assessment, remediation, needs, excludes."""
    return pd.DataFrame([
        dict(rule_id=r.id, category=r.category, label=r.label, assessment=r.assessment,
             remediation=r.remediation, needs=", ".join(r.needs), excludes=r.excludes)
        for r in RULES
    ])


def check(ctx: Context, rule: Rule) -> pd.DataFrame:
    """Findings of one rule: ``unknown`` where a need is unmet, else what its check fired on.

    See :meth:`assess.readiness.base.Context.unmet` for when a need is unmet.
    """
    unmet = ctx.unmet(rule)
    blind = unmet != ""
    fired = rule.check(ctx)
    fired = fired[(fired["status"] == "fired") & ~fired["vm_id"].astype(object).isin(
        set(blind.index[blind.to_numpy()]))]
    unknown = from_mask(blind, unmet, "unknown")
    sources = {u: _sources(u) for u in unknown["detail"].unique()}
    unknown["settled_by"] = unknown["detail"].map(sources)
    return pd.concat([fired.assign(settled_by=""), unknown], ignore_index=True)


def _sources(detail: str) -> str:
    """The sources that would supply the needs named in an unknown finding's detail."""
    found = []
    for part in detail.split("; "):
        per_vm = part.endswith(NOT_FOR_VM)
        needs = part.removesuffix(NOT_FOR_VM).removesuffix(NOT_IN_SOURCE).strip()
        found += [settled_by(key, per_vm) for key in needs.split(" or ")]
    return " or ".join(dict.fromkeys(found))


def evaluate(ctx: Context, rules: tuple[Rule, ...] = RULES) -> pd.DataFrame:
    """The ``concerns`` table: one row per (VM, rule) that fired or could not be evaluated.

    Rows are ordered by VM (estate order), then category (Critical first), then catalogue order.
    """
    parts = []
    for order, rule in enumerate(rules):
        found = check(ctx, rule)
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
