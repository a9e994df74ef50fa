"""Populate the sample inventory: shared services, 3-tier applications, idle VMs and planted concerns.

Each planted concern is a stable key (see :data:`CONCERNS`); the VMs that carry it list it in
``vm["concerns"]``. Every VM without a planted concern stays clean: powered on, tools OK, CBT on,
a certified or vendor-supported OS, sane free space, no special devices.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from assess.sample.inventory import (
    APP_WORDS,
    CLEAN_OS,
    DB_PORTS,
    ENVS,
    EXPORT_AT,
    SHARED_SERVICES,
    WINDOW_END,
    Inventory,
    add_disk,
    add_os_disks,
    build_topology,
    new_vm,
)

#: Planted concerns: key -> (minimum count, share of the estate).
CONCERNS: dict[str, tuple[int, float]] = {
    "vtpm": (2, 0.002),
    "eol_os": (3, 0.003),
    "unsupported_os": (2, 0.002),
    "rdm": (2, 0.002),
    "shared_disk": (2, 0.002),
    "independent_disk": (2, 0.002),
    "usb": (2, 0.002),
    "pci_passthrough": (2, 0.002),
    "snapshots": (3, 0.005),
    "cbt_off": (2, 0.003),
    "secure_boot": (2, 0.002),
    "guest_fs_full": (2, 0.002),
    "hot_add": (2, 0.002),
    "name_not_dns1123": (2, 0.002),
}
#: VMs outside the applications that are kept but excluded from migration.
EXCLUDED: dict[str, tuple[int, float]] = {
    "template": (2, 0.002),
    "srm_placeholder": (1, 0.001),
    "powered_off_long": (2, 0.002),
}
EOL_OS = (
    ("CentOS 4/5 (64-bit)", "CentOS 5.11 (64-bit)", "linux"),
    ("Microsoft Windows Server 2008 R2 (64-bit)", "Microsoft Windows Server 2008 R2 (64-bit)", "windows"),
    ("Red Hat Enterprise Linux 6 (64-bit)", "Red Hat Enterprise Linux 6 (64-bit)", "linux"),
)
UNSUPPORTED_OS = (
    ("FreeBSD 13 (64-bit)", "FreeBSD 13.2-RELEASE", "linux"),
    ("Oracle Solaris 11 (64-bit)", "Oracle Solaris 11.4", "linux"),
)
VTPM_OS = (
    ("Microsoft Windows 11 (64-bit)", "Microsoft Windows 11 (64-bit)", "windows"),
    ("Microsoft Windows Server 2022 (64-bit)", "Microsoft Windows Server 2022 (64-bit)", "windows"),
)


def count_for(spec: tuple[int, float], vms: int) -> int:
    """How many VMs get a planted fact of ``spec`` (minimum, share) in an estate of ``vms``."""
    return max(spec[0], round(spec[1] * vms))


def populate(rng: np.random.Generator, vms: int) -> Inventory:
    """Generate an inventory of exactly ``vms`` VMs with every planted fact in place."""
    inv = build_topology(rng, vms)
    n_vc = len(inv.vcenters)
    for vc in range(n_vc):
        for role, count, os_index, _ports in SHARED_SERVICES:
            for k in range(count):
                vm = new_vm(inv, rng, f"{role}{vc + 1:02d}-{k + 1:02d}", "prod", role, vc)
                _set_os(vm, rng, *CLEAN_OS[os_index][:4])
    excluded = {key: count_for(spec, vms) for key, spec in EXCLUDED.items()}
    n_idle = max(5, round(0.05 * vms))
    budget = vms - len(inv.vms) - sum(excluded.values()) - n_idle
    _add_apps(inv, rng, budget)
    for k in range(n_idle):
        vc = k % n_vc
        env = ENVS[k % 3]
        vm = new_vm(inv, rng, f"{env}-util-{k + 1:04d}", env, "standalone", vc)
        vm["idle"] = True
    for key, count in excluded.items():
        for k in range(count):
            vm = new_vm(inv, rng, f"{key.replace('_', '-')}-{k + 1:03d}", "dev", "standalone", k % n_vc)
            _EXCLUDE[key](vm, k)
            vm["concerns"].append(key)
    _plant_concerns(inv, rng, vms)
    _plant_utilization_gaps(inv, rng, vms)
    assert len(inv.vms) == vms, (len(inv.vms), vms)
    return inv


def _add_apps(inv: Inventory, rng: np.random.Generator, budget: int) -> None:
    n_vc = len(inv.vcenters)
    a = 0
    while budget > 0:
        word = APP_WORDS[a % len(APP_WORDS)]
        name = word if a < len(APP_WORDS) else f"{word}{a // len(APP_WORDS) + 1}"
        env = ("prod", "prod", "test", "dev")[a % 4]
        vc = a % n_vc
        sizes = {"web": int(rng.integers(1, 4)), "app": int(rng.integers(1, 3)), "db": 2 if a % 3 == 0 else 1}
        if sum(sizes.values()) > budget:
            sizes = {"web": 1, "app": 1, "db": 1} if budget >= 3 else {"web": budget}
        engine = list(DB_PORTS)[a % len(DB_PORTS)]
        app = {"name": name, "env": env, "vc": vc, "engine": engine, "port": DB_PORTS[engine], "tiers": {}}
        tagged = a % 10 < 7
        for tier, count in sizes.items():
            members = []
            for k in range(count):
                vm = new_vm(inv, rng, f"{name}-{tier}-{k + 1:02d}", env, tier, vc)
                vm["app"] = name
                vm["app_tag"] = name if tagged else ""
                members.append(vm["index"])
            app["tiers"][tier] = members
        inv.apps[name] = app
        budget -= sum(sizes.values())
        a += 1


def _set_os(
    vm: dict, rng: np.random.Generator, config: str, tools: str, family: str, detail: str = ""
) -> None:
    """Give ``vm`` another guest OS and rebuild its disks and file systems to match."""
    vm["os_config"], vm["os_tools"], vm["family"] = config, tools, family
    vm["os_detail"] = detail
    if vm["family"] == "windows" and vm["firmware"] == "bios" and "2016" not in config:
        vm["firmware"] = "efi"
    vm["disks"], vm["partitions"] = [], []
    add_os_disks(vm, rng, vm["role"] in ("db", "backup", "dc"))


def _template(vm: dict, k: int) -> None:
    vm.update(template=True, power="poweredOff", tools="toolsNotRunning", ip="", powered_on=None)
    vm["nics"][0]["ip"] = ""
    vm["nics"][0]["connected"] = False


def _srm(vm: dict, k: int) -> None:
    vm.update(srm=True, power="poweredOff", tools="toolsNotInstalled", ip="", powered_on=None)
    vm["nics"][0]["ip"] = ""
    vm["partitions"] = []


def _powered_off(vm: dict, k: int) -> None:
    vm.update(power="poweredOff", tools="toolsNotRunning", ip="", powered_on=None)
    vm["changed"] = EXPORT_AT - timedelta(days=400 + 90 * k)
    vm["nics"][0]["ip"] = ""
    vm["nics"][0]["connected"] = False


_EXCLUDE = {"template": _template, "srm_placeholder": _srm, "powered_off_long": _powered_off}


def _plant_concerns(inv: Inventory, rng: np.random.Generator, vms: int) -> None:
    pairs = [app["tiers"]["db"] for app in inv.apps.values() if len(app["tiers"].get("db", [])) == 2]
    n_pairs = min(len(pairs), count_for(CONCERNS["shared_disk"], vms) // 2)
    for p, (first, second) in enumerate(pairs[:n_pairs]):
        path = f"[{inv.datastores[inv.vms[first]['datastore']]['name']}] shared-{p + 1:04d}/shared.vmdk"
        for index in (first, second):
            vm = inv.vms[index]
            add_disk(vm, 204800, [], sharing="sharingMultiWriter", thin=False, eager=True, bus=1, file=path)
            vm["concerns"].append("shared_disk")
    taken = {i for pair in pairs[:n_pairs] for i in pair}
    pool = [vm["index"] for vm in inv.vms if vm["app"] and vm["index"] not in taken]
    order = rng.permutation(len(pool))
    cursor = 0
    for key, spec in CONCERNS.items():
        if key == "shared_disk":
            continue
        for k in range(count_for(spec, vms)):
            vm = inv.vms[pool[int(order[cursor % len(order)])]]
            cursor += 1
            _PLANT[key](inv, vm, rng, k)
            vm["concerns"].append(key)


def _rdm(inv: Inventory, vm: dict, rng: np.random.Generator, k: int) -> None:
    lun = f"naa.600a0980{rng.integers(0, 2**62):016x}{k:08x}"
    add_disk(
        vm,
        512000,
        [],
        raw=True,
        thin=False,
        bus=1,
        lun=lun,
        compat="physicalMode" if k % 2 == 0 else "virtualMode",
    )


def _independent(inv: Inventory, vm: dict, rng: np.random.Generator, k: int) -> None:
    mount = "E:\\" if vm["family"] == "windows" else "/scratch"
    add_disk(vm, 51200, [(mount, 0.3)], mode="independent_persistent")


def _usb(inv: Inventory, vm: dict, rng: np.random.Generator, k: int) -> None:
    vm["usb"].append({"node": "USB 1", "type": "Aladdin HASP HL 3.25", "family": "other", "speed": "full"})


def _passthrough(inv: Inventory, vm: dict, rng: np.random.Generator, k: int) -> None:
    vm.update(fixed_passthru=True, mem_locked=True)


def _vtpm(inv: Inventory, vm: dict, rng: np.random.Generator, k: int) -> None:
    _set_os(vm, rng, *VTPM_OS[k % 2])
    vm.update(firmware="efi", secure_boot=True)
    vm["concerns"].append("secure_boot")


def _snapshots(inv: Inventory, vm: dict, rng: np.random.Generator, k: int) -> None:
    for s in range(1 + k % 3):
        taken = EXPORT_AT - timedelta(days=int(rng.integers(5, 400)), seconds=int(rng.integers(86400)))
        vm["snapshots"].append(
            {
                "name": f"before patch {s + 1}",
                "description": "pre-change checkpoint",
                "at": taken,
                "size_mib": float(round(rng.uniform(500, 40000), 3)),
                "quiesced": s % 2 == 0,
                "number": s + 1,
            }
        )


def _cbt_off(inv: Inventory, vm: dict, rng: np.random.Generator, k: int) -> None:
    vm["cbt"] = "FALSE" if k % 2 == 0 else ""


def _eol(inv: Inventory, vm: dict, rng: np.random.Generator, k: int) -> None:
    _set_os(vm, rng, *EOL_OS[k % len(EOL_OS)])
    vm["firmware"] = "bios"


def _unsupported(inv: Inventory, vm: dict, rng: np.random.Generator, k: int) -> None:
    _set_os(vm, rng, *UNSUPPORTED_OS[k % len(UNSUPPORTED_OS)])
    vm["firmware"] = "bios"


def _secure_boot(inv: Inventory, vm: dict, rng: np.random.Generator, k: int) -> None:
    vm.update(firmware="efi", secure_boot=True)


def _fs_full(inv: Inventory, vm: dict, rng: np.random.Generator, k: int) -> None:
    root = vm["partitions"][0]
    root["used_mib"] = root["capacity_mib"] - (80.0 if vm["family"] == "windows" else 60.0)


def _hot_add(inv: Inventory, vm: dict, rng: np.random.Generator, k: int) -> None:
    vm.update(cpu_hot_add=True, mem_hot_add=k % 2 == 0)


def _bad_name(inv: Inventory, vm: dict, rng: np.random.Generator, k: int) -> None:
    vm["name"] = vm["name"].upper().replace("-", "_", 1) + " (old)"


_PLANT = {
    "rdm": _rdm,
    "independent_disk": _independent,
    "usb": _usb,
    "pci_passthrough": _passthrough,
    "vtpm": _vtpm,
    "snapshots": _snapshots,
    "cbt_off": _cbt_off,
    "eol_os": _eol,
    "unsupported_os": _unsupported,
    "secure_boot": _secure_boot,
    "guest_fs_full": _fs_full,
    "hot_add": _hot_add,
    "name_not_dns1123": _bad_name,
}


def _plant_utilization_gaps(inv: Inventory, rng: np.random.Generator, vms: int) -> None:
    """VMs created mid-window (partial history) and VMs without memory samples."""
    clean = [vm for vm in inv.vms if vm["app"] and not vm["concerns"]]
    order = rng.permutation(len(clean))
    n_partial = max(3, round(0.005 * vms))
    n_no_mem = max(2, round(0.002 * vms))
    for k, i in enumerate(order[:n_partial]):
        vm = clean[int(i)]
        vm["created"] = WINDOW_END - timedelta(days=int(5 + 3 * (k % 6)), hours=int(rng.integers(24)))
        vm["powered_on"] = vm["created"] + timedelta(minutes=20)
        vm["partial"] = True
    for i in order[n_partial : n_partial + n_no_mem]:
        clean[int(i)]["no_memory"] = True
