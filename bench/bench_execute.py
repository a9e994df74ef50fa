"""Execute a 1,000-VM, 10-wave plan against a real kube-apiserver + etcd; count API requests.

The control plane is the tests' (tests/kube_harness.py: built once per machine, started on
loopback with the real CRDs). The Forklift (or CDI/KubeVirt) controllers are played through its
API by tests/execute/live_controllers.py (100 VMs per wave, all in flight: the controllers'
clock is compressed, so the wall time measures the executor and the server, not Forklift's
throughput). Every request the executor sends goes through a counting proxy
(tests/execute/fault_proxy.py, no faults), so the count is the server's, not the client's own.
The executor must stay O(VMs + waves) in requests:
it applies one Plan and one Migration per wave and follows status through watch streams, never
polling (no object is read twice in a wave).

Run: .venv/bin/python bench/bench_execute.py [--vms 1000] [--waves 10] [--backend forklift|kubevirt]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assess.execute.runner import execute  # noqa: E402
from tests.execute.fault_proxy import FaultProxy  # noqa: E402
from tests.execute.live import Live, start_seeded  # noqa: E402
from tests.execute.live_controllers import LiveControllers  # noqa: E402
from tests.execute.run_folder import write_run  # noqa: E402

THUMBPRINT = "20:6C:8A:5D:44:40:B3:79:4B:28:EA:76:13:60:90:6E:49:D9:D9:A3"


def _run(plane, tmp: Path, args) -> tuple[dict, float, list, LiveControllers]:
    env = Live(plane, tmp)
    write_run(env.run, waves=args.waves, per_wave=args.vms // args.waves, cpu=0.01, memory_mib=256.0)
    if args.backend == "kubevirt":
        env.add_secret(env.vms_ns)
    pki = plane.folder / "pki"
    with (
        FaultProxy(plane.host, str(plane.ca), str(pki / "server.pem"), str(pki / "server-key.pem")) as proxy,
        LiveControllers(
            env.kubeconfig,
            env.mtv_ns,
            env.vms_ns,
            tick=0.05,
            transfer_ticks=2,
            max_inflight=args.vms // args.waves,
        ) as controllers,
    ):
        kubeconfig = plane.kubeconfig(tmp / "proxied", server=proxy.url)
        params = env.params(
            kubeconfig=str(kubeconfig),
            apply=True,
            backend=args.backend,
            max_concurrent=50,
            vddk_thumbprint=THUMBPRINT,
        )
        start = time.perf_counter()
        summary = execute(env.run, params)
        seconds = time.perf_counter() - start
    return summary, seconds, list(proxy.seen), controllers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=1000)
    parser.add_argument("--waves", type=int, default=10)
    parser.add_argument("--backend", default="forklift", choices=["forklift", "kubevirt"])
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    plane = start_seeded(tmp / "kube")
    print(f"machine load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"control plane up in {time.perf_counter() - started:.1f} s (build {plane.build_seconds} s, cached)"
    )
    try:
        summary, seconds, seen, controllers = _run(plane, tmp, args)
    finally:
        plane.stop()
    n_vms = args.waves * (args.vms // args.waves)
    succeeded = sum(len(w["succeeded"]) for w in summary["waves"])
    events = [json.loads(x) for x in Path(summary["events"]).read_text().splitlines()]
    streams = Counter()
    for e in (e for e in events if e["event"] == "watches"):
        for kind, stats in e["streams"].items():
            streams.update({f"{kind} {k}": v for k, v in stats.items()})
    print(f"watch streams: {dict(streams)}")
    twice = sum(1 for v in controllers.migrations_started.values() if v > 1)
    watches = sum(1 for s in seen if "watch=true" in s.query)
    # a read is a GET that is not a watch and not a further page of a list (``continue=``): the
    # target namespace holds up to 1,000 VMIs, read in pages of 500
    gets = Counter(
        s.path
        for s in seen
        if s.method == "GET" and "watch=true" not in s.query and "continue=" not in s.query
    )
    pages = sum(1 for s in seen if "continue=" in s.query)
    path, polled = max(((p, c) for p, c in gets.items() if "/version" not in p), key=lambda x: x[1])
    print(f"most read: {path} {polled} times; {pages} further list pages")
    print(
        f"backend {args.backend}: {n_vms} VMs in {args.waves} waves, status {summary['status']}, "
        f"{succeeded} succeeded, {twice} migrated twice"
    )
    print(
        f"requests {len(seen)} ({len(seen) / n_vms:.3f} per VM), of which {watches} watch streams; "
        f"wall {seconds:.1f} s; most reads of one path {polled}"
    )
    for key, count in Counter(f"{s.method} {s.path.rsplit('/', 1)[-1]}" for s in seen).most_common(8):
        print(f"  {count:6d} {key}")
    # O(VMs + waves): forklift applies 2 objects per wave plus ~6 requests per wave (get, 2 lists, 2 watches);
    # kubevirt applies one VM per VM; a fixed ~12 for first contact, pre-flight and the shared objects
    per_vm = 1 if args.backend == "kubevirt" else 0
    bound = per_vm * n_vms + 10 * args.waves + 20
    ok = lambda cond: "PASS" if cond else "MISS"  # noqa: E731
    print(
        f"BENCH execute_requests_per_vm_{args.backend} {len(seen) / n_vms:.3f} requests target <= "
        f"{bound / n_vms:.3f} {ok(len(seen) <= bound)}"
    )
    # no polling: a path is listed at most once per wave (the watches' initial lists), plus pre-flight
    print(
        f"BENCH execute_max_reads_per_path_{args.backend} {polled} reads target <= {args.waves + 1} "
        f"{ok(polled <= args.waves + 1)}"
    )
    print(
        f"BENCH execute_vms_succeeded_{args.backend} {succeeded} VMs target == {n_vms} "
        f"{ok(succeeded == n_vms)}"
    )
    print(f"BENCH execute_wall_{args.backend} {seconds:.1f} s target < 120 {ok(seconds < 120)}")


if __name__ == "__main__":
    main()
