"""Workload profiles: VMs grouped by the shape of their utilization, named for the report.

KMeans (fixed ``random_state``) on standardised shape features; each cluster is then named
from the medians of its members, so the names read the same whatever order KMeans found
the clusters in: ``bursty`` (P99 far above P50), ``memory-bound`` (many GiB of memory demand
per core of CPU demand), ``cpu-bound`` (few), else ``steady``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from assess.sizing.params import Profiles

_D = Profiles()

#: Clustering inputs (see :func:`profile_features`).
PROFILE_FEATURES = ["log_gib_per_core", "log_peak_ratio", "cpu_cv", "daily_cycle", "cpu_load"]


def profile_features(features: pd.DataFrame, sizes: pd.DataFrame) -> pd.DataFrame:
    """Per-VM shape features for profiling, from ``wide_features`` and ``RightSizer.sizes_``.

    ``gib_per_core``: memory demand (GiB) per core of CPU demand (demand MHz / core MHz, at
    least 0.1 core); ``peak_ratio``: CPU P99 / (P50 + 1 MHz); ``cpu_load``: CPU demand over the
    allocated capacity. VMs without CPU or memory demand are left out.
    """
    s = sizes.set_index(sizes["vm_id"].astype("string"))
    cores = (s["cpu_demand_mhz"] / s["core_mhz"]).clip(lower=0.1)
    out = pd.DataFrame(index=s.index)
    out["gib_per_core"] = s["memory_demand_mib"] / 1024 / cores
    out["peak_ratio"] = features["cpu_peak_ratio"].reindex(s.index)
    out["cpu_cv"] = features["cpu_cv"].reindex(s.index)
    out["daily_cycle"] = features["daily_cycle"].reindex(s.index)
    out["cpu_load"] = s["cpu_demand_mhz"] / (s["core_mhz"] * s["allocated_vcpus"].astype("float64"))
    out["log_gib_per_core"] = np.log1p(out["gib_per_core"])
    out["log_peak_ratio"] = np.log1p(out["peak_ratio"])
    return out.dropna(subset=["gib_per_core", "peak_ratio"]).fillna(0.0)


class WorkloadProfiler(BaseEstimator):
    """Cluster VMs by utilization shape and name each cluster (cpu-bound, memory-bound, steady, bursty).

    Attributes:
        profiles_: one row per VM of ``sizes``: ``vm_id, profile`` (or ``unknown`` without
            data), ``profile_reason``. The profile describes the workload; the instancetype is
            chosen by capacity cost (:mod:`assess.sizing.shapes`), not from the profile.
        centres_: per cluster: the member medians of the features and the name given.
        model_: the fitted KMeans (None when no VM had data).
    """

    def __init__(
        self,
        n_clusters: int = _D.n_clusters,
        memory_bound_gib_per_vcpu: float = _D.memory_bound_gib_per_vcpu,
        cpu_bound_gib_per_vcpu: float = _D.cpu_bound_gib_per_vcpu,
        bursty_peak_ratio: float = _D.bursty_peak_ratio,
        random_state: int | None = _D.random_state,
    ):
        self.n_clusters = n_clusters
        self.memory_bound_gib_per_vcpu = memory_bound_gib_per_vcpu
        self.cpu_bound_gib_per_vcpu = cpu_bound_gib_per_vcpu
        self.bursty_peak_ratio = bursty_peak_ratio
        self.random_state = random_state

    def fit(self, features: pd.DataFrame, sizes: pd.DataFrame) -> WorkloadProfiler:
        """Profile the VMs of ``sizes`` from their shape ``features``; return self."""
        if self.n_clusters < 1:
            raise ValueError(f"WorkloadProfiler: n_clusters should be >= 1, received {self.n_clusters!r}")
        feats = profile_features(features, sizes)
        ids = sizes["vm_id"].astype("string").reset_index(drop=True)
        self.model_ = None
        if feats.empty:
            self.centres_ = pd.DataFrame()
            labels = pd.Series(dtype="float64")
        else:
            k = min(self.n_clusters, len(feats))
            x = StandardScaler().fit_transform(feats[PROFILE_FEATURES])
            self.model_ = KMeans(n_clusters=k, n_init=10, random_state=self.random_state).fit(x)
            labels = pd.Series(self.model_.labels_, index=feats.index)
            centres = feats.groupby(labels.to_numpy()).median()
            centres["profile"] = [self._name(row) for _, row in centres.iterrows()]
            self.centres_ = centres
        names = labels.map(self.centres_["profile"]) if len(labels) else labels
        profile = names.reindex(ids).fillna("unknown").astype("string")
        g = feats.reindex(ids)
        reason = ("cluster of " + profile + " VMs; this VM: " + g["gib_per_core"].round(1).astype("string")
                  + " GiB per core of demand, P99/P50 " + g["peak_ratio"].round(1).astype("string"))
        self.profiles_ = pd.DataFrame({
            "vm_id": ids,
            "profile": profile.to_numpy(),
            "profile_reason": reason.fillna("no CPU and memory demand: profile unknown").to_numpy(),
        }).astype({"profile_reason": "string"})
        return self

    def _name(self, centre: pd.Series) -> str:
        if centre["peak_ratio"] >= self.bursty_peak_ratio:
            return "bursty"
        if centre["gib_per_core"] >= self.memory_bound_gib_per_vcpu:
            return "memory-bound"
        if centre["gib_per_core"] <= self.cpu_bound_gib_per_vcpu:
            return "cpu-bound"
        return "steady"
