import pandas as pd
import pandas.testing as pdt
import pytest

from assess.sizing.instancetypes import instancetypes_from_bundle, load_instancetypes
from assess.sizing.preferences import choose_preferences, load_preferences, preferences_from_bundle
from assess.sizing.shapes import capacity_cost, choose_shapes

KV = "schemas/kubevirt"


def test_packaged_instancetype_table_matches_the_shared_bundle(shared):
    bundled = instancetypes_from_bundle(shared / KV / "common-clusterinstancetypes-bundle.yaml")
    pdt.assert_frame_equal(load_instancetypes(), bundled)
    assert len(bundled) == 65
    u1 = bundled.set_index("name").loc["u1.2xmedium"]
    assert (u1["vcpus"], u1["memory_mib"]) == (2, 4096.0)


def test_packaged_preference_table_matches_the_shared_bundle(shared):
    bundled = preferences_from_bundle(shared / KV / "common-clusterpreferences-bundle.yaml")
    pdt.assert_frame_equal(load_preferences(), bundled)
    rhel9 = bundled.set_index("name").loc["rhel.9"]
    assert bool(rhel9["efi"]) and rhel9["min_memory_mib"] == 1536.0


def test_user_can_pass_their_clusters_yaml_bundle(shared):
    table = load_instancetypes(shared / KV / "common-clusterinstancetypes-bundle.yaml")
    assert set(table["series"]) == {"u1", "o1", "cx1", "m1", "n1", "rt1", "d1"}


def _choose(rows, limit=25.0, cores=64, memory_mib=1024 * 1024, overcommit=4.0):
    demand = pd.DataFrame(rows, columns=["vm_id", "vcpus", "memory_mib", "max_vcpus", "series"])
    table = load_instancetypes()
    return choose_shapes(demand, table, capacity_cost(table, cores, memory_mib, overcommit), limit).set_index(
        "vm_id")


def test_capacity_cost_by_hand():
    table = load_instancetypes().set_index("name")
    cost = pd.Series(capacity_cost(table, 64, 1024 * 1024, 4.0), index=table.index)
    # u1.xlarge 4 vCPU / 16 GiB: 4/4/64 + 16384/1048576 = 0.015625 + 0.015625
    assert cost["u1.xlarge"] == pytest.approx(0.03125)
    # o1 requests half its memory: o1.xlarge 4 / 16 GiB -> 0.015625 + 0.0078125
    assert cost["o1.xlarge"] == pytest.approx(0.0234375)
    # cx1 takes whole dedicated cores: cx1.xlarge 4 / 8 GiB -> 4/64 + 8192/1048576
    assert cost["cx1.xlarge"] == pytest.approx(0.0703125)


def test_cheapest_honest_shape_or_custom():
    got = _choose([
        ("a", 1, 900, 2, "u1 m1"),     # u1.micro 1 vCPU / 1 GiB: overshoot 13.8 %
        ("b", 2, 3500, 2, "u1 m1"),    # u1.2xmedium 2 / 4 GiB: 17 %
        ("c", 4, 2048, 4, "u1 m1"),    # 4 vCPU / 2 GiB: u1.xlarge 16 GiB is +700 %: custom
        ("d", 4, 131072, 4, "u1 m1"),  # 4 / 128 GiB: only m1.8xlarge (32 vCPU) holds it: custom
        ("e", 2, 14000, 2, "u1 m1"),   # 2 / 13.7 GiB: m1.large 2 / 16 GiB (+17 %), cheaper than custom
        ("f", 3, 12000, 4, "u1 m1"),   # 3 vCPU: u1.xlarge 4 / 16 GiB, +36.5 % > 25 %: custom 3 / 12000
        ("g", 3, 14000, 8, "u1 m1"),   # u1.xlarge +17 %, 4 vCPU <= ceiling 8
        ("h", 4, 8192, 4, "cx1"),      # latency-sensitive: cx1.xlarge 4 / 8 GiB (2Mi pages before 1Gi)
    ])
    assert got["shape"].to_dict() == {"a": "instancetype", "b": "instancetype", "c": "custom", "d": "custom",
                                      "e": "instancetype", "f": "custom", "g": "instancetype",
                                      "h": "instancetype"}
    assert got["instancetype"].dropna().to_dict() == {"a": "u1.micro", "b": "u1.2xmedium", "e": "m1.large",
                                                      "g": "u1.xlarge", "h": "cx1.xlarge"}
    assert got.loc["a", "memory_overshoot_pct"] == pytest.approx(13.8)  # (1024 - 900) / 900
    assert (got.loc["c", "guest_vcpus"], got.loc["c", "guest_memory_mib"]) == (4, 2048)
    assert got.loc["c", "memory_overshoot_pct"] == 0
    assert "would overshoot memory by 700% (limit 25%)" in got.loc["c", "instancetype_reason"]
    assert (got.loc["d", "guest_vcpus"], got.loc["d", "guest_memory_mib"]) == (4, 131072)
    assert "with at most 4 vCPU" in got.loc["d", "instancetype_reason"]
    assert (got.loc["f", "guest_vcpus"], got.loc["f", "guest_memory_mib"]) == (3, 12000)
    # a looser limit takes the instancetype
    assert _choose([("f", 3, 12000, 4, "u1 m1")], limit=40).loc["f", "instancetype"] == "u1.xlarge"


def test_preference_from_guest_os_and_firmware_check():
    vms = pd.DataFrame({
        "vm_id": ["w", "r", "u", "x"],
        "guest_os_tools": ["Microsoft Windows Server 2022 (64-bit)", "", "Ubuntu Linux (64-bit)", ""],
        "guest_os_config": ["Microsoft Windows Server 2016 or later (64-bit)",
                            "Red Hat Enterprise Linux 9 (64-bit)", "Ubuntu Linux (64-bit)", "Other (32-bit)"],
        "guest_id": ["windows2019srvNext_64Guest", "rhel9_64Guest", "ubuntu64Guest", "otherGuest"],
        "firmware": ["efi", "bios", "efi", "bios"],
    })
    got = choose_preferences(vms, load_preferences()).set_index("vm_id")
    assert got["preference"].tolist() == ["windows.2k22.virtio", "rhel.9", "ubuntu", "legacy"]
    # rhel.9 prefers EFI, the VM boots BIOS: must be said, with the fix
    assert "prefers EFI but the VM boots BIOS" in got.loc["r", "preference_reason"]
    assert "bootloader.efi" in got.loc["u", "preference_reason"]
    assert "BIOS" not in got.loc["w", "preference_reason"]
    assert got.loc["w", "pref_min_memory_mib"] == 2048
