import json
from pathlib import Path

import pytest
from sklearn.metrics import adjusted_rand_score

from assess.collect.flows import read_flows
from assess.collect.rvtools import read_rvtools
from assess.waves import WavesParams, plan_waves

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


@pytest.fixture(scope="module")
def sample():
    est = read_rvtools([SAMPLES / "rvtools.xlsx"])
    est = est.merge(read_flows([SAMPLES / "flows.csv"], est))
    return est, json.loads((SAMPLES / "ground_truth.json").read_text())


@pytest.mark.parametrize("app_attributes", [["app"], []], ids=["tags-and-flows", "flows-only"])
def test_planted_applications_are_move_groups(sample, app_attributes):
    est, truth = sample
    r = plan_waves(est, params=WavesParams(app_attributes=app_attributes))
    vm_id = est["vms"].set_index("name")["vm_id"]
    group = r.tables["move_groups"].set_index("vm_id")["group"]
    planted, found = [], []
    for app, spec in truth["applications"].items():
        for vms in spec["tiers"].values():
            planted += [app] * len(vms)
            found += [group[vm_id[v]] for v in vms]
    assert adjusted_rand_score(planted, found) >= 0.9
    assert r.summary["hard_links_split"] == 0
    assert set(r.summary["shared_services"]) == set(truth["shared_services"])
    plan = r.tables["wave_plan"]
    assert len(plan) == len(est["vms"]) and plan["vm_id"].is_unique and plan["reason"].str.len().min() > 10
    shared = plan[plan["name"].isin(truth["shared_services"])]
    assert (shared["wave"] == 0).all()
