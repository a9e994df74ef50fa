"""Utilization history for the sample: 30 days of 2-hour samples per VM in the long CSV layout.

Header ``vm,timestamp,metric,value,interval_s``; ``vm`` is the VM instance UUID (unique across
vCenters), timestamps are ISO 8601 UTC at the end of each interval. Series have a daily and a
weekly cycle, noise and bursts; idle VMs stay under 100 MHz CPU and near-zero network. VMs created
mid-window start late, a few VMs have no memory samples, and VMs that are not powered on (templates,
placeholders, long powered-off VMs) have none. Generated vectorised per chunk of VMs and written
with pyarrow's CSV writer through gzip, so 100,000 VMs stay within a few hundred MB of memory.
"""

from __future__ import annotations

import gzip
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from assess.sample.inventory import WINDOW_DAYS, WINDOW_END, Inventory

INTERVAL_S = 7200
SAMPLES = WINDOW_DAYS * 86400 // INTERVAL_S
METRICS = ("cpu_usage_mhz", "mem_consumed_mib", "disk_kbps", "net_kbps")
CHUNK_VMS = 2000


def sample_times() -> list:
    """The sample timestamps (end of each 2-hour interval) of the 30-day window."""
    start = WINDOW_END - timedelta(days=WINDOW_DAYS)
    return [start + timedelta(seconds=INTERVAL_S * (k + 1)) for k in range(SAMPLES)]


def first_sample(vm: dict) -> int:
    """Index of the VM's first sample: 0, or the first interval after a mid-window creation."""
    if not vm.get("partial"):
        return 0
    start = WINDOW_END - timedelta(days=WINDOW_DAYS)
    return int((vm["created"] - start).total_seconds() // INTERVAL_S) + 1


def has_history(vm: dict) -> bool:
    """Whether the VM reports utilization: powered on, not a template or placeholder."""
    return vm["power"] == "poweredOn" and not vm["template"] and not vm["srm"]


def _series(rng: np.random.Generator, vms: list[dict], host_mhz: np.ndarray) -> np.ndarray:
    """Array [VM, metric, sample] of values for ``vms``."""
    n = len(vms)
    hours = (np.arange(SAMPLES) + 1) * 2.0
    day = (hours % 24) / 24
    weekday = ((hours // 24 + 5) % 7) < 5  # the window starts on a Saturday
    daily = np.clip(np.sin((day - 0.3) * 2 * np.pi), 0, None)  # business-hours peak
    nightly = np.exp(-(((hours % 24) - 2.0) ** 2) / 4)  # batch jobs around 02:00
    batch = rng.random(n) < 0.2
    shape = np.where(batch[:, None], nightly[None, :], daily[None, :] * np.where(weekday, 1.0, 0.35)[None, :])
    vcpus = np.array([vm["vcpus"] for vm in vms], float)
    memory = np.array([vm["memory_mib"] for vm in vms], float)
    base = rng.uniform(0.08, 0.3, n)[:, None]
    amp = rng.uniform(0.1, 0.45, n)[:, None]
    noise = rng.normal(0, 0.03, (n, SAMPLES))
    bursts = (rng.random((n, SAMPLES)) < 0.01) * rng.uniform(0.2, 0.5, (n, SAMPLES))
    cpu_share = np.clip(base + amp * shape + noise + bursts, 0.02, 0.98)
    cpu = cpu_share * vcpus[:, None] * host_mhz[:, None]
    mem = memory[:, None] * np.clip(
        rng.uniform(0.45, 0.85, n)[:, None] + 0.05 * shape + rng.normal(0, 0.01, (n, SAMPLES)), 0.1, 1.0
    )
    disk = (
        rng.uniform(200, 4000, n)[:, None] * (0.3 + shape + bursts * 3) * rng.lognormal(0, 0.2, (n, SAMPLES))
    )
    net = rng.uniform(50, 3000, n)[:, None] * (0.2 + shape + bursts * 2) * rng.lognormal(0, 0.2, (n, SAMPLES))
    idle = np.array([bool(vm.get("idle")) for vm in vms])
    if idle.any():
        k = int(idle.sum())
        cpu[idle] = rng.uniform(15, 45, (k, 1)) + rng.uniform(0, 30, (k, SAMPLES))
        mem[idle] = memory[idle, None] * rng.uniform(0.1, 0.2, (k, 1))
        disk[idle] = rng.uniform(0, 3, (k, SAMPLES))
        net[idle] = rng.uniform(0, 0.4, (k, SAMPLES))
    return np.round(np.stack([cpu, mem, disk, net], axis=1), 1)


def write_utilization(path: Path, inv: Inventory, rng: np.random.Generator) -> dict[str, int]:
    """Write the long-CSV utilization history (gzip) and return the samples per VM name."""
    times = pa.array([t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in sample_times()])
    metric_names = pa.array(METRICS)
    counts: dict[str, int] = {}
    vms = [vm for vm in inv.vms if has_history(vm)]
    with open(path, "wb") as file, gzip.GzipFile(fileobj=file, mode="wb", compresslevel=6, mtime=0) as raw:
        raw.write(b"vm,timestamp,metric,value,interval_s\n")
        for lo in range(0, len(vms), CHUNK_VMS):
            chunk = vms[lo : lo + CHUNK_VMS]
            mhz = np.array([inv.hosts[vm["host"]]["mhz"] for vm in chunk], float)
            values = _series(rng, chunk, mhz)
            vm_idx, metric_idx, time_idx, keep = [], [], [], []
            grid_m, grid_t = np.meshgrid(np.arange(len(METRICS)), np.arange(SAMPLES), indexing="ij")
            for i, vm in enumerate(chunk):
                first = first_sample(vm)
                mask = grid_t >= first
                if vm.get("no_memory"):
                    mask &= grid_m != 1
                vm_idx.append(np.full(int(mask.sum()), i))
                metric_idx.append(grid_m[mask])
                time_idx.append(grid_t[mask])
                keep.append(values[i][mask])
                counts[vm["name"]] = int((grid_t[0] >= first).sum())
            vi, mi, ti = np.concatenate(vm_idx), np.concatenate(metric_idx), np.concatenate(time_idx)
            table = pa.table(
                {
                    "vm": pa.array([vm["instance_uuid"] for vm in chunk]).take(pa.array(vi)),
                    "timestamp": times.take(pa.array(ti)),
                    "metric": metric_names.take(pa.array(mi)),
                    "value": pa.array(np.concatenate(keep)),
                    "interval_s": pa.array(np.full(len(vi), INTERVAL_S, dtype=np.int32)),
                }
            )
            pacsv.write_csv(table, raw, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    return counts
