"""Readiness: every VM gets concerns, a verdict, a migration method, a strategy and the fix.

Notebook use::

    from assess.readiness import assess_readiness
    result = assess_readiness(estate)
    result.tables["readiness"], result.tables["concerns"]
"""

from assess.readiness.catalogue import RULES, RULES_VERSION, catalogue, evaluate, rule
from assess.readiness.evidence import lacking, source_gaps
from assess.readiness.naming import target_names
from assess.readiness.params import ReadinessParams
from assess.readiness.stage import assess_readiness, concern_summary, readiness_groups
from assess.readiness.verdict import retire_idle

__all__ = [
    "RULES", "RULES_VERSION", "ReadinessParams", "assess_readiness", "catalogue", "concern_summary",
    "evaluate", "lacking", "readiness_groups", "retire_idle", "rule", "source_gaps", "target_names",
]
