"""Plan waves for a generated 10,000-VM estate with 100,000 flow edges; compare with a baseline.

Run: .venv/bin/python bench/bench_waves.py [--vms N] [--edges M]
"""

from __future__ import annotations

import argparse
import time

import networkx as nx
import numpy as np
import pandas as pd

from assess.model import Estate
from assess.waves import WavesParams, assign_waves, dependency_graph, plan_waves
from assess.waves.exact import optimal_waves
from assess.waves.improve import improve_waves
from assess.waves.metrics import cross_wave_traffic, group_plan_cost, wave_lower_bound
from assess.waves.schedule import WaveCaps

SHARED = [
    ("dns01", 53, "udp"),
    ("dns02", 53, "udp"),
    ("ad01", 389, "tcp"),
    ("ad02", 88, "tcp"),
    ("ntp01", 123, "udp"),
    ("backup01", 10000, "tcp"),
    ("mon01", 9100, "tcp"),
    ("wsus01", 8530, "tcp"),
]


def generate(n_vms: int = 10_000, n_edges: int = 100_000, seed: int = 7) -> tuple[Estate, dict]:
    """Apps of 3-12 VMs (web -> app -> db tiers), shared services, random noise; planted app per VM."""
    rng = np.random.default_rng(seed)
    n_apps_vms = n_vms - len(SHARED)
    sizes = []
    while sum(sizes) < n_apps_vms:
        sizes.append(int(rng.integers(3, 13)))
    sizes[-1] -= sum(sizes) - n_apps_vms
    if sizes[-1] < 1:
        sizes[-2] += sizes.pop()
    app_of = np.repeat(np.arange(len(sizes)), sizes)
    names = [f"vm{i:05d}" for i in range(n_apps_vms)] + [s[0] for s in SHARED]
    ids = [f"vc/vm-{i}" for i in range(n_vms)]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    src, dst, port, nbytes = [], [], [], []
    tagged_attr = []
    for a, (s, k) in enumerate(zip(starts, sizes)):
        members = np.arange(s, s + k)
        db = members[-1:] if k >= 3 else members[:0]
        app_tier = members[1:2] if k >= 3 else members[:1]
        web = np.concatenate([members[:1], members[2:-1]]) if k >= 4 else members[:1]
        for w in web:
            src.append(w), dst.append(app_tier[0]), port.append(8080), nbytes.append(rng.lognormal(21, 1))
        for t in app_tier:
            for d in db:
                src.append(t), dst.append(d), port.append(5432), nbytes.append(rng.lognormal(22, 1))
        if k >= 5:  # web tier talks among itself (session replication)
            for w1, w2 in zip(web[:-1], web[1:]):
                src.append(w1), dst.append(w2), port.append(7800), nbytes.append(rng.lognormal(20, 1))
        if a % 2 == 0:  # half the applications carry an 'Application' tag
            tagged_attr += [(ids[m], "Application", f"app{a:04d}") for m in members]
    n_intra = len(src)
    n_shared = int(0.5 * (n_edges - n_intra))
    for i in range(n_shared):
        hub = n_apps_vms + i % len(SHARED)
        src.append(int(rng.integers(0, n_apps_vms))), dst.append(hub), port.append(SHARED[i % len(SHARED)][1])
        nbytes.append(rng.lognormal(14, 1))
    flows = pd.DataFrame({"src": src, "dst": dst, "port": port, "bytes": nbytes})
    while len(flows) < n_edges:  # cross-application noise: light, random, until n_edges distinct edges
        k = n_edges - len(flows)
        a, b = rng.integers(0, n_apps_vms, size=(2, k))
        noise = pd.DataFrame({"src": a, "dst": b, "port": 443, "bytes": rng.lognormal(15, 1.5, size=k)})
        flows = pd.concat([flows, noise[a != b]], ignore_index=True).drop_duplicates(["src", "dst", "port"])
    flows = flows.assign(
        src=np.array(ids)[flows["src"]], dst=np.array(ids)[flows["dst"]], protocol="tcp", connections=5
    )
    est = Estate()
    est["vms"] = pd.DataFrame({"vm_id": ids, "name": names})
    est["disks"] = pd.DataFrame(
        {"vm_id": ids, "disk_key": "2000", "capacity_mib": rng.lognormal(np.log(80 * 1024), 0.8, size=n_vms)}
    )
    env = np.where(np.arange(len(sizes)) % 3 == 0, "Development", "Production")
    attrs = [(ids[m], "Environment", env[app_of[m]]) for m in range(n_apps_vms)] + tagged_attr
    est["attributes"] = pd.DataFrame(attrs, columns=["vm_id", "name", "value"]).assign(kind="custom")
    est["flows"] = flows
    truth = {"app": dict(zip(ids[:n_apps_vms], app_of)), "shared": set(ids[n_apps_vms:])}
    return est, truth


def baseline(G: nx.Graph, facts: pd.DataFrame, caps: WaveCaps) -> dict:
    """Connected components of all flows (chunked to the VM cap), then first-fit by size into waves."""
    vms = [n for n, k in G.nodes(data="kind") if k == "vm"]
    H = G.subgraph(vms)
    parts = []
    for comp in nx.connected_components(H):
        comp = sorted(comp)
        parts += [comp[i : i + caps.max_vms] for i in range(0, len(comp), caps.max_vms)]
    parts.sort(key=len, reverse=True)
    waves: list[list] = []
    wave_of = {}
    for part in parts:
        tib = facts.loc[part, "storage_gib"].sum() / 1024
        for i, w in enumerate(waves):  # noqa: B007  (i is used after the loop)
            if w[0] + len(part) <= caps.max_vms and w[1] + tib <= caps.max_tib:
                w[0] += len(part)
                w[1] += tib
                break
        else:
            waves.append([len(part), tib])
            i = len(waves) - 1
        wave_of.update({v: i + 1 for v in part})
    return {"wave_of": wave_of, "waves": len(waves)}


def cpsat_check(seed: int = 3) -> tuple[tuple, tuple]:
    """Greedy vs CP-SAT on a random 12-group instance: (waves, weighted cross sum) each."""
    rng = np.random.default_rng(seed)
    Q = nx.gnm_random_graph(12, 20, seed=seed)
    for n in Q:
        Q.nodes[n].update(vms=int(rng.integers(1, 6)), tib=0.1, gib=100.0, max_gib=100.0, phase=1)
    for a, b in Q.edges:
        Q.edges[a, b]["weight"] = float(rng.integers(1, 100))
    caps = WaveCaps(max_vms=10, max_tib=100, window_hours=48, aggregate_gbps=7, per_vm_gbps=2)
    greedy = improve_waves(Q, assign_waves(Q, caps).wave, caps)
    exact = optimal_waves(Q, caps, time_limit_s=20)
    return group_plan_cost(Q, greedy), group_plan_cost(Q, exact)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=10_000)
    ap.add_argument("--edges", type=int, default=100_000)
    args = ap.parse_args()
    est, truth = generate(args.vms, args.edges)
    print(f"estate: {len(est['vms'])} VMs, {len(est['flows'])} flow edges")
    params = WavesParams(max_vms_per_wave=200, max_tb_per_wave=60, max_group_vms=40, pilot_vms=10)
    t0, c0 = time.perf_counter(), time.process_time()
    result = plan_waves(est, params=params)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = result.summary
    from sklearn.metrics import adjusted_rand_score

    mg = result.tables["move_groups"].set_index("vm_id")["group"]
    apps = pd.Series(truth["app"])
    ari = adjusted_rand_score(apps.to_numpy(), mg.reindex(apps.index).astype(str).to_numpy())
    found_shared = set(result.tables["move_groups"].query("shared_service")["vm_id"])
    G = dependency_graph(est, params)
    caps = WaveCaps.from_params(params)
    from assess.waves.stage import vm_facts

    facts = vm_facts(est, None, None, params)
    base = baseline(G, facts, caps)
    bt = cross_wave_traffic(G, base["wave_of"])
    bound = wave_lower_bound(len(facts), facts["storage_gib"].sum() / 1024, facts["transfer_gib"].sum(), caps)
    print(
        f"planner : {s['waves']} waves (lower bound {s['waves_lower_bound']}), {s['move_groups']} groups, "
        f"cross-wave share {s['cross_wave_share']:.4f}, weighted {s['cross_wave_weighted']:.4g}, "
        f"hard splits {s['hard_links_split']}, modularity {s['modularity']:.3f}, {seconds:.1f} s "
        f"({cpu:.1f} s CPU)"
    )
    print(
        f"baseline: {base['waves']} waves (lower bound {bound}), cross-wave share {bt['share']:.4f}, "
        f"weighted {bt['weighted']:.4g}, hard splits {bt['hard_split']}"
    )
    hit, extra = len(found_shared & truth["shared"]), len(found_shared - truth["shared"])
    print(
        f"planted apps vs groups: adjusted Rand index {ari:.3f}; shared services found "
        f"{hit}/{len(truth['shared'])} (+{extra})"
    )
    checks = [cpsat_check(seed) for seed in range(5)]
    for seed, ((gw, gc), (ow, oc)) in enumerate(checks):
        print(
            f"12-group case {seed}: greedy+local search {gw} waves, weighted {gc:.0f}; "
            f"CP-SAT {ow} waves, weighted {oc:.0f}"
        )
    ratio = float(np.mean([gc / max(oc, 1) for (_, gc), (_, oc) in checks]))
    same_waves = all(gw == ow for (gw, _), (ow, _) in checks)
    ok = lambda c: "PASS" if c else "MISS"  # noqa: E731
    splits = s["hard_links_split"]
    print(f"BENCH waves_hard_splits {splits} count target == 0 {ok(splits == 0)}")
    print(
        f"BENCH waves_cross_share {s['cross_wave_share']:.4f} ratio target < {bt['share']:.4f} "
        f"{ok(s['cross_wave_share'] < bt['share'])}"
    )
    print(
        f"BENCH waves_used {s['waves']} waves target <= {int(np.ceil(1.2 * s['waves_lower_bound']))} "
        f"{ok(s['waves'] <= np.ceil(1.2 * s['waves_lower_bound']))}"
    )
    print(f"BENCH waves_app_ari {ari:.3f} index target >= 0.9 {ok(ari >= 0.9)}")
    print(f"BENCH waves_greedy_vs_cpsat {ratio:.2f} ratio target <= 1.5 {ok(ratio <= 1.5 and same_waves)}")
    print(f"BENCH waves_seconds {seconds:.1f} s target < 60 {ok(seconds < 60)}")
    print(f"BENCH waves_cpu_seconds {cpu:.1f} s target < 60 {ok(cpu < 60)}")


if __name__ == "__main__":
    main()
