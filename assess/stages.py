"""The analysis stages in order, and the rule that turns a run's findings into a failing exit.

Each step is a pure function of the estate, the results of the steps before it and its
parameters; it returns a new :class:`~assess.model.results.StageResult` and changes nothing it
was given. The steps are readiness, sizing, ``retire_idle`` (the idle VMs sizing found become
``retire`` candidates in the readiness result: the one place that feedback happens) and waves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from pydantic import BaseModel

from assess.model import Estate, conform
from assess.model.results import StageResult

FAIL_ON = ("never", "not_ready", "unknown")


@dataclass(frozen=True)
class Step:
    """One pipeline step: its name, the stage result it writes, and the function that computes it."""

    name: str
    stage: str
    compute: Callable[[Estate, dict[str, StageResult], object], StageResult]


def _readiness(estate: Estate, done: dict[str, StageResult], params) -> StageResult:
    from assess.readiness import ReadinessParams, assess_readiness

    return assess_readiness(estate, params or ReadinessParams())


def _sizing(estate: Estate, done: dict[str, StageResult], params) -> StageResult:
    from assess.sizing import SizingParams, size_estate

    return size_estate(estate, _table(done, "readiness"), params or SizingParams())


def _retire_idle(estate: Estate, done: dict[str, StageResult], params) -> StageResult:
    """The readiness result with idle VMs (from sizing) as ``retire`` candidates, summary recounted."""
    from assess.readiness import retire_idle
    from assess.readiness.stage import readiness_summary

    before = done["readiness"]
    readiness = retire_idle(before.tables["readiness"], done["sizing"].tables["sizing"])
    summary = {**before.summary, **readiness_summary(readiness, before.tables["concern_summary"])}
    return replace(before, tables={**before.tables, "readiness": readiness}, summary=summary)


def _waves(estate: Estate, done: dict[str, StageResult], params) -> StageResult:
    from assess.waves import WavesParams, plan_waves

    return plan_waves(estate, _table(done, "readiness"), _table(done, "sizing"), params or WavesParams())


def _table(done: dict[str, StageResult], name: str):
    result = done.get(name)
    return result.tables.get(name) if result is not None else None


STEPS = (
    Step("readiness", "readiness", _readiness),
    Step("sizing", "sizing", _sizing),
    Step("retire_idle", "readiness", _retire_idle),
    Step("waves", "waves", _waves),
)


def stages() -> list[str]:
    """The names of the pipeline's steps, in order (for progress displays)."""
    return [step.name for step in STEPS]


def run_stages(
    estate: Estate,
    params: dict[str, object] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, StageResult]:
    """Run every step on ``estate``; return the results by stage (readiness, sizing, waves).

    ``params`` maps a stage name to its params object (``ReadinessParams``, ``SizingParams``,
    ``WavesParams``); a stage not named runs with its defaults. Result tables are conformed to
    :data:`~assess.model.schema.RESULT_TABLES`. ``estate`` is not changed.
    """
    params = params or {}
    results: dict[str, StageResult] = {}
    for step in STEPS:
        if progress:
            progress(step.name)
        given = params.get(step.stage)
        result = step.compute(estate, results, given)
        summary = result.summary
        if given is not None and step.name == step.stage:  # the report says which values were given
            summary = {**summary, "params_given": given_paths(given)}
        results[step.stage] = replace(result, tables={n: conform(n, f) for n, f in result.tables.items()},
                                      summary=summary)
    return results


def given_paths(params: BaseModel, prefix: str = "") -> list[str]:
    """Dotted paths of the values set explicitly in ``params`` (not left at their defaults)."""
    paths = []
    for name in sorted(params.model_fields_set):
        value = getattr(params, name)
        if isinstance(value, BaseModel):
            paths += given_paths(value, f"{prefix}{name}.")
        else:
            paths.append(f"{prefix}{name}")
    return paths


def findings_failure(results: dict[str, StageResult], fail_on: str) -> str:
    """Why a run should fail under ``fail_on`` (``never``, ``not_ready``, ``unknown``); empty if not.

    ``not_ready`` fails on any not-ready VM; ``unknown`` also on VMs whose readiness is unknown.
    """
    if fail_on == "never" or "readiness" not in results:
        return ""
    verdicts = results["readiness"].summary.get("verdicts", {})
    bad = ["not_ready"] + (["unknown"] if fail_on == "unknown" else [])
    counts = {v: verdicts.get(v, 0) for v in bad if verdicts.get(v, 0)}
    return ", ".join(f"{n} VM(s) {v}" for v, n in counts.items())
