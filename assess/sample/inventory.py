"""The sample estate's inventory: vCenters, clusters, hosts, datastores, port groups and VMs.

Everything is drawn from one ``numpy`` generator seeded by the caller, in a fixed order, so the
same seed gives the same estate. VMs are plain dicts (one per VM) with child lists for disks,
NICs, partitions, snapshots and USB devices; :mod:`assess.sample.rvtools` turns them into sheets
and :mod:`assess.sample.plant` plants the migration concerns on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

#: Time the export is taken; the utilization window is the 30 days before it.
EXPORT_AT = datetime(2025, 12, 1, 8, 0, 0)
WINDOW_END = datetime(2025, 12, 1, 0, 0, 0)
WINDOW_DAYS = 30
DOMAIN = "corp.example"
ENVS = ("prod", "test", "dev")

#: Clean guest operating systems: (config OS, tools OS, family, guest detail, firmware).
CLEAN_OS = (
    ("Red Hat Enterprise Linux 9 (64-bit)", "Red Hat Enterprise Linux 9 (64-bit)", "linux", "9.4", "efi"),
    ("Red Hat Enterprise Linux 8 (64-bit)", "Red Hat Enterprise Linux 8 (64-bit)", "linux", "8.10", "bios"),
    ("Ubuntu Linux (64-bit)", "Ubuntu 22.04.4 LTS", "linux", "22.04", "bios"),
    (
        "Microsoft Windows Server 2019 (64-bit)",
        "Microsoft Windows Server 2019 (64-bit)",
        "windows",
        "",
        "efi",
    ),
    (
        "Microsoft Windows Server 2016 (64-bit)",
        "Microsoft Windows Server 2016 (64-bit)",
        "windows",
        "",
        "bios",
    ),
)
APP_WORDS = (
    "billing",
    "crm",
    "payroll",
    "intranet",
    "erp",
    "wiki",
    "shop",
    "ledger",
    "portal",
    "tickets",
    "hr",
    "claims",
    "orders",
    "catalog",
    "search",
    "reports",
    "booking",
    "fleet",
    "quotes",
    "assets",
)
DB_PORTS = {"postgres": 5432, "mssql": 1433, "mysql": 3306, "oracle": 1521}
SHARED_SERVICES = (
    # role, count per vCenter, OS index in CLEAN_OS, ports it serves
    ("dns", 2, 0, (53,)),
    ("dc", 2, 3, (88, 389, 445)),
    ("ntp", 1, 1, (123,)),
    ("backup", 1, 3, (9392,)),
    ("mon", 1, 0, (10051,)),
)


@dataclass
class Inventory:
    """The whole generated inventory, ready to be written as sheets."""

    vcenters: list[dict] = field(default_factory=list)
    clusters: list[dict] = field(default_factory=list)
    hosts: list[dict] = field(default_factory=list)
    datastores: list[dict] = field(default_factory=list)
    portgroups: list[dict] = field(default_factory=list)
    vms: list[dict] = field(default_factory=list)
    apps: dict[str, dict] = field(default_factory=dict)


def uuid_text(rng: np.random.Generator, prefix: str = "") -> str:
    """A random UUID string from ``rng`` (deterministic), optionally with fixed leading hex digits."""
    digits = prefix + "".join(f"{b:02x}" for b in rng.integers(0, 256, 16, dtype=np.uint8))[len(prefix) :]
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:32]}"


def _ip(index: int) -> str:
    return f"10.{20 + index // 50_000}.{(index // 200) % 250}.{10 + index % 200}"


def _mac(index: int) -> str:
    return f"00:50:56:{(index >> 16) & 255:02x}:{(index >> 8) & 255:02x}:{index & 255:02x}"


def build_topology(rng: np.random.Generator, vms: int) -> Inventory:
    """vCenters, clusters (prod/test/dev), hosts (about one per 40 VMs), datastores and port groups."""
    inv = Inventory()
    n_vc = 1 if vms < 20_000 else max(2, math.ceil(vms / 25_000))
    n_hosts = max(8, round(vms / 40))
    n_clusters = max(3, round(n_hosts / 12))
    for v in range(n_vc):
        site = f"site{v + 1:02d}"
        inv.vcenters.append(
            {"name": f"vc{v + 1:02d}.{DOMAIN}", "uuid": uuid_text(rng), "datacenter": f"DC-{site.upper()}"}
        )
    for c in range(n_clusters):
        vc = c % n_vc
        env = ENVS[c % 3]
        inv.clusters.append(
            {
                "name": f"{inv.vcenters[vc]['datacenter'].lower()}-{env}-{c // 3 + 1:02d}",
                "vc": vc,
                "env": env,
                "moref": f"domain-c{100 + c}",
                "hosts": [],
                "datastores": [],
            }
        )
    for h in range(n_hosts):
        cluster = inv.clusters[h % n_clusters]
        big = h % 2 == 0
        host = {
            "name": f"esx{h + 1:04d}.{DOMAIN}",
            "cluster": h % n_clusters,
            "vc": cluster["vc"],
            "moref": f"host-{1000 + h}",
            "uuid": uuid_text(rng),
            "cpu_model": "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"
            if big
            else "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz",
            "mhz": 2000 if big else 3000,
            "sockets": 2,
            "cores_per_cpu": 32 if big else 24,
            "memory_mib": 1048576 if big else 786432,
            "vms": [],
        }
        cluster["hosts"].append(h)
        inv.hosts.append(host)
    for c, cluster in enumerate(inv.clusters):
        for d in range(3):
            inv.datastores.append(
                {
                    "name": f"{cluster['name']}-vmfs-{d + 1:02d}",
                    "cluster": c,
                    "vc": cluster["vc"],
                    "moref": f"datastore-{2000 + len(inv.datastores)}",
                    "naa": f"naa.6000{rng.integers(0, 2**63):016x}{len(inv.datastores):012x}",
                    "uuid": uuid_text(rng),
                    "capacity_mib": 16 * 1048576,
                    "vms": [],
                    "provisioned_mib": 0.0,
                }
            )
            cluster["datastores"].append(len(inv.datastores) - 1)
    for v in range(n_vc):
        for e, env in enumerate(ENVS):
            for t, tier in enumerate(("web", "app", "db", "infra")):
                vlan = 100 + 100 * e + 10 * t
                inv.portgroups.append(
                    {
                        "name": f"dvpg-{env}-{tier}-vlan{vlan}",
                        "vc": v,
                        "env": env,
                        "tier": tier,
                        "vlan": vlan,
                        "moref": f"dvportgroup-{3000 + len(inv.portgroups)}",
                    }
                )
    return inv


def _portgroup(inv: Inventory, vc: int, env: str, tier: str) -> str:
    tier = tier if tier in ("web", "app", "db") else "infra"
    for pg in inv.portgroups:
        if pg["vc"] == vc and pg["env"] == env and pg["tier"] == tier:
            return pg["name"]
    raise LookupError(f"no port group for {vc}/{env}/{tier}")


def new_vm(inv: Inventory, rng: np.random.Generator, name: str, env: str, role: str, vc: int) -> dict:
    """A clean, powered-on VM of ``role`` (web, app, db, a shared service, or standalone)."""
    index = len(inv.vms)
    clusters = [c for c, cl in enumerate(inv.clusters) if cl["env"] == env and cl["vc"] == vc]
    cluster_index = clusters[int(rng.integers(len(clusters)))]
    cluster = inv.clusters[cluster_index]
    host = cluster["hosts"][int(rng.integers(len(cluster["hosts"])))]
    datastore = cluster["datastores"][int(rng.integers(len(cluster["datastores"])))]
    os_choice = CLEAN_OS[int(rng.integers(len(CLEAN_OS)))]
    big = role in ("db", "backup", "dc")
    vcpus = int(rng.choice([2, 4, 8, 16] if big else [1, 2, 2, 4, 4, 8]))
    memory = int(rng.choice([8, 16, 32, 64] if big else [2, 4, 8, 8, 16])) * 1024
    created = EXPORT_AT - timedelta(days=int(rng.integers(200, 2000)), seconds=int(rng.integers(86400)))
    vm = {
        "index": index,
        "name": name,
        "env": env,
        "role": role,
        "app": "",
        "app_tag": "",
        "owner": f"team-{APP_WORDS[index % len(APP_WORDS)]}@{DOMAIN}",
        "vc": vc,
        "cluster": cluster_index,
        "host": host,
        "datastore": datastore,
        "moref": f"vm-{10_000 + index}",
        "instance_uuid": uuid_text(rng, "50"),
        "bios_uuid": uuid_text(rng, "42"),
        "power": "poweredOn",
        "template": False,
        "srm": False,
        "vcpus": vcpus,
        "cores_ps": 1 if vcpus < 8 else 2,
        "memory_mib": memory,
        "os_config": os_choice[0],
        "os_tools": os_choice[1],
        "family": os_choice[2],
        "os_detail": os_choice[3],
        "firmware": os_choice[4],
        "secure_boot": False,
        "hw_version": int(rng.choice([19, 20, 21])),
        "cpu_hot_add": False,
        "mem_hot_add": False,
        "tools": "toolsOk",
        "cbt": "TRUE",
        "fixed_passthru": False,
        "mem_locked": False,
        "ip": _ip(index),
        "created": created,
        "powered_on": EXPORT_AT
        - timedelta(days=int(rng.integers(31, 120)), seconds=int(rng.integers(86400))),
        "changed": EXPORT_AT - timedelta(days=int(rng.integers(1, 30)), seconds=int(rng.integers(86400))),
        "annotation": "",
        "portgroup": _portgroup(inv, vc, env, role),
        "disks": [],
        "nics": [],
        "partitions": [],
        "snapshots": [],
        "usb": [],
        "concerns": [],
    }
    add_os_disks(vm, rng, big)
    vm["nics"].append(
        {
            "label": "Network adapter 1",
            "adapter": "Vmxnet3",
            "network": vm["portgroup"],
            "connected": True,
            "mac": _mac(index),
            "ip": vm["ip"],
        }
    )
    inv.vms.append(vm)
    inv.hosts[host]["vms"].append(index)
    inv.datastores[datastore]["vms"].append(index)
    return vm


def add_disk(vm: dict, capacity_mib: int, mounts: list[tuple[str, float]], **extra) -> dict:
    """Append a virtual disk (and the guest file systems on it, each with its used share) to ``vm``."""
    n = len(vm["disks"])
    disk = {
        "label": f"Hard disk {n + 1}",
        "key": 2000 + n,
        "capacity_mib": float(capacity_mib),
        "raw": False,
        "mode": "persistent",
        "sharing": "sharingNone",
        "thin": True,
        "eager": False,
        "controller": "VMware paravirtual SCSI",
        "bus": 0,
        "unit": n,
        "shared_bus": "noSharing",
        "file": "",
        "lun": "",
        "compat": "",
        "mounts": [m for m, _ in mounts],
    }
    disk.update(extra)
    vm["disks"].append(disk)
    windows = vm["family"] == "windows"
    fs_total = capacity_mib * 0.98 / max(len(mounts), 1)
    for mount, used in mounts:
        cap = 1024.0 if mount == "/boot" else float(round(fs_total))
        vm["partitions"].append(
            {
                "disk_key": disk["key"],
                "mount": mount if not windows else mount,
                "capacity_mib": cap,
                "used_mib": float(round(cap * used)),
            }
        )
    return disk


def add_os_disks(vm: dict, rng: np.random.Generator, big: bool) -> None:
    """Give ``vm`` its OS disk (and a data disk for big roles or by chance), with file systems."""
    windows = vm["family"] == "windows"
    used = float(rng.uniform(0.25, 0.65))
    os_size = int(rng.choice([61440, 81920, 102400]))
    add_disk(vm, os_size, [("C:\\", used)] if windows else [("/", used), ("/boot", 0.3)])
    if big or rng.random() < 0.4:
        data = int(rng.choice([102400, 204800, 512000, 1048576]))
        add_disk(vm, data, [("D:\\" if windows else "/data", float(rng.uniform(0.2, 0.7)))])
