"""Dependency flows for the sample in the Azure Migrate dependency-analysis export layout.

One row per connection and 6-hour time slot (``M/D/YYYY HH:MM-HH:MM``, the last one ending
00:00), as Azure Migrate repeats
each dependency per slot. Applications talk tier to tier (web -> app on 8080, app -> db on the
database port, db -> db replication); every VM talks to the shared services of its vCenter
(DNS 53, AD LDAP 389 or Kerberos 88, NTP 123; the monitoring and backup servers call in); a few
connections go to endpoints outside the estate (clients, an SMTP relay), which carry an IP but no
server name. Idle VMs and VMs that are not powered on have no flows.
"""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import numpy as np

from assess.sample.inventory import WINDOW_END, Inventory
from assess.sample.utilization import has_history

HEADER = [
    "Time slot",
    "Source server name",
    "Source IP",
    "Source application",
    "Source process",
    "Destination server name",
    "Destination IP",
    "Destination application",
    "Destination process",
    "Destination port",
]
PROCESS = {
    "web": ("nginx", "nginx"),
    "app": ("Apache Tomcat", "java"),
    "postgres": ("PostgreSQL", "postgres"),
    "mssql": ("Microsoft SQL Server", "sqlservr.exe"),
    "mysql": ("MySQL", "mysqld"),
    "oracle": ("Oracle Database", "tnslsnr"),
    "dns": ("BIND", "named"),
    "dc": ("Active Directory", "lsass.exe"),
    "ntp": ("chrony", "chronyd"),
    "mon": ("Zabbix", "zabbix_server"),
    "backup": ("Veeam", "VeeamAgent.exe"),
    "agent": ("Zabbix agent", "zabbix_agentd"),
    "client": ("", "Unknown process"),
}
EXTERNAL_CLIENTS = ("203.0.113.10", "203.0.113.11")
SMTP_RELAY = "198.51.100.25"


def _slots(days: int) -> list[str]:
    start = WINDOW_END - timedelta(days=days)
    out = []
    for d in range(days):
        day = start + timedelta(days=d)
        date = f"{day.month}/{day.day}/{day.year}"
        out += [f"{date} {h:02d}:00-{(h + 6) % 24:02d}:00" for h in (0, 6, 12, 18)]
    return out


def dependency_edges(inv: Inventory, rng: np.random.Generator) -> list[tuple]:
    """Edges (src, dst, port, src role, dst role): src/dst are VM indexes or external IP strings."""
    edges: list[tuple] = []
    for app in inv.apps.values():
        tiers = app["tiers"]
        webs, apps, dbs = tiers.get("web", []), tiers.get("app", []), tiers.get("db", [])
        for w in webs:
            edges.append((EXTERNAL_CLIENTS[w % 2], w, 443, "client", "web"))
            edges += [(w, a, 8080, "web", "app") for a in apps]
        for a in apps:
            edges += [(a, d, app["port"], "app", app["engine"]) for d in dbs]
        if len(dbs) == 2:
            edges.append((dbs[0], dbs[1], app["port"], app["engine"], app["engine"]))
        if apps and rng.random() < 0.3:
            edges.append((apps[0], SMTP_RELAY, 25, "app", "client"))
    services: dict[tuple[int, str], list[int]] = {}
    for vm in inv.vms:
        if vm["role"] in ("dns", "dc", "ntp", "mon", "backup"):
            services.setdefault((vm["vc"], vm["role"]), []).append(vm["index"])
    for vm in inv.vms:
        if not has_history(vm) or vm.get("idle"):
            continue
        i, vc = vm["index"], vm["vc"]
        pick = services.get
        for role, port in (("dns", 53), ("dc", 389 if rng.random() < 0.6 else 88)):
            targets = [t for t in pick((vc, role), []) if t != i]
            if targets:
                edges.append((i, targets[int(rng.integers(len(targets)))], port, "agent", role))
        if rng.random() < 0.5:
            edges += [(i, t, 123, "agent", "ntp") for t in pick((vc, "ntp"), []) if t != i]
        edges += [(t, i, 10050, "mon", "agent") for t in pick((vc, "mon"), []) if t != i]
        if vm["env"] == "prod":
            edges += [(t, i, 6160, "backup", "agent") for t in pick((vc, "backup"), []) if t != i]
    return edges


def write_flows(path: Path, inv: Inventory, rng: np.random.Generator) -> dict[str, int]:
    """Write ``flows.csv``; return the number of distinct edges, rows and time slots."""
    edges = dependency_edges(inv, rng)
    slots = _slots(3 if len(inv.vms) <= 2000 else 1)
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\r\n")
        out.writerow(HEADER)
        for src, dst, port, src_role, dst_role in edges:
            s_name, s_ip = _endpoint(inv, src)
            d_name, d_ip = _endpoint(inv, dst)
            s_app, s_proc = PROCESS[src_role]
            d_app, d_proc = PROCESS[dst_role]
            seen = slots if src_role in ("agent", "mon", "backup") or dst_role != "client" else slots[::3]
            for slot in seen:
                out.writerow([slot, s_name, s_ip, s_app, s_proc, d_name, d_ip, d_app, d_proc, port])
            rows += len(seen)
    return {"edges": len(edges), "rows": rows, "time_slots": len(slots)}


def _endpoint(inv: Inventory, node: int | str) -> tuple[str, str]:
    if isinstance(node, str):
        return "", node
    vm = inv.vms[node]
    return vm["name"], vm["ip"]
