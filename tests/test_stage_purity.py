"""Stages are pure: run twice on one estate, the estate is unchanged and the results are equal."""

import copy

import pandas as pd
import pytest

from assess import Estate, assess_readiness, load_estate, plan_waves, run_stages, size_estate
from assess.sample import generate_sample
from assess.sizing import SizingParams

#: Columns that measure the machine, not the estate.
TIMINGS = {"packing_runs": ["seconds"]}


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    files = generate_sample(tmp_path_factory.mktemp("pure") / "s", vms=100, seed=2)
    return load_estate(files["rvtools"].parent)


def _snapshot(estate: Estate) -> dict:
    return {"tables": {n: f.copy(deep=True) for n, f in estate.tables.items()},
            "provenance": copy.deepcopy(estate.provenance), "files": list(estate.utilization_files)}


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


def test_every_stage_is_pure(estate):
    before = _snapshot(estate)
    sizing_params = SizingParams().replace(**{"packing.cpsat_time_limit_s": 2})
    readiness = [assess_readiness(estate) for _ in range(2)]
    _assert_same_result(*readiness)
    ready = readiness[0].tables["readiness"]
    ready_copy = ready.copy(deep=True)
    sizing = [size_estate(estate, ready, sizing_params) for _ in range(2)]
    _assert_same_result(*sizing)
    waves = [plan_waves(estate, ready, sizing[0].tables["sizing"]) for _ in range(2)]
    _assert_same_result(*waves)
    _assert_same_estate(estate, before)
    pd.testing.assert_frame_equal(ready, ready_copy)  # an earlier stage's table is not changed either
    assert readiness[0].params["powered_off_days"] > 0
    assert sizing[0].params["packing"]["cpsat_time_limit_s"] == 2


def test_the_pipeline_is_pure_and_retires_idle_vms_in_one_step(estate):
    before = _snapshot(estate)
    params = {"sizing": SizingParams().replace(**{"packing.cpsat_time_limit_s": 2})}
    first, second = run_stages(estate, params), run_stages(estate, params)
    for stage in first:
        _assert_same_result(first[stage], second[stage])
    _assert_same_estate(estate, before)
    readiness, sizing = first["readiness"].tables["readiness"], first["sizing"].tables["sizing"]
    idle = set(sizing.loc[sizing["idle"].fillna(False).astype(bool), "vm_id"])
    eligible = readiness["vm_id"].isin(idle) & ~readiness["verdict"].isin(["excluded", "not_ready"])
    assert eligible.any()
    assert (readiness.loc[eligible, "strategy"] == "retire").all()
    assert readiness.loc[eligible, "strategy_reason"].str.startswith("idle (sizing stage)").all()
    # the summary counts what the table says
    retired = int((readiness["strategy"] == "retire").sum())
    assert first["readiness"].summary["strategies"]["retire"] == retired
    assert first["sizing"].summary["params_given"] == ["packing.cpsat_time_limit_s"]
