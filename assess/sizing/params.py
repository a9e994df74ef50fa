"""Every sizing parameter, with its default and why, grouped by the step that uses it.

``SizingParams`` is what ``assess.sizing.size_estate`` takes. Nothing in the sizing code uses a
number that is not here: change a default by passing a value, e.g.
``SizingParams(rightsizing={"percentile": 99}, packing={"cpu_overcommit": 8})``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from assess.model.params import Params


class _Params(Params):
    model_config = ConfigDict(extra="forbid")


class GuestMinimum(_Params):
    """Smallest size a guest OS family runs on; right-sizing never goes below it."""

    family: str = Field(description="Name shown in the sizing reason")
    pattern: str = Field(description="Regex matched (case-insensitive) on guest OS text and guest id")
    vcpus: int = Field(1, ge=1, description="Minimum vCPUs")
    memory_mib: float = Field(512, gt=0, description="Minimum memory, MiB")


def _guest_minimums() -> list[GuestMinimum]:
    # Windows Server 2016-2025 with Desktop Experience needs 2 GB RAM (Microsoft "Hardware
    # requirements for Windows Server"); 2 vCPU because patching and Defender scans stall a
    # 1-vCPU Windows guest. RHEL 8/9 needs 1.5 GiB to install and run ("RHEL technology
    # capabilities and limits"); other Linux 1 GiB; unknown guests get min_vcpus/min_memory_mib.
    return [
        GuestMinimum(family="windows", pattern="windows|win20|win10|win11", vcpus=2, memory_mib=2048),
        GuestMinimum(family="rhel", pattern="red hat|rhel|centos|rocky|alma|oracle linux", vcpus=1,
                     memory_mib=1536),
        GuestMinimum(family="linux", pattern="linux|ubuntu|debian|suse|sles|photon", vcpus=1,
                     memory_mib=1024),
    ]


class RightSizing(_Params):
    """How each VM's vCPUs and memory are derived (Azure Migrate's performance-based sizing)."""

    mode: Literal["as_is", "performance"] = Field(
        "performance", description="as_is: allocated vCPU/memory; performance: from utilization history"
    )
    percentile: Literal[50, 90, 95, 99] = Field(95, description="Percentile of the samples sized for")
    comfort_factor: float = Field(
        1.3, ge=1.0, le=5.0, description="Headroom multiplied onto the percentile demand (Azure default 1.3)"
    )
    lookback_days: float = Field(
        30, gt=0, description="Days of history used, counted back from lookback_end (1, 7, 30 or any)"
    )
    lookback_end: datetime | None = Field(
        None, description="End of every VM's window (UTC); None = each VM's own latest sample"
    )
    memory_metrics: list[Literal["mem_consumed_mib", "mem_active_mib"]] = Field(
        default_factory=lambda: ["mem_consumed_mib", "mem_active_mib"],
        description="Memory metrics in order of preference; the first one a VM has is used",
    )
    min_vcpus: int = Field(1, ge=1, description="Floor for every VM")
    min_memory_mib: float = Field(512, gt=0, description="Floor for every VM, MiB")
    guest_minimums: list[GuestMinimum] = Field(
        default_factory=_guest_minimums,
        description="Floors per guest family; the first whose pattern matches the guest OS applies",
    )
    fallback_core_mhz: float = Field(
        2400.0, gt=0, description="Core speed used when neither the VM's host nor any host has one, MHz"
    )
    upsizing: Literal["allow", "cap_at_allocated"] = Field(
        "cap_at_allocated",
        description="allow: demand above the allocation raises the size; cap_at_allocated: never above it",
    )
    sample_interval_s: int | None = Field(
        None, gt=0, description="Expected seconds between samples; None = from the data (the declared "
        "interval_s, else the modal spacing of the VM's de-duplicated samples)",
    )
    default_interval_s: int = Field(
        300, gt=0, description="Expected seconds between samples when neither the VM's data nor the "
        "estate's median interval can tell (vCenter's 5-minute historical level)",
    )
    stats_memory_limit: str | None = Field(
        "4GB", description="DuckDB memory ceiling when summarising utilization files out of core (it "
        "spills to disk beyond it); None = DuckDB's default (80% of RAM)"
    )
    confidence_bands: tuple[float, float, float, float] = Field(
        (20.0, 40.0, 60.0, 80.0),
        description="Upper edges (% of expected samples present) of 1..4 stars; above the last is 5 "
        "(Azure Migrate: 0-20 1, 21-40 2, 41-60 3, 61-80 4, 81-100 5)",
    )


class Idle(_Params):
    """Idle ("zombie") detection: every measured signal quiet, relative to the VM's own capacity."""

    cpu_pct_p95: float = Field(
        5.0, ge=0, le=100, description="CPU P95 at most this % of the VM's capacity (vCPUs x core MHz)"
    )
    cpu_pct_p99: float = Field(
        10.0, ge=0, le=100, description="and CPU P99 at most this % (keeps periodic batch work out)"
    )
    net_kbps_p95: float = Field(
        20.0, ge=0, description="Network P95 at most this, KB/s (agents and lookups move a few KB/s)"
    )
    disk_kbps_p95: float = Field(100.0, ge=0, description="Disk P95 at most this, KB/s")
    mem_active_pct_p95: float = Field(
        15.0, ge=0, le=100, description="Active memory P95 at most this % of the allocation"
    )
    min_signals: int = Field(
        2, ge=1, le=4, description="Signals (CPU, network, disk, active memory) a VM must report for a "
        "verdict; CPU is always required"
    )
    min_samples: int = Field(12, ge=1, description="Fewer CPU samples than this: no verdict (idle=False)")
    use_model: bool = Field(
        True, description="Corroborate with an IsolationForest fitted on the idle VMs (evidence only)"
    )
    exclude_idle: bool = Field(
        True, description="Idle VMs are retire candidates: leave them out of packing (see also "
        "packing.include_unmigrated)"
    )
    random_state: int = Field(0, description="Seed of the model")


class Profiles(_Params):
    """Workload profiles: VMs clustered by utilization shape, named for the report."""

    n_clusters: int = Field(4, ge=1, le=12, description="Clusters fitted (then named by their centre)")
    memory_bound_gib_per_vcpu: float = Field(
        6.0, gt=0, description="Demand ratio above which a VM is memory-bound (u1 is 4 GiB/vCPU, m1 8)"
    )
    cpu_bound_gib_per_vcpu: float = Field(
        2.5, gt=0, description="Demand ratio below which a busy VM is cpu-bound (cx1 is 2 GiB/vCPU)"
    )
    bursty_peak_ratio: float = Field(
        3.0, gt=1, description="P99/P50 CPU ratio above which a VM is bursty"
    )
    random_state: int = Field(0, description="Seed of the clustering")


class Growth(_Params):
    """Demand trend per cluster, projected forward."""

    horizon_months: float = Field(12, ge=0, description="Projection horizon, months")
    min_days: int = Field(7, ge=2, description="Fewer daily points than this: growth factor 1.0")
    max_factor: float = Field(3.0, ge=1, description="Cap on the projected factor (guards noisy fits)")
    allow_shrink: bool = Field(False, description="Let a falling trend reduce the projection below 1.0")


class KubeVirtMapping(_Params):
    """How a right-sized VM becomes KubeVirt resources (instancetype, overhead, PVCs)."""

    allowed_series: list[str] = Field(
        default_factory=lambda: ["u1", "m1"],
        description="Instancetype series a VM may get; the cheapest in node capacity that holds it wins",
    )
    overcommit_series: str = Field("o1", description="Series where memory overcommit is allowed")
    latency_sensitive_series: str = Field(
        "cx1", description="The only series for latency-sensitive VMs (dedicated CPUs)"
    )
    max_memory_overshoot_pct: float = Field(
        25.0, ge=0, description="Most guest memory an instancetype may add over the right-sized memory, "
        "in %; above it (or when it would add vCPUs) the VM gets explicit resources (shape custom)"
    )
    instancetypes_file: str | None = Field(
        None, description="Cluster instancetype bundle (YAML); None = common-instancetypes v1.7.0"
    )
    preferences_file: str | None = Field(
        None, description="Cluster preference bundle (YAML); None = common-instancetypes v1.7.0"
    )
    use_overcommit_series: bool = Field(
        False, description="Memory overcommit allowed: also offer overcommit_series to VMs that are not "
        "latency-sensitive (o1 pods request 50% of guest memory)"
    )
    graphics: bool = Field(True, description="autoattachGraphicsDevice on (adds 32 MiB video RAM)")
    cpu_allocation_ratio: float = Field(
        10, gt=0, description="KubeVirt cpuAllocationRatio: CPU request = vCPUs / ratio unless dedicated"
    )
    additional_guest_memory_overhead_ratio: float = Field(
        1.0, ge=1.0, description="KubeVirt additionalGuestMemoryOverheadRatio applied to the overhead"
    )
    filesystem_overhead: float = Field(
        0.06, ge=0, lt=1, description="CDI filesystemOverhead for Filesystem volumes (0.055 before 1.64)"
    )
    storage_class_map: dict[str, str] = Field(
        default_factory=dict, description="Datastore name -> storage class; unmapped go to default"
    )
    default_storage_class: str = Field("default", description="Storage class for unmapped datastores")
    volume_mode: dict[str, Literal["Filesystem", "Block"]] = Field(
        default_factory=dict, description="Storage class -> volume mode; unlisted are Filesystem"
    )
    filesystem_overhead_per_class: dict[str, float] = Field(
        default_factory=dict, description="Storage class -> filesystem overhead overriding the default"
    )
    replication_factor: float = Field(
        3.0, ge=1, description="Raw copies the target storage keeps (Ceph/ODF replica 3)"
    )
    replication_per_class: dict[str, float] = Field(
        default_factory=dict, description="Storage class -> replication factor overriding the default"
    )


class NodeProfile(_Params):
    """One kind of worker node that VMs can be packed onto."""

    name: str
    cores: int = Field(gt=0, description="Physical cores")
    threads: int = Field(gt=0, description="Hardware threads")
    count_threads: bool = Field(False, description="Schedule on threads instead of cores")
    memory_mib: float = Field(gt=0, description="Physical memory, MiB")
    price_per_year: float = Field(ge=0, description="Amortised hardware + hosting per year")
    max_vms: int = Field(110, gt=0, description="VMs per node (kubelet maxPods default 110)")


def _node_profiles() -> list[NodeProfile]:
    # A common 2-socket x86 server: 2 x 32 cores, 1 TiB; 5-year amortisation of about USD 60k.
    return [
        NodeProfile(name="2s-64c-1024g", cores=64, threads=128, memory_mib=1024 * 1024,
                    price_per_year=12000.0),
    ]


class Packing(_Params):
    """How VMs are packed onto nodes."""

    node_profiles: list[NodeProfile] = Field(default_factory=_node_profiles)
    system_reserved_cpu_cores: float = Field(1.0, ge=0, description="kubelet systemReserved cpu")
    system_reserved_memory_mib: float = Field(2048, ge=0, description="kubelet systemReserved memory")
    kube_reserved_cpu_cores: float = Field(1.0, ge=0, description="kubelet kubeReserved cpu")
    kube_reserved_memory_mib: float = Field(2048, ge=0, description="kubelet kubeReserved memory")
    target_utilization: float = Field(0.8, gt=0, le=1, description="Fill ceiling per node")
    cpu_overcommit: float = Field(
        4.0, ge=1, description="vCPUs per schedulable core when packing (real demand vs node cores)"
    )
    memory_overcommit: float = Field(1.0, ge=1, description="Memory overcommit (1.0 = none)")
    ha_reserve: Literal["n_plus", "percent"] = Field("n_plus", description="How failover capacity is held")
    ha_spare_nodes: int = Field(1, ge=0, description="N+k: spare nodes when ha_reserve = n_plus")
    ha_percent: float = Field(0.1, ge=0, lt=1, description="Share of nodes held spare when percent")
    ha_min_failover_nodes: int = Field(2, ge=0, description="At least this many spare (migration-planner)")
    respect_anti_affinity: bool = Field(True, description="Keep DRS anti-affinity groups apart")
    include_unmigrated: bool = Field(
        False, description="Also pack VMs that do not migrate as they are: readiness not_ready, strategy "
        "retire or retain, and idle VMs (readiness-excluded VMs are never packed)"
    )
    cpsat_time_limit_s: float = Field(10.0, gt=0, description="CP-SAT improvement time limit, seconds")
    random_state: int = Field(0, description="Seed for CP-SAT and tie-breaking")


class Cost(_Params):
    """Current VMware cost vs target platform cost; every figure an explicit assumption."""

    currency: str = Field("USD")
    vmware_price_per_core_year: float = Field(
        350.0, ge=0, description="VMware subscription per core-year (VCF list price, 2024)"
    )
    vmware_min_cores_per_socket: int = Field(16, ge=0, description="Licensed cores minimum per socket")
    current_hardware_per_year: float = Field(0.0, ge=0, description="Current hardware cost per year")
    current_support_per_year: float = Field(0.0, ge=0, description="Current support cost per year")
    target_subscription_per_core_year: float = Field(
        0.0, ge=0, description="Target platform subscription per node core-year"
    )
    target_subscription_per_node_year: float = Field(
        0.0, ge=0, description="Target platform subscription per node-year"
    )
    target_support_per_year: float = Field(0.0, ge=0, description="Target support cost per year")


class SizingParams(_Params):
    """All parameters of the sizing stage, grouped by step."""

    rightsizing: RightSizing = Field(default_factory=RightSizing)
    idle: Idle = Field(default_factory=Idle)
    profiles: Profiles = Field(default_factory=Profiles)
    growth: Growth = Field(default_factory=Growth)
    kubevirt: KubeVirtMapping = Field(default_factory=KubeVirtMapping)
    packing: Packing = Field(default_factory=Packing)
    cost: Cost = Field(default_factory=Cost)
