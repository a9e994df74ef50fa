"""The ground truth of a generated sample: the facts planted in it, for tests to recover.

Layout of ``ground_truth.json`` (all VM lists sorted by name)::

    {
      "generator": {"seed": 0, "vms": 300, "version": 1},
      "counts": {"vms", "templates", "srm_placeholders", "powered_on", "hosts", "clusters",
                 "datastores", "vcenters", "disks", "nics", "partitions", "snapshots", "usb_devices",
                 "port_groups"},
      "vcenters": [{"name", "uuid"}],
      "vms": {name: {"vm_id": "<vCenter UUID>/<moref>", "instance_uuid", "moref", "vcenter",
                     "cluster", "host", "env", "app" (true application or ""), "tier", "os",
                     "firmware" ("bios"|"efi"), "secure_boot", "concerns": [keys]}},
      "applications": {app: {"env", "db_engine", "db_port", "tiers": {"web"|"app"|"db": [names]}}},
      "shared_services": {name: {"service": "dns"|"dc"|"ntp"|"mon"|"backup", "vcenter"}},
      "idle": [names],
      "concerns": {key: [names]},  # keys: see assess.sample.plant.CONCERNS and EXCLUDED
      "utilization": {"interval_s": 7200, "samples_per_vm": 360, "start", "end",
                      "samples": {name: n} for VMs with fewer than 360 (partial or none),
                      "no_memory": [names]},
      "flows": {"edges", "rows", "time_slots"}
    }

``concerns`` lists every VM that has the property (a Windows 11 VM planted for ``vtpm`` is also
listed under ``secure_boot``). Every VM not listed under any concern is clean.
"""

from __future__ import annotations

from datetime import timedelta

from assess.sample.inventory import WINDOW_DAYS, WINDOW_END, Inventory
from assess.sample.plant import CONCERNS, EXCLUDED
from assess.sample.utilization import INTERVAL_S, SAMPLES

SHARED_ROLES = ("dns", "dc", "ntp", "mon", "backup")


def ground_truth(inv: Inventory, seed: int, samples: dict[str, int], flows: dict[str, int]) -> dict:
    """The ground-truth document for ``inv`` (see the module docstring for its layout)."""
    vms = inv.vms
    name = [vm["name"] for vm in vms]
    concerns = {
        key: sorted(vm["name"] for vm in vms if key in vm["concerns"]) for key in (*CONCERNS, *EXCLUDED)
    }
    start = WINDOW_END - timedelta(days=WINDOW_DAYS)
    return {
        "generator": {"name": "assess.sample", "version": 1, "seed": seed, "vms": len(vms)},
        "counts": {
            "vms": len(vms),
            "templates": sum(vm["template"] for vm in vms),
            "srm_placeholders": sum(vm["srm"] for vm in vms),
            "powered_on": sum(vm["power"] == "poweredOn" for vm in vms),
            "vcenters": len(inv.vcenters),
            "hosts": len(inv.hosts),
            "clusters": len(inv.clusters),
            "datastores": len(inv.datastores),
            "port_groups": len(inv.portgroups),
            "disks": sum(len(vm["disks"]) for vm in vms),
            "nics": sum(len(vm["nics"]) for vm in vms),
            "partitions": sum(len(vm["partitions"]) for vm in vms if vm["power"] == "poweredOn"),
            "snapshots": sum(len(vm["snapshots"]) for vm in vms),
            "usb_devices": sum(len(vm["usb"]) for vm in vms),
        },
        "vcenters": [{"name": vc["name"], "uuid": vc["uuid"]} for vc in inv.vcenters],
        "vms": {vm["name"]: _vm(inv, vm) for vm in vms},
        "applications": {
            app: {
                "env": a["env"],
                "db_engine": a["engine"],
                "db_port": a["port"],
                "tiers": {tier: sorted(name[i] for i in members) for tier, members in a["tiers"].items()},
            }
            for app, a in inv.apps.items()
        },
        "shared_services": {
            vm["name"]: {"service": vm["role"], "vcenter": inv.vcenters[vm["vc"]]["name"]}
            for vm in vms
            if vm["role"] in SHARED_ROLES
        },
        "idle": sorted(vm["name"] for vm in vms if vm.get("idle")),
        "concerns": concerns,
        "utilization": {
            "interval_s": INTERVAL_S,
            "samples_per_vm": SAMPLES,
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": WINDOW_END.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "samples": {
                vm["name"]: samples.get(vm["name"], 0) for vm in vms if samples.get(vm["name"], 0) < SAMPLES
            },
            "no_memory": sorted(vm["name"] for vm in vms if vm.get("no_memory")),
        },
        "flows": flows,
    }


def _vm(inv: Inventory, vm: dict) -> dict:
    vc = inv.vcenters[vm["vc"]]
    return {
        "vm_id": f"{vc['uuid']}/{vm['moref']}",
        "instance_uuid": vm["instance_uuid"],
        "moref": vm["moref"],
        "vcenter": vc["name"],
        "cluster": inv.clusters[vm["cluster"]]["name"],
        "host": inv.hosts[vm["host"]]["name"],
        "env": vm["env"],
        "app": vm["app"],
        "tier": vm["role"],
        "os": vm["os_config"],
        "firmware": vm["firmware"],
        "secure_boot": vm["secure_boot"],
        "concerns": sorted(vm["concerns"]),
    }
