import json
from pathlib import Path

import pytest

from assess.collect.rvtools import read_rvtools
from assess.collect.utilization import read_utilization
from assess.sizing import IdleDetector, RightSizer

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "samples"


@pytest.fixture(scope="module")
def sample():
    inventory = read_rvtools([SAMPLE / "rvtools.xlsx"])
    estate = inventory.merge(read_utilization([SAMPLE / "utilization.csv.gz"], inventory))
    truth = json.loads((SAMPLE / "ground_truth.json").read_text())
    return estate, truth


def test_planted_idle_vms_are_found(sample):
    estate, truth = sample
    vms = estate["vms"]
    sizes = RightSizer().fit(estate["utilization"], vms, estate["hosts"]).sizes_.set_index("vm_id")
    capacity = sizes["allocated_vcpus"].astype(float) * sizes["core_mhz"]
    out = IdleDetector().fit(estate["utilization"], vms, capacity).idle_
    names = vms.set_index("vm_id")["name"]
    found = set(names[out.set_index("vm_id")["idle"].astype(bool)])
    planted = set(truth["idle"])
    recall = len(found & planted) / len(planted)
    precision = len(found & planted) / max(len(found), 1)
    assert recall >= 0.9 and precision >= 0.9, (sorted(found - planted), sorted(planted - found))
    assert len(out) == len(vms)


def test_confidence_reflects_the_planted_gaps(sample):
    estate, truth = sample
    sizes = RightSizer().fit(estate["utilization"], estate["vms"], estate["hosts"]).sizes_
    names = estate["vms"].set_index("vm_id")["name"]
    by_name = sizes.assign(name=sizes["vm_id"].map(names)).set_index("name")
    # 30 days at 7200 s = 360 samples expected per metric
    assert truth["utilization"]["interval_s"] == 7200 and (by_name["expected_samples"].dropna() == 720).all()
    # assets-db-01: 138 / 360 = 38 % -> 2 stars; claims-web-02: 61 / 360 = 17 % -> 1;
    # hr2-app-01: 96 / 360 = 27 % -> 2
    assert by_name.loc["assets-db-01", "confidence"] == 2
    assert by_name.loc["claims-web-02", "confidence"] == 1
    assert by_name.loc["hr2-app-01", "confidence"] == 2
    # no memory counter: CPU 360 of 360, memory 0 -> 50 % -> 3 stars, memory kept as allocated
    for name in truth["utilization"]["no_memory"]:
        assert by_name.loc[name, "confidence"] == 3
        assert "no memory counter" in by_name.loc[name, "confidence_reason"]
        assert by_name.loc[name, "memory_mib"] == by_name.loc[name, "allocated_memory_mib"]
    # VMs without samples (powered off, templates, placeholder) fall back to as_is and say so
    for name, count in truth["utilization"]["samples"].items():
        if count == 0:
            assert by_name.loc[name, "mode"] == "as_is"
            assert "sized as_is" in by_name.loc[name, "confidence_reason"]
    assert len(sizes) == len(estate["vms"])
