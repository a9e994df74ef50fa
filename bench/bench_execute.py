"""Execute a 1,000-VM, 10-wave plan against the Kubernetes API double; count API requests.

The double (tests/execute/k8s_double) serves the Kubernetes REST API on loopback and plays
Forklift's controller (100 VMs per wave, 20 in flight, pipeline steps on a fast clock). The
executor must stay O(VMs + waves) in requests: it applies one Plan and one Migration per wave
and follows status through watch streams, never polling.

Run: .venv/bin/python bench/bench_execute.py [--vms 1000] [--waves 10] [--backend forklift|kubevirt]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assess.execute.params import ExecuteParams  # noqa: E402
from assess.execute.runner import execute  # noqa: E402
from tests.execute.k8s_double import Controllers, Double  # noqa: E402
from tests.execute.k8s_double.seed import seed_cluster, write_run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=1000)
    parser.add_argument("--waves", type=int, default=10)
    parser.add_argument("--backend", default="forklift", choices=["forklift", "kubevirt"])
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    run = write_run(
        tmp / "run", waves=args.waves, per_wave=args.vms // args.waves, cpu=0.1, memory_mib=1024.0
    )
    n_vms = args.waves * (args.vms // args.waves)
    with Double() as double, Controllers(double, tick=0.01, transfer_ticks=5, boot_ticks=2) as controllers:
        seed_cluster(double, nodes=10, node_memory="2Ti", node_cpu="128")
        if args.backend == "kubevirt":
            double.store.create(
                double.by_kind("Secret"),
                "migrated-vms",
                {"metadata": {"name": "vsphere-credentials"}, "type": "Opaque"},
            )
        params = ExecuteParams(
            kubeconfig=str(double.kubeconfig(tmp / "kc")), apply=True, backend=args.backend, max_concurrent=50
        )
        start = time.perf_counter()
        summary = execute(run, params)
        seconds = time.perf_counter() - start
        requests = len(double.requests)
        by_kind = Counter(
            f"{r.method} {'watch' if 'watch' in r.query else r.path.rsplit('/', 2)[-2]}"
            for r in double.requests
        )
        watches = sum(1 for r in double.requests if "watch" in r.query)
        twice = sum(1 for v in controllers.migrations_started.values() if v > 1)
    succeeded = sum(len(w["succeeded"]) for w in summary["waves"])
    print(
        f"backend {args.backend}: {n_vms} VMs in {args.waves} waves, status {summary['status']}, "
        f"{succeeded} succeeded, {twice} migrated twice"
    )
    print(
        f"requests {requests} ({requests / n_vms:.3f} per VM), of which {watches} watch streams; "
        f"wall {seconds:.1f} s"
    )
    for key, count in by_kind.most_common(12):
        print(f"  {count:6d} {key}")
    # O(VMs + waves): forklift applies 2 objects per wave plus ~6 requests per wave (get, 2 lists, 2 watches);
    # kubevirt applies one VM per VM; a fixed ~11 for pre-flight and the shared objects
    per_vm = 1 if args.backend == "kubevirt" else 0
    bound = per_vm * n_vms + 10 * args.waves + 20
    ok = lambda cond: "PASS" if cond else "MISS"  # noqa: E731
    print(
        f"BENCH execute_requests_per_vm_{args.backend} {requests / n_vms:.3f} requests target <= "
        f"{bound / n_vms:.3f} {ok(requests <= bound)}"
    )
    print(
        f"BENCH execute_vms_succeeded_{args.backend} {succeeded} VMs target == {n_vms} "
        f"{ok(succeeded == n_vms)}"
    )
    print(f"BENCH execute_wall_{args.backend} {seconds:.1f} s target < 120 {ok(seconds < 120)}")


if __name__ == "__main__":
    main()
