"""Readiness parameters: every threshold a rule, the verdict or the strategy uses, in one model."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from assess.model.params import Params


class ReadinessParams(Params):
    """Thresholds of the readiness stage (``readiness:`` in the assessment config file).

    Attributes:
        as_of: reference time for "powered off for long"; default the newest ``read_at`` of
            the estate's sources, else now.
        powered_off_days: a VM powered off for longer than this is excluded (retire candidate).
        max_disks: more disks than this is a Warning (KubeVirt/Forklift limit).
        min_free_root_mib, min_free_boot_mib, min_free_windows_c_mib, min_free_other_mib:
            free space virt-v2v needs on ``/``, ``/boot``, ``C:`` and other file systems.
        effort_disk_tiers_gib: upper bounds of total provisioned disk (GiB) for effort 1, 2, 3;
            above the last bound the disk score is 4.
        replatform_max_disk_gib, replatform_max_vcpus, replatform_max_memory_mib: what counts
            as a "small" VM for the replatform (container) candidate.
        web_ports: inbound ports that count as web/app-tier traffic for replatform.
    """

    model_config = ConfigDict(extra="forbid")

    as_of: datetime | None = None
    powered_off_days: int = Field(90, ge=1)
    max_disks: int = Field(165, ge=1)
    min_free_root_mib: float = 100.0
    min_free_boot_mib: float = 50.0
    min_free_windows_c_mib: float = 100.0
    min_free_other_mib: float = 10.0
    effort_disk_tiers_gib: tuple[float, float, float] = (100.0, 1024.0, 5120.0)
    replatform_max_disk_gib: float = Field(50.0, gt=0)
    replatform_max_vcpus: int = Field(4, ge=1)
    replatform_max_memory_mib: float = Field(8192.0, gt=0)
    web_ports: tuple[int, ...] = (80, 443, 8080, 8443)
