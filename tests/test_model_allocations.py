"""Allocations that cannot be sized become unknown, with one warning per VM (issue 17)."""

import numpy as np
import pandas as pd

from assess.model import Estate
from assess.model.estate import merge_into_folder


def _estate() -> Estate:
    estate = Estate()
    estate["vms"] = pd.DataFrame({
        "vm_id": ["ok", "neg", "zero", "noram", "nan", "inf", "missing"],
        "name": ["ok", "neg", "zero", "noram", "nan", "inf", "missing"],
        "vcpus": [2, -2, 0, 4, 4, 4, None],
        "memory_mib": [1024, 1024, 1024, -4096, np.nan, np.inf, 2048],
    })
    return estate


def test_bad_vcpus_and_memory_become_unknown_with_a_warning_per_vm():
    estate = _estate().validate()
    vms = estate["vms"].set_index("vm_id")
    assert vms["vcpus"].isna().to_dict() == {
        "ok": False, "neg": True, "zero": True, "noram": False, "nan": False, "inf": False, "missing": True}
    assert vms["memory_mib"].isna().to_dict() == {
        "ok": False, "neg": False, "zero": False, "noram": True, "nan": True, "inf": True, "missing": False}
    warned = estate.warnings[estate.warnings["code"] == "model.allocation.invalid"]
    # NaN and missing values were unknown already: no warning for them
    assert warned["column"].tolist() == ["vcpus", "vcpus", "memory_mib", "memory_mib"]
    assert warned["message"].tolist()[0] == (
        "VM neg (neg): -2 vCPUs cannot be sized; taken as unknown and not packed "
        "(fix the allocation at the source)")
    assert "memory -4096 MiB" in warned["message"].tolist()[2]
    assert "memory inf MiB" in warned["message"].tolist()[3]


def test_every_vm_is_kept_and_a_second_save_adds_no_warning(tmp_path):
    merged = merge_into_folder(tmp_path / "estate", _estate())
    assert len(merged["vms"]) == 7
    again = merge_into_folder(tmp_path / "estate", Estate())
    assert (again.warnings["code"] == "model.allocation.invalid").sum() == 4
