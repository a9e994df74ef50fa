import itertools

import numpy as np
import pandas as pd

from assess.sizing.bounds import l2_bound, lower_bound, sum_bound
from assess.sizing.heuristics import HEURISTICS, balanced_fit
from assess.sizing.packing import anti_affinity_groups, pack, place_vms, spare_nodes
from assess.sizing.params import NodeProfile, Packing


def test_sum_bound():
    # 7 + 6 + 5 = 18 in bins of 10 -> ceil(1.8) = 2
    assert sum_bound([7, 6, 5], 10) == 2


def test_martello_toth_l2_beats_the_sum_bound():
    # Textbook case: six items of 51 in bins of 100. Sum bound ceil(306/100) = 4, but no two
    # items share a bin. L2 with a = 0: J1 = {}, J2 = six items > C/2 -> 6.
    assert sum_bound([51] * 6, 100) == 4
    assert l2_bound([51] * 6, 100) == 6


def test_l2_counts_small_items_spilling_past_the_room_j2_leaves():
    # C = 100: items 60, 60, 45, 45, 45, 10.  Sum 265 -> 3.
    # a = 10: J1 = items > 90: none; J2 = (50, 90]: 60, 60 (room 2*100-120 = 80);
    # J3 = [10, 50]: 45*3 + 10 = 145; spill ceil((145 - 80) / 100) = 1 -> L2 = 2 + 1 = 3.
    # a = 45: J1 = items > 55: 60, 60 -> 2; J2 = (50, 55]: none; J3 = [45, 50]: 135 -> ceil(1.35) = 2 -> 4.
    assert l2_bound([60, 60, 45, 45, 45, 10], 100) == 4
    # and it is tight: {60,10} {60} {45,45} {45} -> 4 bins; brute force below confirms no 3-bin packing
    assert _optimum(np.array([[60], [60], [45], [45], [45], [10]]), np.array([100])) == 4


def _optimum(demand, capacity, groups=()):
    n = len(demand)
    for k in range(1, n + 1):
        for assign in itertools.product(range(k), repeat=n):
            load = np.zeros((k, demand.shape[1]))
            np.add.at(load, list(assign), demand)
            clash = any(len({assign[i] for i in g}) < len(g) for g in groups)
            if (load <= capacity).all() and not clash:
                return k
    return n


def test_lower_bound_takes_every_dimension_and_anti_affinity():
    demand = np.array([[1, 60], [1, 60], [1, 10]])
    bound = lower_bound(demand, np.array([10, 100]), groups=[[0, 1, 2]])
    # dim 2: sum 130 -> 2; L2 J2 = {60, 60} -> 2; anti-affinity group of 3 -> 3
    assert bound == {"sum": 2, "l2": 2, "anti_affinity": 3, "bound": 3}


def test_pack_is_optimal_on_tiny_cases():
    rng = np.random.default_rng(7)
    capacity = np.array([10, 10, 4])
    for _ in range(5):
        demand = np.column_stack([rng.integers(1, 8, 6), rng.integers(1, 8, 6), np.ones(6, int)])
        outcome = pack(demand, capacity, time_limit=5)
        assert outcome.nodes == _optimum(demand, capacity)
        _assert_valid(demand, capacity, outcome.assign)


def test_cp_sat_closes_what_the_heuristics_leave():
    # 2-D: items (6,1) x3 and (1,6) x3 in bins (7,7): optimum pairs each -> 3 bins.
    demand = np.array([[6, 1, 1]] * 3 + [[1, 6, 1]] * 3)
    outcome = pack(demand, np.array([7, 7, 9]), time_limit=5)
    assert outcome.nodes == 3 and outcome.optimal


def test_anti_affinity_keeps_group_members_apart():
    demand = np.array([[1, 1, 1]] * 4)
    outcome = pack(demand, np.array([10, 10, 10]), groups=[[0, 1, 2]], time_limit=5)
    assert outcome.nodes == 3
    assert len({outcome.assign[i] for i in (0, 1, 2)}) == 3
    for name, heuristic in HEURISTICS.items():
        assign = heuristic(demand, np.array([10, 10, 10]), [[0, 1, 2]])
        assert len({assign[i] for i in (0, 1, 2)}) == 3, name


def test_large_inputs_pack_in_chunks_close_to_the_bound_and_keep_anti_affinity():
    rng = np.random.default_rng(3)
    demand = np.column_stack([rng.integers(1, 9, 600), rng.integers(1, 9, 600), np.ones(600, int)])
    capacity = np.array([32, 32, 16])
    groups = [[0, 1, 2, 3], [10, 300, 599]]
    whole = pack(demand, capacity, groups, time_limit=1, improve_with_cpsat=False)
    chunked = pack(demand, capacity, groups, time_limit=1, improve_with_cpsat=False, chunk_items=200)
    _assert_valid(demand, capacity, chunked.assign)
    for group in groups:
        assert len({chunked.assign[i] for i in group}) == len(group)
    assert chunked.method.startswith("3 chunks") and chunked.runs[-1]["method"] == "final"
    # three chunks cost at most one partly filled node each over packing the whole at once
    assert whole.bound["bound"] <= whole.nodes <= chunked.nodes <= whole.nodes + 3


def test_balanced_fit_returns_none_when_nodes_are_too_few():
    assert balanced_fit(np.array([[6, 6], [6, 6]]), np.array([10, 10]), 1) is None


def _assert_valid(demand, capacity, assign):
    load = np.zeros((assign.max() + 1, demand.shape[1]))
    np.add.at(load, assign, demand)
    assert (load <= capacity).all()


def test_spares_n_plus_with_migration_planner_minimum_of_two():
    assert spare_nodes(10, Packing(ha_spare_nodes=1)) == 2
    assert spare_nodes(50, Packing(ha_reserve="percent", ha_percent=0.1)) == 5  # ceil(5.0)
    assert spare_nodes(0, Packing()) == 0


def test_place_vms_picks_the_cheapest_profile_and_puts_big_vms_on_big_nodes():
    small = NodeProfile(name="small", cores=18, threads=36, memory_mib=64 * 1024 + 4096, price_per_year=1000)
    big = NodeProfile(name="big", cores=66, threads=132, memory_mib=512 * 1024 + 4096, price_per_year=6000)
    params = Packing(node_profiles=[small, big], target_utilization=1.0, cpu_overcommit=1.0,
                     ha_min_failover_nodes=0, ha_spare_nodes=0)
    # small node: 16 cores, 64 GiB; big: 64 cores, 512 GiB (after 2 cores + 4 GiB reserved)
    sized = pd.DataFrame({
        "vm_id": [f"v{i}" for i in range(9)],
        "vcpus": [4] * 8 + [64], "cpu_request_cores": [0.4] * 8 + [6.4],
        "pod_memory_mib": [16 * 1024.0] * 8 + [300 * 1024.0],
    })
    placed = place_vms(sized, params, {"small": 1000, "big": 6000})
    # 8 VMs of 4 cores / 16 GiB: 4 per small node -> 2 small nodes (2000/yr); the 64-core VM
    # fills a big node alone: mix = 2 small + 1 big = 8000 < all on big = 2 big = 12000
    assert placed.summary["nodes_by_profile"] == {"big": 1, "small": 2}
    assert placed.vm_node.set_index("vm_id").loc["v8", "node_profile"] == "big"
    assert placed.summary["gap_nodes"] == 0


def test_vm_too_big_for_every_profile_is_reported_not_dropped():
    node = NodeProfile(name="n", cores=8, threads=8, memory_mib=8192, price_per_year=1)
    params = Packing(node_profiles=[node])
    sized = pd.DataFrame({"vm_id": ["ok", "huge"], "vcpus": [1, 2], "cpu_request_cores": [0.1, 0.2],
                          "pod_memory_mib": [1024.0, 65536.0]})
    placed = place_vms(sized, params, {"n": 1.0}).vm_node.set_index("vm_id")
    assert pd.isna(placed.loc["huge", "node"])
    assert "larger than every node profile" in placed.loc["huge", "unplaced_reason"]
    assert placed.loc["ok", "node"] == "n-001"


def test_anti_affinity_groups_from_drs_rules():
    rules = pd.DataFrame({"cluster": ["c"] * 3, "rule": ["r"] * 3, "kind": ["vm_anti_affinity"] * 3,
                          "enabled": pd.array([True] * 3, "boolean"), "member": ["a", "b", "gone"]})
    assert anti_affinity_groups(rules, pd.Series(["x", "a", "b"])) == [[1, 2]]
