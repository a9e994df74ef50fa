import pandas as pd
import pandas.testing as pdt

from assess.sizing.instancetypes import instancetypes_from_bundle, load_instancetypes, smallest_fitting
from assess.sizing.preferences import choose_preferences, load_preferences, preferences_from_bundle

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


def _choose(rows, fallbacks=None):
    demand = pd.DataFrame(rows, columns=["vm_id", "vcpus", "memory_mib", "series"])
    return smallest_fitting(demand, load_instancetypes(), fallbacks).set_index("vm_id")


def test_smallest_instancetype_that_fits():
    got = _choose([
        ("a", 1, 900, "u1"),     # u1.micro 1 vCPU 1 GiB
        ("b", 2, 3000, "u1"),    # u1.2xmedium 2/4 GiB (u1.large 2/8 is bigger)
        ("c", 3, 4096, "u1"),    # needs 3 vCPU: u1.xlarge 4/16 GiB
        ("d", 2, 4096, "cx1"),   # cx1.large 2/4 GiB, the 2Mi variant before large1gi
        ("e", 1, 10240, "m1"),   # m1.large 2/16 GiB
        ("f", 1, 3000, "o1"),    # o1.medium 1/4 GiB
    ])
    assert got["instancetype"].tolist() == [
        "u1.micro", "u1.2xmedium", "u1.xlarge", "cx1.large", "m1.large", "o1.medium"]
    assert got.loc["c", "it_vcpus"] == 4 and got.loc["c", "it_memory_mib"] == 16384


def test_fallback_series_then_explicit_resources():
    got = _choose([("big", 8, 200 * 1024, "u1"), ("huge", 64, 600 * 1024, "u1")], {"u1": ["m1"]})
    # u1 tops out at 128 GiB; m1.8xlarge has 32 vCPU / 256 GiB
    assert got.loc["big", "instancetype"] == "m1.8xlarge"
    assert "u1 series has no size this big" in got.loc["big", "instancetype_reason"]
    assert pd.isna(got.loc["huge", "instancetype"])
    assert "explicit resources" in got.loc["huge", "instancetype_reason"]


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
