"""Stages are pure: called twice on one estate, the estate is unchanged and the results are equal.

The first call of each stage is the session's ``staged_sample`` (tests/conftest.py).
"""

import pandas as pd

from assess import Estate, assess_readiness, plan_waves, size_estate
from assess.model import conform

#: Columns and figures that measure the machine, not the estate.
TIMINGS = {"packing_runs": ["seconds"]}


def _assert_same_estate(estate: Estate, before: dict) -> None:
    assert set(estate.tables) == set(before["tables"])
    for name, frame in before["tables"].items():
        pd.testing.assert_frame_equal(estate.tables[name], frame, obj=name)
    assert estate.provenance == before["provenance"] and estate.utilization_files == before["files"]


def _assert_same_result(a, b) -> None:
    assert a.tables.keys() == b.tables.keys()
    for name in a.tables:
        drop = TIMINGS.get(name, [])
        pd.testing.assert_frame_equal(a.tables[name].drop(columns=drop), b.tables[name].drop(columns=drop),
                                      obj=name)
    assert a.warnings == b.warnings and a.params == b.params
    assert {k: v for k, v in a.summary.items() if "seconds" not in k} == {
        k: v for k, v in b.summary.items() if "seconds" not in k}


def test_every_stage_called_twice_leaves_the_estate_and_gives_equal_results(staged_sample):
    estate, first = staged_sample.estate, staged_sample.raw
    ready = first["readiness"].tables["readiness"]
    ready_copy, sized_copy = ready.copy(deep=True), first["sizing"].tables["sizing"].copy(deep=True)
    _assert_same_result(first["readiness"], assess_readiness(estate))
    _assert_same_result(first["sizing"], size_estate(estate, ready, staged_sample.sizing_params))
    _assert_same_result(first["waves"], plan_waves(estate, ready, first["sizing"].tables["sizing"]))
    _assert_same_estate(estate, staged_sample.pristine)
    pd.testing.assert_frame_equal(ready, ready_copy)  # an earlier stage's table is not changed either
    pd.testing.assert_frame_equal(first["sizing"].tables["sizing"], sized_copy)
    assert first["readiness"].params["powered_off_days"] > 0
    assert first["sizing"].params["packing"]["cpsat_time_limit_s"] == 2


def test_the_pipeline_retires_idle_vms_in_one_step_and_leaves_the_estate(staged_sample):
    results, raw = staged_sample.results, staged_sample.raw
    _assert_same_estate(staged_sample.estate, staged_sample.pristine)
    # sizing in the pipeline saw the readiness before the retire step: the same result as alone
    for name in ("sizing", "nodes", "cost"):
        alone = conform(name, raw["sizing"].tables[name])
        pd.testing.assert_frame_equal(results["sizing"].tables[name], alone, obj=name)
    readiness, sizing = results["readiness"].tables["readiness"], results["sizing"].tables["sizing"]
    idle = set(sizing.loc[sizing["idle"].fillna(False).astype(bool), "vm_id"])
    eligible = readiness["vm_id"].isin(idle) & ~readiness["verdict"].isin(["excluded", "not_ready"])
    assert eligible.any()
    assert (readiness.loc[eligible, "strategy"] == "retire").all()
    assert readiness.loc[eligible, "strategy_reason"].str.startswith("idle (sizing stage)").all()
    before = raw["readiness"].tables["readiness"]
    assert (before.loc[eligible.to_numpy(), "strategy"] != "retire").any()  # the step made the change
    retired = int((readiness["strategy"] == "retire").sum())
    assert results["readiness"].summary["strategies"]["retire"] == retired  # the summary counts it
    assert results["sizing"].summary["params_given"] == ["packing.cpsat_time_limit_s"]
