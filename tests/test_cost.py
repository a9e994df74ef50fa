import pandas as pd
import pytest

from assess.sizing.cost import cost_table, licensed_cores, node_cost_per_year
from assess.sizing.params import Cost, NodeProfile


def _hosts():
    return pd.DataFrame({"name": ["small", "big", "unknown"], "sockets": pd.array([2, 2, None], "Int64"),
                         "cores": pd.array([16, 64, None], "Int64")})


def test_sixteen_core_minimum_per_socket():
    # 2 sockets x 8 cores -> each socket licensed for 16 -> 32; 2 x 32 cores -> 64
    assert licensed_cores(_hosts().iloc[:2], 16).tolist() == [32, 64]


def test_cost_table_side_by_side_with_every_assumption():
    nodes = pd.DataFrame({"node": ["n-001", "n-002", "n-spare-01"], "node_profile": ["n"] * 3,
                          "role": ["workload", "workload", "failover"]})
    profile = NodeProfile(name="n", cores=32, threads=64, memory_mib=512 * 1024, price_per_year=10000)
    params = Cost(vmware_price_per_core_year=350, current_support_per_year=1000,
                  target_subscription_per_core_year=100, target_subscription_per_node_year=500)
    table = cost_table(_hosts(), nodes, [profile], params).set_index(["side", "item"])
    # current: (32 + 64) cores x 350 = 33600, + 1000 support = 34600
    assert table.loc[("current", "VMware subscription"), "annual_cost"] == 33600
    assert table.loc[("current", "total"), "annual_cost"] == 34600
    # the host without counts is listed, not silently dropped
    assert "unknown" in table.loc[("current", "hosts without socket/core counts"), "assumption"]
    # target: 3 nodes x 10000 + 3 x 500 + 3 x 32 x 100 = 30000 + 1500 + 9600 = 41100
    assert table.loc[("target", "total"), "annual_cost"] == 41100
    assert table.loc[("difference", "current - target"), "annual_cost"] == pytest.approx(34600 - 41100)
    assert "1 of them failover" in table.loc[("target", "nodes n"), "assumption"]
    assert table["assumption"].str.len().gt(0).all()
    # one node costs 10000 + 500 + 32 x 100 = 13700 a year: what the profile choice compares
    assert node_cost_per_year(profile, params) == 13700


def test_every_price_says_default_given_or_not_given_and_not_given_is_not_zero():
    nodes = pd.DataFrame({"node": ["n-001", "n-spare-01"], "node_profile": ["n"] * 2,
                          "role": ["workload", "failover"]})
    profile = NodeProfile(name="n", cores=32, threads=64, memory_mib=512 * 1024, price_per_year=10000)
    params = Cost(current_support_per_year=1000)  # VMware price left at its default, nothing else given
    table = cost_table(_hosts(), nodes, [profile], params, profiles_given=True).set_index(["side", "item"])
    inputs = table["input"].to_dict()
    assert inputs[("current", "VMware subscription")] == "default"
    assert inputs[("current", "support")] == "given"
    assert inputs[("current", "hardware")] == "not given"
    assert inputs[("target", "nodes n")] == "given"
    assert inputs[("target", "support")] == "not given"
    assert inputs[("target", "platform subscription n (per core)")] == "not given"
    # a price not given has no cost (NaN, not 0) and says so
    assert pd.isna(table.loc[("current", "hardware"), "annual_cost"])
    assert "price not given: not counted (set cost.current_hardware_per_year)" in table.loc[
        ("current", "hardware"), "assumption"]
    # totals count what is known: 33600 + 1000 today; 2 x 10000 on the target
    assert table.loc[("current", "total"), "annual_cost"] == 34600
    assert table.loc[("target", "total"), "annual_cost"] == 20000
    # the host without socket/core counts is omitted too, and named as such
    assert "omits hardware, hosts without socket/core counts (not given)" in table.loc[
        ("current", "total"), "assumption"]
    target = table.loc[("target", "total"), "assumption"]
    assert "omits platform subscription n (per core), platform subscription n (per node), support" in target
    difference = table.loc[("difference", "current - target"), "assumption"]
    assert "not like for like: current omits hardware, hosts without socket/core counts; target" in difference
    # licences, hardware and support appear on both sides
    for side in ("current", "target"):
        assert {"licences", "hardware", "support"} <= set(table.loc[side, "kind"])
