import pandas as pd
import pytest

from assess.sizing.params import KubeVirtMapping
from assess.sizing.storage import disk_pvcs, pvc_request_bytes, storage_totals

GIB = 2**30
MIB = 2**20


def test_filesystem_pvc_adds_cdi_overhead_after_aligning_to_mib():
    # 10 GiB: aligned already; 10737418240 * 1.06 = 11381663334.4 -> ceil 11381663335
    assert pvc_request_bytes(10 * GIB, 0.06) == 11381663335
    # 1 byte over 1 MiB aligns to 2 MiB: 2097152 * 1.06 = 2222981.12 -> 2222982
    assert pvc_request_bytes(MIB + 1, 0.06) == 2222982
    # CDI before 1.64: 0.055 -> 10737418240 * 1.055 = 11327976243.2 -> 11327976244
    assert pvc_request_bytes(10 * GIB, 0.055) == 11327976244


def test_block_mode_is_unchanged():
    assert pvc_request_bytes(10 * GIB + 5, 0.06, block=True) == 10 * GIB + 5


def _estate_tables():
    vms = pd.DataFrame({"vm_id": ["a", "b"], "in_use_mib": [25600.0, 1.0],
                        "provisioned_mib": [102400.0, 1.0]})
    disks = pd.DataFrame({
        "vm_id": ["a", "a", "b"], "disk_key": ["2000", "2001", "2000"],
        "datastore": ["ds-ssd", "ds-ssd", "ds-san"], "capacity_mib": [51200.0, 51200.0, 10240.0],
        "thin": pd.array([True, True, False], dtype="boolean"),
        "raw": pd.array([False, False, True], dtype="boolean"),
    })
    return vms, disks


def test_pvcs_per_disk_with_class_map_thin_share_and_replication():
    vms, disks = _estate_tables()
    params = KubeVirtMapping(storage_class_map={"ds-ssd": "ceph-rbd", "ds-san": "san-block"},
                             volume_mode={"san-block": "Block"}, replication_per_class={"san-block": 1})
    pvcs = disk_pvcs(disks, vms, params)
    assert pvcs["storage_class"].tolist() == ["ceph-rbd", "ceph-rbd", "san-block"]
    # 50 GiB filesystem: 53687091200 * 1.06 = 56908316672 B = 53 GiB
    assert pvcs.loc[0, "pvc_gib"] == pytest.approx(53.0)
    # thin, VM uses 25% of what it provisioned: 53 * 0.25 = 13.25 consumed, x3 replicas = 39.75 raw
    assert pvcs.loc[0, "consumed_gib"] == pytest.approx(13.25)
    assert pvcs.loc[0, "raw_gib"] == pytest.approx(39.75)
    # thick block 10 GiB: 10 consumed, replication 1
    assert pvcs.loc[2, "pvc_gib"] == pytest.approx(10.0) and pvcs.loc[2, "raw_gib"] == pytest.approx(10.0)
    assert "raw device mapping" in pvcs.loc[2, "note"]
    totals = storage_totals(pvcs, params).set_index("storage_class")
    assert totals.loc["ceph-rbd", "requested_gib"] == pytest.approx(106.0)
    assert totals.loc["ceph-rbd", "raw_gib"] == pytest.approx(79.5)
    assert totals.loc["ceph-rbd", "pvcs"] == 2 and totals.loc["san-block", "replication_factor"] == 1


def test_unmapped_datastore_goes_to_default_class():
    vms, disks = _estate_tables()
    pvcs = disk_pvcs(disks, vms, KubeVirtMapping(default_storage_class="standard"))
    assert set(pvcs["storage_class"]) == {"standard"}
