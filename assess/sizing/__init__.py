"""Sizing: right-size each VM, map it to KubeVirt, pack it onto nodes, price it."""

from assess.sizing.growth import growth_factors
from assess.sizing.idle import IdleDetector
from assess.sizing.params import (
    Cost,
    Growth,
    Idle,
    KubeVirtMapping,
    NodeProfile,
    Packing,
    Profiles,
    RightSizing,
    SizingParams,
)
from assess.sizing.profiles import WorkloadProfiler
from assess.sizing.rightsize import RightSizer
from assess.sizing.stage import size_estate

__all__ = [
    "Cost",
    "Growth",
    "Idle",
    "IdleDetector",
    "KubeVirtMapping",
    "NodeProfile",
    "Packing",
    "Profiles",
    "RightSizer",
    "RightSizing",
    "SizingParams",
    "WorkloadProfiler",
    "growth_factors",
    "size_estate",
]
