import pytest
from pydantic import ValidationError

from assess.sizing import SizingParams


def test_defaults_are_the_documented_ones():
    p = SizingParams()
    assert p.rightsizing.mode == "performance"
    assert p.rightsizing.percentile == 95
    assert p.rightsizing.comfort_factor == 1.3
    assert p.rightsizing.lookback_days == 30
    assert p.rightsizing.upsizing == "cap_at_allocated"
    assert (p.idle.cpu_pct_p95, p.idle.cpu_pct_p99, p.idle.min_signals) == (5.0, 10.0, 2)
    assert p.idle.exclude_idle is True and p.packing.include_unmigrated is False
    assert p.kubevirt.allowed_series == ["u1", "m1"] and p.kubevirt.max_memory_overshoot_pct == 25.0
    assert p.rightsizing.lookback_end is None and p.rightsizing.stats_memory_limit == "4GB"
    assert p.kubevirt.cpu_allocation_ratio == 10
    assert p.kubevirt.filesystem_overhead == 0.06
    assert p.packing.target_utilization == 0.8
    assert p.packing.memory_overcommit == 1.0
    assert p.packing.ha_min_failover_nodes == 2


def test_unknown_or_out_of_range_parameters_are_refused():
    with pytest.raises(ValidationError, match="percentil"):
        SizingParams(rightsizing={"percentil": 95})
    with pytest.raises(ValidationError, match="percentile"):
        SizingParams(rightsizing={"percentile": 80})
    with pytest.raises(ValidationError, match="comfort_factor"):
        SizingParams(rightsizing={"comfort_factor": 0.5})
