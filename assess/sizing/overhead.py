"""virt-launcher pod resources exactly as KubeVirt computes them.

Memory overhead follows ``GetMemoryOverhead`` in kubevirt/kubevirt
``pkg/hypervisor/kvm/hypervisorbackend.go`` (commit d923fdb, 2026-08):

- page tables: the requested guest memory, rounded up to kB, divided by 512;
- 240 MiB fixed: virt-launcher-monitor 25 + virt-launcher 100 + virtlogd 25 + virtqemud 40 + qemu 50;
- 8 MiB per vCPU; 8 MiB for the IOThread; 32 MiB video RAM unless autoattachGraphicsDevice is false;
- +128 MiB on arm64 (UEFI pflash); +1 GiB with a VFIO device (host device, GPU, SR-IOV NIC);
- +53 MiB with a vTPM (swtpm); +100 MiB with dedicated CPUs (or guaranteed QoS);
- the sum times ``additionalGuestMemoryOverheadRatio`` (applied last, in kB, truncated).

KubeVirt's own unit test ("should return base overhead+static+8Mi") expects 290 MiB for a 1 GiB
VMI with no CPU topology (so 1 vCPU), graphics on, amd64: 2 (page tables) + 240 + 8 (vCPU) + 8
(IOThread) + 32 (video). The test labels the parts 7 + 243 + 8 + 32; the total is the same.

The pod memory request is the guest memory request plus this overhead. The pod CPU request is
``vCPUs / cpuAllocationRatio`` (``WithoutDedicatedCPU`` in renderresources.go), or with dedicated
CPUs the vCPUs plus one for an isolated emulator thread (``WithCPUPinning``).
"""

from __future__ import annotations

import numpy as np

MIB = 2**20
FIXED_MIB = 25 + 100 + 25 + 40 + 50  # virt-launcher-monitor, virt-launcher, virtlogd, virtqemud, qemu
PER_VCPU_MIB = 8
IOTHREAD_MIB = 8
VIDEO_MIB = 32
ARM64_MIB = 128
VFIO_MIB = 1024
VTPM_MIB = 53
DEDICATED_CPU_MIB = 100


def memory_overhead_bytes(
    memory_request_bytes,
    vcpus,
    *,
    graphics=True,
    vfio=False,
    vtpm=False,
    dedicated_cpu=False,
    arm64=False,
    ratio: float = 1.0,
) -> np.ndarray:
    """virt-launcher memory overhead in bytes per VM (vectorised; scalars or arrays).

    Args:
        memory_request_bytes: guest memory request (after any instancetype overcommit), bytes.
        vcpus: guest vCPUs (values below 1 count as 1, as KubeVirt does).
        graphics: autoattachGraphicsDevice left on (adds 32 MiB video RAM).
        vfio: the VM has a VFIO device (PCI passthrough, vGPU, SR-IOV NIC).
        vtpm: the VM has a vTPM.
        dedicated_cpu: dedicatedCPUPlacement (or guaranteed QoS).
        arm64: the node architecture is arm64.
        ratio: KubeVirt's ``additionalGuestMemoryOverheadRatio`` (1.0 = none).
    """
    request = np.asarray(memory_request_bytes, dtype=np.float64)
    # resource.Quantity.ScaledValue(Kilo) rounds up; the page-table bytes are then divided by 512.
    pagetables = (np.ceil(request / 1000) * 1000) // 512
    cpus = np.maximum(np.asarray(vcpus, dtype=np.int64), 1)
    mib = (
        FIXED_MIB + PER_VCPU_MIB * cpus + IOTHREAD_MIB
        + VIDEO_MIB * np.asarray(graphics, dtype=bool)
        + ARM64_MIB * np.asarray(arm64, dtype=bool)
        + VFIO_MIB * np.asarray(vfio, dtype=bool)
        + VTPM_MIB * np.asarray(vtpm, dtype=bool)
        + DEDICATED_CPU_MIB * np.asarray(dedicated_cpu, dtype=bool)
    )
    total = pagetables + mib * MIB
    if ratio != 1.0:
        # MultiplyMemory: kB (rounded up) x (ratio - 1), truncated to whole kB, added back.
        total = total + np.trunc(np.ceil(total / 1000) * (ratio - 1.0)) * 1000
    return total


def memory_overhead_mib(memory_request_mib, vcpus, **flags) -> np.ndarray:
    """:func:`memory_overhead_bytes` taking and returning MiB."""
    return memory_overhead_bytes(np.asarray(memory_request_mib, dtype=np.float64) * MIB, vcpus,
                                 **flags) / MIB


def memory_request_mib(guest_memory_mib, overcommit_percent=0) -> np.ndarray:
    """Guest memory the pod requests: the instancetype's ``overcommitPercent`` lowers it.

    KubeVirt (``pkg/instancetype/apply/memory.go``) computes it with float32 and truncates to bytes.
    """
    guest = np.asarray(guest_memory_mib, dtype=np.float64) * MIB
    share = (1 - np.asarray(overcommit_percent, dtype=np.float32) / np.float32(100)).astype(np.float32)
    reduced = np.trunc((guest.astype(np.float32) * share).astype(np.float64))
    return np.where(np.asarray(overcommit_percent) > 0, reduced, guest) / MIB


def cpu_request_cores(vcpus, *, dedicated_cpu=False, isolate_emulator_thread=False,
                      cpu_allocation_ratio: float = 10) -> np.ndarray:
    """Pod CPU request in cores: vCPUs / cpuAllocationRatio, or whole cores when dedicated."""
    cpus = np.asarray(vcpus, dtype=np.float64)
    dedicated = np.asarray(dedicated_cpu, dtype=bool)
    pinned = cpus + np.asarray(isolate_emulator_thread, dtype=bool) * 1.0
    return np.where(dedicated, pinned, cpus / cpu_allocation_ratio)
