"""A second generated estate with planted idle VMs, shaped unlike ``assess sample``.

``assess sample`` writes 2-hour samples of MHz, consumed memory, disk and network for VMs of a
few vCPUs, its idle VMs flat under 100 MHz. This estate differs on purpose, so that a detector
tuned to one cannot pass the other by accident:

- VMs of 1 to 32 vCPUs on hosts of 2.0-3.4 GHz cores; 15-minute samples over 10 days;
- CPU as ``cpu_usage_pct`` (vCenter's ``cpu.usage.average``) for half the VMs, MHz for the rest;
  memory as ``mem_active_mib`` only; some VMs' history ends days before the others';
- idle VMs idle *relative to their size* (0.2-2 % of capacity, with rare agent blips, a few
  KB/s of network), so a 32-vCPU idle VM burns ~1,500 MHz;
- hard negatives that look idle on one signal only: quiet CPU with real network traffic,
  a nightly batch job, steady disk writers, an in-memory cache with active memory.

Truth: :attr:`IdleEstate.idle` (VM names).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from assess.model import Estate

INTERVAL_S = 900
DAYS = 10
KINDS = {  # kind -> share of the estate
    "idle": 0.22, "busy": 0.38, "quiet_network": 0.1, "nightly_batch": 0.1, "disk_writer": 0.1,
    "memory_cache": 0.1,
}


@dataclass
class IdleEstate:
    """The estate and its planted truth."""

    estate: Estate
    idle: set[str]
    kinds: dict[str, str]


def idle_estate(vms: int = 240, seed: int = 11) -> IdleEstate:
    """Generate the estate: ``vms`` VMs, a fixed ``seed``."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(list(KINDS), size=vms, p=list(KINDS.values()))
    vcpus = rng.choice([1, 2, 4, 8, 12, 16, 24, 32], size=vms)
    memory = vcpus * rng.choice([1, 2, 4, 8], size=vms) * 1024.0
    hosts = pd.DataFrame({"host_id": [f"h{k}" for k in range(6)], "name": [f"esx{k}" for k in range(6)],
                          "cluster": "c1", "cpu_mhz": [2000.0, 2200.0, 2600.0, 2900.0, 3100.0, 3400.0],
                          "sockets": 2, "cores": 32})
    host = rng.integers(0, len(hosts), size=vms)
    names = [f"{kind}-{i:03d}" for i, kind in enumerate(kinds)]
    inventory = pd.DataFrame({
        "vm_id": [f"ie/{n}" for n in names], "name": names, "vcpus": vcpus, "memory_mib": memory,
        "host": hosts["name"].to_numpy()[host], "cluster": "c1", "power_state": "poweredOn",
        "guest_os_config": "Red Hat Enterprise Linux 9 (64-bit)", "firmware": "efi",
    })
    frames = []
    end = pd.Timestamp("2026-03-01", tz="UTC")
    for i in range(vms):
        stop = end - pd.Timedelta(days=int(rng.integers(3, 8))) if rng.random() < 0.15 else end
        n = DAYS * 86400 // INTERVAL_S
        times = stop - pd.to_timedelta(np.arange(n)[::-1] * INTERVAL_S, unit="s")
        capacity = vcpus[i] * hosts["cpu_mhz"].iat[host[i]]
        series = _series(rng, kinds[i], n, times, memory[i])
        cpu_metric = "cpu_usage_pct" if i % 2 else "cpu_usage_mhz"
        cpu = series.pop("cpu_share") * (100 if i % 2 else capacity)
        for metric, values in {cpu_metric: cpu, **series}.items():
            frames.append(pd.DataFrame({"vm_id": f"ie/{names[i]}", "timestamp": times, "metric": metric,
                                        "value": np.round(values, 3), "interval_s": INTERVAL_S}))
    estate = Estate({"vms": inventory, "hosts": hosts, "utilization": pd.concat(frames, ignore_index=True)})
    truth = {n for n, k in zip(names, kinds) if k == "idle"}
    return IdleEstate(estate, truth, dict(zip(names, kinds)))


def _series(rng: np.random.Generator, kind: str, n: int, times: pd.DatetimeIndex, memory: float) -> dict:
    """Per-metric arrays for one VM of ``kind``: CPU as a share of capacity, the rest in their units."""
    hour = times.hour.to_numpy()
    day = np.clip(np.sin((hour / 24 - 0.3) * 2 * np.pi), 0, None)
    noise = rng.lognormal(0, 0.25, (4, n))
    blips = rng.random(n) < 0.01
    quiet_cpu = rng.uniform(0.002, 0.02) * noise[0] + blips * rng.uniform(0.01, 0.05, n)
    quiet = {
        "cpu_share": quiet_cpu,
        "net_kbps": rng.uniform(0.3, 8) * noise[1],
        "disk_kbps": rng.uniform(1, 40) * noise[2],
        "mem_active_mib": memory * rng.uniform(0.02, 0.1) * noise[3],
    }
    if kind == "idle":
        return quiet
    if kind == "busy":
        return {
            "cpu_share": np.clip(rng.uniform(0.05, 0.3) + rng.uniform(0.1, 0.4) * day * noise[0], 0, 1),
            "net_kbps": rng.uniform(50, 5000) * (0.2 + day) * noise[1],
            "disk_kbps": rng.uniform(200, 20000) * (0.3 + day) * noise[2],
            "mem_active_mib": memory * rng.uniform(0.2, 0.6) * noise[3],
        }
    if kind == "quiet_network":  # a proxy or DNS server: little CPU, steady traffic
        return {**quiet, "cpu_share": quiet_cpu + 0.01, "net_kbps": rng.uniform(40, 400) * noise[1]}
    if kind == "nightly_batch":  # two busy hours a night
        batch = (hour >= 1) & (hour < 3)
        return {**quiet, "cpu_share": quiet_cpu + batch * rng.uniform(0.4, 0.8),
                "disk_kbps": quiet["disk_kbps"] + batch * rng.uniform(500, 5000)}
    if kind == "disk_writer":  # log shipper or backup target: low CPU, steady disk
        return {**quiet, "disk_kbps": rng.uniform(300, 3000) * noise[2]}
    return {**quiet, "mem_active_mib": memory * rng.uniform(0.4, 0.8) * np.clip(noise[3], 0, 1.2)}
