"""Shared test fixtures: paths to the read-only shared material."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The read-only ../shared folder (real data and schemas)."""
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: the tests read real data and schemas from it")
    return SHARED


@dataclass
class StagedSample:
    """A 100-VM sample assessed once per session: its folder, estate, the stages' raw output, run_stages."""

    folder: Path
    estate: object
    pristine: dict
    raw: dict
    results: dict
    sizing_params: object


@pytest.fixture(scope="session")
def staged_sample(tmp_path_factory) -> StagedSample:
    """Shared by the run-folder, result-table and purity tests; none of them may change it."""
    from assess import assess_readiness, load_estate, plan_waves, run_stages, size_estate
    from assess.sample import generate_sample
    from assess.sizing import SizingParams

    folder = generate_sample(tmp_path_factory.mktemp("staged") / "sample", vms=100, seed=2)["rvtools"].parent
    estate = load_estate(folder)
    pristine = {"tables": {n: f.copy(deep=True) for n, f in estate.tables.items()},
                "provenance": copy.deepcopy(estate.provenance), "files": list(estate.utilization_files)}
    params = SizingParams().replace(**{"packing.cpsat_time_limit_s": 2})
    readiness = assess_readiness(estate)
    sizing = size_estate(estate, readiness.tables["readiness"], params)
    waves = plan_waves(estate, readiness.tables["readiness"], sizing.tables["sizing"])
    raw = {"readiness": readiness, "sizing": sizing, "waves": waves}
    return StagedSample(folder, estate, pristine, raw, run_stages(estate, {"sizing": params}), params)
