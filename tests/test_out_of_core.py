"""Utilization aggregated out of core (DuckDB over Parquet) gives the same assessment as in memory."""

import json

import pandas as pd
import pytest

from assess.collect.flows import read_flows
from assess.collect.rvtools import read_rvtools
from assess.collect.utilization import read_utilization
from assess.model import Estate
from assess.readiness import assess_readiness, retire_idle
from assess.sample import generate_sample
from assess.sizing import size_estate
from assess.sizing.utilization_stats import file_stats
from assess.sources import load_estate
from assess.waves import plan_waves

pytestmark = pytest.mark.slow

VMS = 2000


@pytest.fixture(scope="module")
def estates(tmp_path_factory):
    """A generated 2,000-VM estate twice: samples in a Parquet file, and the same samples in pandas."""
    folder = tmp_path_factory.mktemp("estate")
    paths = generate_sample(folder, VMS, seed=3)
    inventory = read_rvtools([paths["rvtools"]])
    inventory = inventory.merge(read_flows([paths["flows"]], inventory))
    spilled = read_utilization([paths["utilization"]], inventory, spill_to=folder / "u.parquet",
                               in_memory_max_rows=0)
    out_of_core = inventory.merge(spilled).validate()
    samples = Estate()
    samples["utilization"] = pd.read_parquet(folder / "u.parquet")
    in_memory = inventory.merge(samples).validate()
    return in_memory, out_of_core, json.loads(paths["ground_truth"].read_text())


def _assess(estate: Estate, readiness: pd.DataFrame) -> dict:
    sizing = size_estate(estate, readiness)
    readiness = retire_idle(readiness, sizing.tables["sizing"])
    waves = plan_waves(estate, readiness, sizing.tables["sizing"])
    return {"readiness": readiness, **sizing.tables, **waves.tables}


@pytest.fixture(scope="module")
def results(estates):
    in_memory, out_of_core, _ = estates
    readiness = assess_readiness(in_memory).tables["readiness"]  # readiness reads no utilization
    return _assess(in_memory, readiness), _assess(out_of_core, readiness)


def test_spilled_samples_stay_out_of_pandas_and_are_all_kept(estates):
    in_memory, out_of_core, truth = estates
    assert out_of_core["utilization"].empty and out_of_core.utilization_files
    # every VM has 360 samples per metric (30 days / 2 h) unless the ground truth lists fewer;
    # 4 metrics, 3 for the VMs planted without memory samples
    u = truth["utilization"]
    expected = sum(u["samples"].get(name, 360) * (3 if name in u["no_memory"] else 4)
                   for name in truth["vms"])
    assert out_of_core.counts()["utilization"] == len(in_memory["utilization"]) == expected > 2_000_000


def test_verdicts_nodes_and_waves_are_identical_in_memory_and_out_of_core(results):
    a, b = results
    # idle VMs become retire candidates: found from the samples, so they exercise the stats path
    assert a["readiness"]["strategy"].eq("retire").sum() > 0
    verdicts = a["readiness"]["verdict"].value_counts().to_dict()
    assert verdicts == b["readiness"]["verdict"].value_counts().to_dict()
    assert a["readiness"]["strategy"].tolist() == b["readiness"]["strategy"].tolist()
    assert len(a["nodes"]) == len(b["nodes"]) > 0
    columns = ["vm_id", "mode", "vcpus", "memory_mib", "confidence", "idle", "profile", "instancetype",
               "node"]
    pd.testing.assert_frame_equal(a["sizing"][columns], b["sizing"][columns])
    pd.testing.assert_frame_equal(a["wave_plan"], b["wave_plan"])
    assert a["wave_plan"]["wave"].notna().sum() > VMS / 2


def test_a_saved_estate_beyond_the_threshold_loads_out_of_core(estates, tmp_path, monkeypatch):
    _, out_of_core, _ = estates
    folder = out_of_core.save(tmp_path / "estate")  # the spilled samples are written into the folder
    monkeypatch.setattr("assess.model.estate.UTILIZATION_IN_MEMORY_MAX_ROWS", 1_000)
    loaded = load_estate(folder)
    assert loaded["utilization"].empty
    assert loaded.utilization_files == [folder / "tables.1" / "utilization.parquet"]
    assert loaded.counts()["utilization"] == out_of_core.counts()["utilization"]


def test_stats_in_several_passes_equal_one_pass(estates, monkeypatch):
    _, out_of_core, truth = estates
    one = file_stats(out_of_core.utilization_files, 30)
    # 2.8 million samples at 1 million per pass: 3 passes over disjoint VM sets, same table
    monkeypatch.setattr("assess.sizing.utilization_stats.ROWS_PER_PASS", 1_000_000)
    pd.testing.assert_frame_equal(file_stats(out_of_core.utilization_files, 30), one)
    # one row per VM and metric: 4 metrics, 3 for the VMs planted without memory samples
    assert len(one) == one["vm_id"].nunique() * 4 - len(truth["utilization"]["no_memory"])
