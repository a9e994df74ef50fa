"""Packing benchmark: generated right-sized estates of 100, 1,000 and 10,000 VMs.

VM demands come from a fixed seed: allocated sizes drawn from a typical VMware mix, right-sized
(P95 demand x comfort 1.3, as the right-sizer does), given their target shape (the cheapest u1/m1
instancetype within 25 % of the memory, else explicit resources) and KubeVirt's pod overhead by
the project's own functions. Each heuristic and the final
answer are printed as nodes / lower bound and seconds. On 100-VM instances (smaller nodes, so
the answer is ~10 nodes) the CP-SAT optimum is solved independently and must equal the answer.

Run: .venv/bin/python bench/bench_packing.py
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from assess.sizing.cpsat import solve_bins
from assess.sizing.instancetypes import load_instancetypes
from assess.sizing.overhead import cpu_request_cores, memory_overhead_mib
from assess.sizing.packing import node_capacity, pack, to_integers, vm_demand
from assess.sizing.params import NodeProfile, Packing
from assess.sizing.shapes import capacity_cost, choose_shapes

SEED = 20240601


def right_sized_estate(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Per-VM sizing columns (vcpus, cpu_request_cores, pod_memory_mib) of a right-sized estate."""
    vcpus = rng.choice([1, 2, 4, 8, 16, 32], size=n, p=[0.12, 0.38, 0.30, 0.14, 0.05, 0.01])
    gib_per_vcpu = rng.choice([1, 2, 4, 8], size=n, p=[0.10, 0.35, 0.40, 0.15])
    memory = vcpus * gib_per_vcpu * 1024.0
    cpu_p95 = rng.beta(2, 5, size=n)  # share of the allocation used at P95
    mem_p95 = rng.beta(5, 3, size=n)
    want_vcpus = np.maximum(1, np.minimum(vcpus, np.ceil(vcpus * cpu_p95 * 1.3)))
    want_memory = np.maximum(1024, np.minimum(memory, memory * mem_p95 * 1.3))
    demand = pd.DataFrame({"vm_id": [f"vm-{i}" for i in range(n)], "vcpus": want_vcpus,
                           "memory_mib": want_memory, "max_vcpus": vcpus, "series": "u1 m1"})
    table = load_instancetypes()
    shapes = choose_shapes(demand, table, capacity_cost(table, 64, 1024 * 1024, 4.0), 25.0)
    guest_vcpus = shapes["guest_vcpus"].to_numpy()
    guest_memory = shapes["guest_memory_mib"].to_numpy()
    overhead = memory_overhead_mib(guest_memory, guest_vcpus.astype(int))
    return pd.DataFrame({"vm_id": demand["vm_id"], "vcpus": guest_vcpus,
                         "cpu_request_cores": cpu_request_cores(guest_vcpus),
                         "pod_memory_mib": guest_memory + overhead})


def run(n: int, params: Packing, rng: np.random.Generator) -> tuple[object, np.ndarray, np.ndarray, float]:
    sized = right_sized_estate(n, rng)
    demand, capacity = to_integers(vm_demand(sized, params), node_capacity(params.node_profiles[0], params))
    fits = (demand <= capacity).all(axis=1)
    if not fits.all():
        print(f"  ({(~fits).sum()} of {n} VMs larger than one {params.node_profiles[0].name} node left out)")
        demand = demand[fits]
    start = time.perf_counter()
    outcome = pack(demand, capacity, time_limit=params.cpsat_time_limit_s, seed=params.random_state)
    return outcome, demand, capacity, time.perf_counter() - start


def report(label: str, outcome, seconds: float) -> None:
    lb = outcome.bound["bound"]
    print(f"\n{label}: lower bound {lb} (sum {outcome.bound['sum']}, L2 {outcome.bound['l2']})")
    for r in outcome.runs:
        ratio = r["nodes"] / lb
        print(f"  {r['method']:<15} {r['nodes']:>5} nodes  {ratio:6.3f} x bound  {r['seconds']:7.2f} s")
    print(f"  final method: {outcome.method}; proven optimal: {outcome.optimal}; wall {seconds:.2f} s")


def main() -> None:
    rng = np.random.default_rng(SEED)
    params = Packing()
    lines, worse_than_ffd = [], 0
    results = {}
    for n in (1000, 10000):
        outcome, _, _, seconds = run(n, params, rng)
        report(f"{n} VMs on {params.node_profiles[0].name}", outcome, seconds)
        ffd = next(r["nodes"] for r in outcome.runs if r["method"] == "ffd_max")
        worse_than_ffd = max(worse_than_ffd, outcome.nodes - ffd)
        results[n] = (outcome.nodes / outcome.bound["bound"], seconds)

    small = Packing(node_profiles=[NodeProfile(name="16c-128g", cores=16, threads=32, memory_mib=131072,
                                               price_per_year=4000)], cpsat_time_limit_s=10)
    matches, instances = 0, 5
    for k in range(instances):
        outcome, demand, capacity, seconds = run(100, small, rng)
        report(f"100 VMs #{k + 1} on 16c-128g", outcome, seconds)
        ffd = next(r["nodes"] for r in outcome.runs if r["method"] == "ffd_max")
        worse_than_ffd = max(worse_than_ffd, outcome.nodes - ffd)
        start = time.perf_counter()
        exact, status = solve_bins(demand, capacity, ffd, time_limit=120, seed=1)
        optimum = int(exact.max()) + 1 if exact is not None else -1
        print(f"  CP-SAT optimum {optimum} ({status}, {time.perf_counter() - start:.1f} s); "
              f"final {outcome.nodes}")
        matches += int(status == "optimal" and optimum == outcome.nodes)

    def line(name, value, unit, op, target, ok):
        lines.append(f"BENCH {name} {value} {unit} target {op} {target} {'PASS' if ok else 'MISS'}")

    for n in (1000, 10000):
        ratio = results[n][0]
        line(f"packing_{n}_vms_nodes_over_bound", f"{ratio:.4f}", "ratio", "<=", "1.02", ratio <= 1.02)
    line("packing_10000_vms_seconds", f"{results[10000][1]:.1f}", "s", "<", "30", results[10000][1] < 30)
    line("packing_nodes_above_plain_ffd", worse_than_ffd, "nodes", "<=", "0", worse_than_ffd <= 0)
    line("packing_100_vms_matches_cpsat_optimum", matches, "instances", "==", instances, matches == instances)
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
