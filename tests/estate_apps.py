"""A second estate generator for grouping truth, built on assumptions unlike ``assess.sample``.

``assess.sample`` names every VM ``<app>-<tier>-NN``, wires strict web -> app -> db tiers and
tags most applications. Here:

- applications have 1 to 14 VMs (many of one or two), wired as a random tree plus a few extra
  links on random ports, not tiers;
- half the applications have opaque names (``SRV48213``, ``vm-3fa9c1``); the other half a
  ``<site><env letter><app><role><n>`` scheme (``fra1p-payroll-ap02``) with site prefixes;
- flows come as the Azure Migrate dependency export writes them: one row per connection and
  time slot, so a link's weight is the number of slots it was seen in; internal links are seen
  in most slots, light cross-application links in 1 to ``light_max_slots`` of them;
- a jump host reaches 80% of the VMs over SSH and RDP; a log collector receives from 60% of
  them on a port that is on no infrastructure list (only structure finds it); DNS is an
  address outside the inventory; two domain controllers; a monitoring server polls agents;
- destinations are sometimes recorded by IP only (the same file names that IP elsewhere);
- hard links: multi-writer disks (clustered pairs) and DRS VM-VM affinity rules;
- environment from the cluster (``CL-PRD-01``) and the name letter, not from attributes.

Returns the inventory Estate, the flow rows (Azure Migrate layout) and the truth.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from assess.model import Estate

HEADER = ["Time slot", "Source server name", "Source IP", "Source application", "Source process",
          "Destination server name", "Destination IP", "Destination application", "Destination process",
          "Destination port"]
APP_WORDS = ["payroll", "ledger", "intranet", "hrportal", "fleet", "claims", "quotes", "pricing", "docmgmt",
             "ticketing", "crm", "shop", "events", "stock", "routing", "billing", "grants", "library",
             "alumni", "timesheet", "survey", "parking", "visitors", "badges", "canteen", "energy"]
ROLES = ["ap", "db", "ws", "fe", "mq", "bat"]
INTERNAL_PORTS = [443, 8443, 1521, 5432, 6379, 9092, 8080, 3306, 27017, 7001]
SITES = ["fra1", "ams2"]


def _names(rng, n_apps, sizes, envs):
    names, opaque = [], []
    used = set()
    for a, (k, env) in enumerate(zip(sizes, envs)):
        is_opaque = a % 2 == 1
        opaque.append(is_opaque)
        word = APP_WORDS[a % len(APP_WORDS)] + (str(a // len(APP_WORDS)) if a >= len(APP_WORDS) else "")
        site = SITES[a % len(SITES)]
        for i in range(k):
            while True:
                if is_opaque:
                    name = (f"SRV{rng.integers(10000, 99999)}" if rng.random() < 0.5
                            else f"vm-{rng.integers(0, 16 ** 6):06x}")
                else:
                    name = f"{site}{env[0]}-{word}-{ROLES[i % len(ROLES)]}{i // len(ROLES) + 1:02d}"
                if name not in used:
                    used.add(name)
                    break
            names.append(name)
    return names, opaque


def generate(n_vms: int = 300, seed: int = 11, slots: int = 28, light_links: float = 0.3,
             light_max_slots: int = 13, ip_only: float = 0.2) -> tuple[Estate, pd.DataFrame, dict]:
    """An estate of about ``n_vms`` VMs with its Azure-Migrate flow rows and the truth.

    ``light_links`` cross-application links per application (each seen in 1 to
    ``light_max_slots`` of ``slots`` time slots); ``ip_only`` of destination records carry
    the IP without the server name.
    """
    rng = np.random.default_rng(seed)
    n_infra = 5  # jump host, log collector, 2 DCs, monitoring
    sizes = []
    while sum(sizes) < n_vms - n_infra:
        sizes.append(int(min(14, rng.geometric(0.22))))
    sizes[-1] -= sum(sizes) - (n_vms - n_infra)
    sizes = [s for s in sizes if s > 0]
    n_apps = len(sizes)
    envs = rng.choice(["prod", "test", "dev"], size=n_apps, p=[0.6, 0.25, 0.15])
    names, opaque = _names(rng, n_apps, sizes, envs)
    app_of = np.repeat(np.arange(n_apps), sizes)
    n_app_vms = len(names)
    infra = ["jmp01", "SRV00417", "dc01", "dc02", "mon01"]  # the log collector has an opaque name
    names += infra
    ids = [f"vc-b/vm-{1000 + i}" for i in range(len(names))]
    ips = [f"10.{20 + i // 65000}.{(i // 250) % 250}.{i % 250 + 2}" for i in range(len(names))]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    links = []  # (src, dst, port, p_per_slot)
    hard_disks, affinity = [], []
    for a, (s, k) in enumerate(zip(starts, sizes)):
        members = list(range(s, s + k))
        for i in range(1, k):  # a random tree
            links.append((members[int(rng.integers(0, i))], members[i], int(rng.choice(INTERNAL_PORTS)),
                          rng.uniform(0.75, 1.0)))
        for _ in range(k // 4):  # a few extra internal links
            x, y = rng.choice(members, size=2, replace=False)
            links.append((int(x), int(y), int(rng.choice(INTERNAL_PORTS)), rng.uniform(0.75, 1.0)))
        if k >= 4 and a % 5 == 0:
            hard_disks.append((members[-2], members[-1], f"[ds-b{a % 3}] clu{a:04d}/quorum.vmdk"))
        if k >= 3 and a % 7 == 0:
            affinity += [(f"aff-{a:04d}", ids[m]) for m in members[:2]]
    n_light = int(light_links * n_apps)
    for _ in range(n_light):  # light cross-application links: a few slots only
        x, y = rng.integers(0, n_app_vms, size=2)
        if app_of[x] != app_of[y]:
            links.append((int(x), int(y), 443, rng.integers(1, light_max_slots + 1) / slots))
    jmp, logc, dc1, dc2, mon = range(n_app_vms, n_app_vms + 5)
    for v in range(n_app_vms):
        if rng.random() < 0.8:
            links.append((jmp, v, 3389 if rng.random() < 0.4 else 22, rng.uniform(0.03, 0.2)))
        if rng.random() < 0.6:
            links.append((v, logc, 6514, rng.uniform(0.5, 1.0)))
        links.append((v, dc1 if v % 2 else dc2, 389, rng.uniform(0.3, 1.0)))
        links.append((mon, v, 10050, 1.0))
        links.append((v, -1, 53, 1.0))  # DNS outside the inventory
    rows = _slot_rows(rng, links, names, ips, slots, ip_only)
    est = _inventory(rng, names, ids, ips, sizes, envs, opaque, hard_disks, affinity)
    truth = {"app": {ids[v]: int(app_of[v]) for v in range(n_app_vms)},
             "shared": {ids[v] for v in (jmp, logc, dc1, dc2, mon)},
             "hard_pairs": [(ids[x], ids[y]) for x, y, _ in hard_disks],
             "opaque_apps": int(sum(opaque)), "apps": n_apps}
    return est, rows, truth


def _slot_rows(rng, links, names, ips, slots, ip_only) -> pd.DataFrame:
    """One Azure Migrate row per link and time slot it was seen in (6-hour slots)."""
    src, dst, port, p = (np.array(x) for x in zip(*links))
    seen = rng.random((len(links), slots)) < p[:, None]
    li, si = np.nonzero(seen)
    day = pd.Timestamp("2026-03-01") + pd.to_timedelta(si // 4, unit="D")
    hours = (si % 4) * 6
    slot = [f"{d.month}/{d.day}/{d.year} {h:02d}:00-{(h + 6) % 24:02d}:00" for d, h in zip(day, hours)]
    names_a = np.array(names + ["", ""], dtype=object)
    ips_a = np.array(ips + ["10.255.0.53", ""], dtype=object)
    s, d = src[li], dst[li]
    dst_name = names_a[d].copy()
    dst_name[rng.random(len(li)) < ip_only] = ""
    return pd.DataFrame({"Time slot": slot, "Source server name": names_a[s], "Source IP": ips_a[s],
                         "Source application": "", "Source process": "",
                         "Destination server name": dst_name, "Destination IP": ips_a[d],
                         "Destination application": "", "Destination process": "",
                         "Destination port": port[li].astype(int)})


def _inventory(rng, names, ids, ips, sizes, envs, opaque, hard_disks, affinity) -> Estate:
    n = len(names)
    env_of = list(np.repeat(envs, sizes)) + ["prod"] * (n - sum(sizes))
    cluster = [{"prod": "CL-PRD-01", "test": "CL-TST-01", "dev": "CL-DEV-01"}[e] for e in env_of]
    est = Estate()
    # half the VMs report their IP through VMware Tools; the flow file names the rest
    known_ip = rng.random(n) < 0.5
    folder = [f"/DC-B/{'infra' if i >= sum(sizes) else 'apps'}" for i in range(n)]
    est["vms"] = pd.DataFrame({"vm_id": ids, "name": names, "cluster": cluster, "folder": folder,
                               "primary_ip": [ip if k else None for ip, k in zip(ips, known_ip)],
                               "provisioned_mib": rng.lognormal(np.log(60 * 1024), 0.7, size=n)})
    disks = [(ids[i], "2000", 60 * 1024.0, None, None) for i in range(n)]
    for x, y, path in hard_disks:
        disks += [(ids[x], "2001", 10 * 1024.0, "sharingMultiWriter", path),
                  (ids[y], "2001", 10 * 1024.0, "sharingMultiWriter", path)]
    est["disks"] = pd.DataFrame(disks, columns=["vm_id", "disk_key", "capacity_mib", "sharing", "file"])
    if affinity:
        est["affinity_rules"] = pd.DataFrame({"cluster": "CL-PRD-01", "rule": [r for r, _ in affinity],
                                              "kind": "vm_affinity", "enabled": True,
                                              "member": [m for _, m in affinity]})
    return est


def write_flows(rows: pd.DataFrame, path: Path) -> Path:
    """The rows as an Azure Migrate dependency export CSV."""
    rows.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    return path
