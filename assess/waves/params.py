"""Parameters of the wave planner: grouping rules, wave caps, transfer model and calendar."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from assess.model.params import Params

#: Infrastructure ports (DNS, AD/LDAP, Kerberos, NTP, backup, monitoring, patching, syslog, config
#: management, anti-virus, jump hosts over SSH/RDP/WinRM): evidence that a hub is a shared service.
INFRA_PORTS: dict[int, str] = {
    53: "DNS", 88: "Kerberos", 123: "NTP", 389: "LDAP", 636: "LDAPS", 3268: "AD global catalog",
    3269: "AD global catalog (TLS)", 464: "Kerberos password", 135: "AD RPC", 445: "SMB/AD",
    67: "DHCP", 514: "syslog", 161: "SNMP", 162: "SNMP trap", 5666: "Nagios NRPE",
    10050: "Zabbix agent", 10051: "Zabbix server", 9100: "node exporter", 9182: "windows exporter",
    1556: "NetBackup", 13724: "NetBackup", 10000: "NDMP backup", 9392: "Veeam", 6160: "Veeam",
    8530: "WSUS", 8531: "WSUS (TLS)", 5985: "WinRM", 5986: "WinRM (TLS)", 4505: "Salt",
    4506: "Salt", 8140: "Puppet", 1514: "Wazuh", 3260: "iSCSI", 22: "SSH (jump host)",
    3389: "RDP (jump host)", 4118: "Trend Micro agent", 8014: "Symantec AV",
}

#: Database ports: an application and its database move together.
DB_PORTS: dict[int, str] = {
    1433: "SQL Server", 1434: "SQL Server browser", 1521: "Oracle", 1522: "Oracle",
    3306: "MySQL", 5432: "PostgreSQL", 27017: "MongoDB", 6379: "Redis", 9042: "Cassandra",
    50000: "Db2", 5984: "CouchDB", 9200: "Elasticsearch", 11211: "memcached",
}


class WavesParams(Params):
    """How move groups are formed and ordered into waves.

    Lists of VMs accept vm_ids or VM names. Pins map a vm_id, VM name or group id to a wave.
    """

    model_config = ConfigDict(extra="forbid")

    # --- dependency graph and inventory evidence
    app_attributes: list[str] = Field(
        default_factory=lambda: ["app", "application", "app_name", "service"],
        description="Custom attribute / tag category names that name a VM's application "
        "(case-insensitive); VMs with the same value are hard-linked.")
    app_mapping: dict[str, str] = Field(
        default_factory=dict, description="User mapping VM (vm_id or name) -> application.")
    env_attributes: list[str] = Field(
        default_factory=lambda: ["env", "environment", "stage", "lifecycle"],
        description="Attribute names holding the environment (dev/test/prod).")
    environment_patterns: dict[str, str] = Field(
        default_factory=lambda: {
            "sandbox": r"(?<![a-z])(sandbox|sbx|lab|poc|demo|playground)(?![a-z])",
            "dev": r"(?<![a-z])(dev|devel\w*|development|desarrollo)(?![a-z])",
            "test": r"(?<![a-z])(test\w*|tst|qa|uat|stag\w*|preprod|pre-prod|pruebas)(?![a-z])",
            "prod": r"(?<![a-z])(prod\w*|prd|live|produc\w*)(?![a-z])"},
        description="Environment -> regex (lower-case text) tried in order on the environment attribute, "
        "folder, resource pool and cluster names.")
    environment_name_patterns: dict[str, str] = Field(
        default_factory=lambda: {
            "sandbox": r"^s\d*[-_]|(?<![a-z])(sandbox|sbx)(?![a-z])",
            "dev": r"^d[-_]|(?<![a-z])(dev|devel)(?![a-z])",
            "test": r"^t[-_]|(?<![a-z])(test|tst|qa|uat|stg)(?![a-z])",
            "prod": r"^p[-_]|(?<![a-z])(prod|prd)(?![a-z])"},
        description="Environment -> regex tried on the VM name (lower case), e.g. 'P-' for production.")
    owner_attributes: list[str] = Field(
        default_factory=lambda: ["owner", "contact", "team", "business unit", "cost center"],
        description="Attribute names holding an owner: weak evidence that VMs belong together.")
    generic_placements: list[str] = Field(
        default_factory=lambda: ["vm", "vms", "resources", "discovered virtual machine", "templates",
                                 "virtual machines", ""],
        description="Folder / resource pool leaf names (lower case) that say nothing about the application.")
    evidence_weights: dict[str, float] = Field(
        default_factory=lambda: {"name": 1.0, "vapp": 1.0, "folder": 0.3, "resource pool": 0.3, "owner": 0.0},
        description="Weight of each inventory evidence kind, in units of the median significant flow link "
        "(1.0 without flows); below 0.5 it only attaches VMs that nothing else links; 0 ignores the kind.")
    weak_evidence_max_vms: int = Field(
        10, ge=2, description="Folders, resource pools and owners holding more VMs than this are too broad "
        "to say which application a VM belongs to.")
    move_together: list[list[str]] = Field(
        default_factory=list, description="User rules: each list of VMs moves together.")
    keep_apart: list[list[str]] = Field(
        default_factory=list,
        description="User rules: the VMs of each list go to different groups and waves.")
    use_affinity_rules: bool = Field(True, description="Enabled DRS VM-VM affinity rules are hard links.")
    weight: Literal["bytes", "connections"] = Field(
        "bytes", description="Flow weight; falls back to connections where bytes are unknown.")

    # --- link classes
    infra_ports: dict[int, str] = Field(default_factory=lambda: dict(INFRA_PORTS))
    db_ports: dict[int, str] = Field(default_factory=lambda: dict(DB_PORTS))
    database_links: Literal["hard", "soft"] = Field(
        "hard", description="App <-> database flows are hard links (default) or soft links "
        "with a precedence (database no later than its applications).")
    shared_service_share: float = Field(
        0.2, gt=0, le=1, description="An endpoint talking (either direction, any port) to at least "
        "this share of the estate's VMs is a shared service ...")
    shared_service_min_peers: int = Field(3, ge=2, description="... and to at least this many VMs ...")
    shared_service_min_groups: int = Field(
        5, ge=1, description="... in at least this many pre-groups (hard components and name stems), "
        "unless it talks on infrastructure ports (DNS, AD, jump hosts: evidence, not the gate).")
    link_significance: float = Field(
        0.5, ge=0, le=1, description="A soft flow link joins two VMs only when its weight is at least this "
        "share of the strongest link of one of its ends ...")
    link_floor_mads: float | None = Field(
        3.0, ge=0, description="... and not a low outlier among VMs' strongest links: at least exp(median - "
        "link_floor_mads x robust sd) of their logarithms (a single light link never merges two apps; "
        "scale-free, so byte counts and slot counts are judged alike). None: no floor.")
    shared_services: list[str] = Field(
        default_factory=list, description="VMs the user declares shared services.")
    shared_services_wave: Literal["first", "last"] = Field(
        "first", description="Shared services move in wave 0 (first) or stay until the last wave.")

    # --- move groups
    resolution: float = Field(1.0, gt=0, description="Louvain resolution (higher: smaller groups) for "
                              "estates up to resolution_vms VMs.")
    resolution_vms: int | None = Field(
        150, ge=1, description="Above this many VMs the resolution grows with VMs / resolution_vms, so a "
        "group absorbs a VM when the VM's share of traffic to it exceeds about the group's size (in "
        "average VMs) / resolution_vms, whatever the estate size; plain modularity merges small "
        "applications joined by light noise more and more as the estate grows. None: fixed resolution.")
    seed: int = Field(0, description="Louvain seed (fixed for reproducible plans).")
    max_group_vms: int = Field(40, ge=1, description="Soft communities above this are split at "
                               "their weakest links (hard-linked components are never split).")

    # --- wave caps and transfer model
    max_vms_per_wave: int | None = Field(
        None, ge=1, description="Optional extra cap on VMs per wave; None: the throughput model decides.")
    max_tb_per_wave: float | None = Field(
        None, gt=0, description="Optional extra cap on storage moved per wave, TiB; None: no such cap.")
    window_hours: float = Field(48.0, gt=0, description="Migration window length, hours (a weekend).")
    bandwidth_gbps: float = Field(10.0, gt=0, description="Network bandwidth from the source datastores to "
                                  "the target storage, Gbit/s.")
    efficiency: float = Field(0.7, gt=0, le=1, description="Usable share of the bandwidth (protocol "
                              "overhead, other traffic; 70% is a common planning figure for a shared "
                              "10 GbE link).")
    storage_write_gbps: float | None = Field(
        None, gt=0, description="Sustained write rate of the target storage, Gbit/s; None: not measured, "
        "not a "
        "limit (measure with fio on the target storage class before trusting the plan).")
    per_vm_gbps: float = Field(2.0, gt=0, description="Throughput of one VM's disk copy, Gbit/s (VDDK over "
                               "NBD/NBDSSL moves one disk at a few hundred MB/s: VMware VDDK performance "
                               "guide; Red Hat's MTV performance recommendations measured 200-325 MiB/s, "
                               "1.7-2.7 Gbit/s, per source ESXi host).")
    providers: int = Field(1, ge=1, description="Source providers (vCenters) migrating in parallel, each "
                           "with "
                           "its own Forklift concurrency.")
    max_concurrent: int = Field(
        20, ge=1, description="Forklift maxInFlight: migrations running at once "
        "(controller_max_vm_inflight, default 20 in the Forklift operator). For VMware sources MTV 2.6 and "
        "later counts it per source ESXi host (VMs for cold, disks for warm), so a wave spread over several "
        "hosts runs more at once: the model counts one host per provider, a floor.")
    parallel_waves: int = Field(1, ge=1, description="Waves that share one window, each on its own provider "
                                "(at most providers); they share the link and the target storage.")
    cutover_minutes_per_vm: float = Field(
        10.0, ge=0, description="Cutover per VM: shutdown, final delta, conversion, boot (minutes; runs "
        "max_concurrent at a time).")
    cutover_minutes_per_wave: float = Field(
        60.0, ge=0, description="Fixed cutover work per wave: change freeze, DNS/load-balancer switch, "
        "smoke tests.")
    validate_vms_per_window: int | None = Field(
        None, ge=1, description="VMs the application teams can validate in one window (people limit); None: "
        "not a limit, and the timeline says how many VMs the busiest window asks to validate and how many "
        "teams that takes (one migration-factory team reaches 50-100 servers a week at full velocity: AWS "
        "Prescriptive Guidance, large migrations, stage 2). Set it to the teams you have.")
    warm_precopy_days: float = Field(
        2.0, ge=0, description="Least days of warm pre-copy before a warm VM's cutover; a VM whose first "
        "full copy at one VM's copy rate takes longer, or a wave whose warm disks take longer at the wave's "
        "copy rate, starts its pre-copy that much earlier.")
    precopy_interval_minutes: float = Field(
        60.0, gt=0, description="Minutes between warm pre-copies: Forklift re-copies the changed blocks "
        "every controller_precopy_interval (60 min by default in the Forklift operator, MTV docs 'Changing "
        "the precopy interval for warm migration'), so at cutover a warm VM copies what changed since the "
        "last pre-copy: its change rate x this interval.")
    warm_delta_fraction: float = Field(
        0.1, ge=0, le=1, description="Share of a warm VM's disk copied inside the window where its change "
        "rate is not measured (the rest is pre-copied ahead of it); cold VMs copy everything inside the "
        "window.")

    # --- precedence
    pilot_vms: int = Field(5, ge=0, description="VMs in the pilot wave (0: no pilot); AWS Prescriptive "
                           "Guidance (large migrations) starts at about 5 servers a week.")
    pilot_max_group_vms: int = Field(3, ge=1, description="Largest group eligible for the pilot.")
    pilot_max_gib: float = Field(500.0, gt=0, description="Largest VM storage eligible for the pilot.")
    pins: dict[str, int] = Field(default_factory=dict,
                                 description="VM (vm_id or name) or group id -> wave number.")
    start_wave: int = Field(1, ge=1, description="First wave open to planning; earlier waves are "
                            "frozen (already run) and hold only pinned VMs.")

    # --- calendar
    start: datetime | None = Field(
        None, description="Start of the first window (UTC); None: the next window_weekday at window_time "
        "after the run date.")
    window_weekday: int = Field(4, ge=0, le=6, description="Weekday of the default first window (0 Monday).")
    window_time: str = Field("20:00", pattern=r"^\d{2}:\d{2}$", description="Time of day (UTC) windows open.")
    schedule_unready: bool = Field(
        False, description="Schedule not-ready, retire and retain VMs into waves too (default: they stay in "
        "remediate-first / not-migrated with the reason).")
    cadence_days: float = Field(7.0, gt=0, description="Days between consecutive windows.")
