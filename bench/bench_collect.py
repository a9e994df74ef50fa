"""Collector efficiency on vcsim: paged PropertyCollector vs the naive per-attribute pattern.

Starts govmomi's vcsim (built from Debian packages, see tests/vcsim_harness.py) with 2,000
VMs, runs ``collect_vcenter`` on all of them, then the naive pattern (pyVmomi attribute
access per VM: one SOAP round trip per attribute) on 200 VMs and scales it by 10.

Run: .venv/bin/python bench/bench_collect.py
"""

from __future__ import annotations

import sys
import time
from http.client import HTTPException
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from pyVmomi import vim, vmodl  # noqa: E402
from vcsim_harness import PASSWORD, USER, start_vcsim  # noqa: E402

from assess.collect.vcenter import Target, collect_vcenter  # noqa: E402
from assess.collect.vcenter.connection import connect  # noqa: E402
from assess.collect.vcenter.inventory import PATHS  # noqa: E402

VMS = 2000
NAIVE_VMS = 200


def naive_rows(content, limit: int, paths: list[str]) -> list[dict]:
    """The per-attribute pattern: every field read as ``vm.a.b.c``, one round trip per top-level read.

    It reads the same VM fields the collector reads (``paths``), so both gather the same data.
    """
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    rows = []
    for vm in view.view[:limit]:
        row = {}
        for path in paths:
            value = vm
            try:
                for part in path.split("."):
                    value = getattr(value, part, None) if value is not None else None
            except (OSError, HTTPException, vmodl.MethodFault):
                value = None  # vcsim drops the connection on a few unset properties
            row[path] = value
        rows.append(row)
    view.DestroyView()
    return rows


def line(name: str, value: float, unit: str, op: str, target: float) -> str:
    ok = value <= target if op == "<=" else value >= target
    return f"BENCH {name} {value:.6g} {unit} target {op} {target:g} {'PASS' if ok else 'MISS'}"


def main() -> None:
    started = time.perf_counter()
    sim = start_vcsim(vms=VMS // 2, hosts=2)  # VPX model: a standalone host and a cluster, one pool each
    print(f"vcsim with {VMS} VMs up in {time.perf_counter() - started:.1f} s on {sim.server}")
    target = Target(sim.host, USER, PASSWORD, port=sim.port, thumbprint=sim.thumbprint())
    try:
        started = time.perf_counter()
        estate = collect_vcenter(target, utilization=False)
        efficient_s = time.perf_counter() - started
        prov = estate.provenance[0]
        vms = len(estate["vms"])
        print(f"efficient: {vms} VMs, {len(estate['disks'])} disks, {len(estate['nics'])} NICs in "
              f"{efficient_s:.1f} s with {prov['soap_calls']} SOAP calls ({prov['soap_calls_by_method']}), "
              f"{prov['pages']} page(s)")

        session = connect(target)
        before = session.soap_calls
        started = time.perf_counter()
        rows = naive_rows(session.content, NAIVE_VMS, PATHS[vim.VirtualMachine])
        naive_s = time.perf_counter() - started
        naive_calls = session.soap_calls - before
        session.logout()
        scale = VMS / len(rows)
        fields = len(PATHS[vim.VirtualMachine])
        print(f"naive (same {fields} VM fields by attribute access): {len(rows)} VMs in {naive_s:.1f} s "
              f"with {naive_calls} SOAP calls "
              f"({naive_calls / len(rows):.1f} per VM); scaled x{scale:g}: {naive_s * scale:.1f} s, "
              f"{naive_calls * scale:.0f} calls")

        started = time.perf_counter()
        with_perf = collect_vcenter(target, lookback_days=10 / 1440)
        perf_s = time.perf_counter() - started
        perf = with_perf.provenance[0]["performance"]
        print(f"with utilization (10 min real-time): {perf_s:.1f} s, "
              f"{perf['query_perf_calls']} QueryPerf calls "
              f"for {perf['vms_queried']} VMs, {len(with_perf['utilization'])} samples")
    finally:
        sim.stop()

    print(line("collect_soap_calls_2000vms", prov["soap_calls"], "calls", "<=", 20))
    print(line("collect_wall_2000vms", efficient_s, "s", "<=", 60))
    print(line("collect_speedup_vs_naive", naive_s * scale / efficient_s, "x", ">=", 10))


if __name__ == "__main__":
    main()
