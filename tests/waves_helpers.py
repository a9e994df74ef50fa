"""Hand-drawn estates for the wave planner tests."""

import pandas as pd

from assess.model import Estate


def make_estate(names, flows=(), disks=None, attributes=(), affinity=()):
    """VMs named ``names`` (vm_id 'vc/<name>'), 100 GiB each unless ``disks`` says otherwise.

    flows: (src, dst, port, bytes) with names; 'ext:..' kept as is.
    """
    est = Estate()
    est["vms"] = pd.DataFrame({"vm_id": [f"vc/{n}" for n in names], "name": list(names)})
    rows = disks or [(n, "2000", 100 * 1024.0, None, None) for n in names]
    est["disks"] = pd.DataFrame({
        "vm_id": [f"vc/{r[0]}" for r in rows], "disk_key": [r[1] for r in rows],
        "capacity_mib": [r[2] for r in rows], "sharing": [r[3] for r in rows], "file": [r[4] for r in rows],
    })

    def node(n):
        return n if n.startswith("ext:") else f"vc/{n}"

    if flows:
        est["flows"] = pd.DataFrame({
            "src": [node(f[0]) for f in flows], "dst": [node(f[1]) for f in flows],
            "port": [f[2] for f in flows], "protocol": ["udp" if f[2] in (53, 123) else "tcp" for f in flows],
            "connections": [10] * len(flows), "bytes": [float(f[3]) for f in flows],
        })
    if attributes:
        est["attributes"] = pd.DataFrame({"vm_id": [f"vc/{a[0]}" for a in attributes], "kind": "custom",
                                          "name": [a[1] for a in attributes],
                                          "value": [a[2] for a in attributes]})
    if affinity:
        est["affinity_rules"] = pd.DataFrame({"cluster": "c1", "rule": [a[0] for a in affinity],
                                              "kind": [a[1] for a in affinity], "enabled": True,
                                              "member": [f"vc/{a[2]}" for a in affinity]})
    return est


def two_apps_and_dns(extra=()):
    """Two 3-tier apps (a, b) and a DNS server every VM queries (a shared service)."""
    apps = ["a-web", "a-app", "a-db", "b-web", "b-app", "b-db"]
    flows = [("a-web", "a-app", 8080, 1e9), ("a-app", "a-db", 5432, 5e8),
             ("b-web", "b-app", 8080, 1e9), ("b-app", "b-db", 1433, 5e8),
             ("a-app", "b-app", 443, 1e6)]
    flows += [(n, "dns", 53, 1e6) for n in apps]
    return make_estate(apps + ["dns", *extra], flows)


def groups_by_name(result):
    """Move groups as a set of frozensets of VM names."""
    mg = result.tables["wave_plan"]
    return {frozenset(part["name"]) for _, part in mg.groupby("group")}


def waves_by_name(result):
    """wave -> frozenset of VM names."""
    wp = result.tables["wave_plan"].dropna(subset=["wave"])
    return {int(w): frozenset(part["name"]) for w, part in wp.groupby("wave")}
