import numpy as np
import pytest

from assess.sizing.overhead import cpu_request_cores, memory_overhead_mib, memory_request_mib


def test_kubevirt_own_case_1gi_1vcpu_is_290_mib():
    # KubeVirt hypervisorbackend_test.go: 1Gi request, no CPU topology (1 vCPU), graphics on, amd64.
    # page tables: ceil(1073741824 / 1000) * 1000 // 512 = 2097152 B = 2 MiB
    # 2 + 240 fixed + 8 (1 vCPU) + 8 IOThread + 32 video = 290 MiB
    assert memory_overhead_mib(1024, 1) == pytest.approx(290.0, abs=1e-9)


def test_components_add_as_kubevirt_adds_them():
    # 4 GiB, 4 vCPU, no graphics, vTPM, VFIO, dedicated CPU:
    # page tables: 4294967296 -> ceil(/1000)*1000 = 4294968000 // 512 = 8388609 B = 8.000000954 MiB
    # 240 + 4*8 + 8 + 1024 (VFIO) + 53 (vTPM) + 100 (dedicated) = 1457 MiB, + page tables
    got = memory_overhead_mib(4096, 4, graphics=False, vfio=True, vtpm=True, dedicated_cpu=True)
    assert got == pytest.approx(1457 + 8388609 / 2**20, abs=1e-9)


def test_zero_vcpus_count_as_one_and_arm64_adds_pflash():
    # 1 GiB, 0 vCPU -> 1: 290; arm64 + 128 = 418
    assert memory_overhead_mib(1024, 0, arm64=True) == pytest.approx(418.0)


def test_additional_overhead_ratio_multiplies_the_whole_overhead():
    # 290 MiB = 304087040 B = 304087.04 kB -> ceil 304088 kB; * (1.5 - 1) = 152044 kB added
    # total = 304087040 + 152044000 = 456131040 B
    got = memory_overhead_mib(1024, 1, ratio=1.5)
    assert got * 2**20 == pytest.approx(456131040, abs=1)


def test_vectorised_over_vms():
    got = memory_overhead_mib(np.array([1024, 2048]), np.array([1, 2]), graphics=np.array([True, False]))
    # second: 2 GiB -> pagetables 2147484000 // 512 = 4194304 B = 4 MiB; 4 + 240 + 16 + 8 = 268
    assert got.tolist() == pytest.approx([290.0, 268.0])


def test_cpu_request_uses_allocation_ratio_unless_dedicated():
    # 4 vCPU / 10 = 0.4 cores; dedicated 4 + 1 emulator thread = 5 cores; ratio 4 -> 1.0
    assert cpu_request_cores(4).tolist() == pytest.approx(0.4)
    assert cpu_request_cores(4, dedicated_cpu=True, isolate_emulator_thread=True) == 5
    assert cpu_request_cores(4, cpu_allocation_ratio=4) == 1.0


def test_instancetype_overcommit_halves_the_request():
    # o1.medium: 4Gi guest, overcommitPercent 50 -> 2 GiB requested
    assert memory_request_mib([4096, 4096], [50, 0]).tolist() == [2048.0, 4096.0]
