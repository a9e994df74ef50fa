"""Idle ("zombie") VM detection: several signals, each relative to what the VM has, per-VM evidence.

A VM is idle when every signal it reports is quiet and it reports at least ``min_signals`` of
them (CPU always among them):

- **CPU**: P95 at most ``cpu_pct_p95`` % and P99 at most ``cpu_pct_p99`` % of the VM's own
  capacity (``cpu_usage_pct``, else ``cpu_usage_mhz`` over allocated vCPUs x core MHz). An
  absolute MHz threshold would miss big idle VMs (1% of 16 vCPUs is ~400 MHz) and call small
  busy ones idle; P99 keeps nightly jobs and periodic batch work out.
- **network** and **disk**: P95 throughput at most ``net_kbps_p95`` / ``disk_kbps_p95`` KB/s
  (monitoring agents and name lookups still move a few KB/s on an idle guest).
- **active memory**: P95 ``mem_active_mib`` at most ``mem_active_pct_p95`` % of the
  allocation. Consumed memory is not a signal: ESXi does not take back what a guest once
  touched, so an idle VM's consumed memory stays high.

The IsolationForest only corroborates: fitted on the rule's idle VMs, it says how typical of
them each idle VM is, in its evidence; it never makes a VM idle. Idle VMs are retire
candidates; the sizing stage leaves them out of packing unless told otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import ValidationError
from sklearn.base import BaseEstimator
from sklearn.ensemble import IsolationForest

from assess.sizing.features import wide_features
from assess.sizing.params import Idle
from assess.sizing.utilization_stats import frame_stats

_D = Idle()

#: Fewest rule-idle VMs the corroborating model is fitted on.
MIN_TRAINING_VMS = 5

#: Shape features of the corroborating model.
MODEL_FEATURES = ["cpu_pct_p95", "cpu_cv", "log_net_p95", "log_disk_p95", "daily_cycle"]

#: Core speed assumed for the CPU share when the caller gives no capacity, MHz.
DEFAULT_CORE_MHZ = 2400.0


class IdleDetector(BaseEstimator):
    """Flag idle VMs from several utilization signals relative to each VM's capacity.

    Parameters are those of :class:`assess.sizing.params.Idle` (``exclude_idle`` is used by
    the sizing stage, not here) plus ``lookback_days`` for :meth:`fit` on raw samples.

    Attributes:
        idle_: one row per row of ``vms``: ``vm_id, idle`` (bool), ``idle_signals`` (signals
            measured), ``idle_score`` (model typicality 0-1 among the idle VMs; null when not
            fitted or not idle), ``idle_evidence`` (the figures behind the verdict).
        features_: per-VM features (vm_id index) the verdict was made from.
        model_: the fitted IsolationForest, or None when fewer than 5 VMs were idle.
    """

    def __init__(
        self,
        cpu_pct_p95: float = _D.cpu_pct_p95,
        cpu_pct_p99: float = _D.cpu_pct_p99,
        net_kbps_p95: float = _D.net_kbps_p95,
        disk_kbps_p95: float = _D.disk_kbps_p95,
        mem_active_pct_p95: float = _D.mem_active_pct_p95,
        min_signals: int = _D.min_signals,
        min_samples: int = _D.min_samples,
        use_model: bool = _D.use_model,
        lookback_days: float = 30,
        random_state: int | None = _D.random_state,
    ):
        self.cpu_pct_p95 = cpu_pct_p95
        self.cpu_pct_p99 = cpu_pct_p99
        self.net_kbps_p95 = net_kbps_p95
        self.disk_kbps_p95 = disk_kbps_p95
        self.mem_active_pct_p95 = mem_active_pct_p95
        self.min_signals = min_signals
        self.min_samples = min_samples
        self.use_model = use_model
        self.lookback_days = lookback_days
        self.random_state = random_state

    @classmethod
    def from_params(cls, params: Idle, lookback_days: float = 30) -> IdleDetector:
        """A detector configured from the ``idle`` group of ``SizingParams``."""
        return cls(lookback_days=lookback_days, **params.model_dump(exclude={"exclude_idle"}))

    def fit(self, utilization: pd.DataFrame, vms: pd.DataFrame, capacity_mhz: pd.Series | None = None
            ) -> IdleDetector:
        """Judge every VM of ``vms`` from the canonical ``utilization`` samples; return self."""
        missing = {"vm_id", "metric", "timestamp", "value"} - set(utilization.columns)
        if missing:
            raise ValueError(f"IdleDetector: utilization should have columns vm_id, metric, timestamp, "
                             f"value; missing {', '.join(sorted(missing))}")
        if not self.lookback_days or self.lookback_days <= 0:
            raise ValueError(f"IdleDetector: lookback_days should be > 0, received {self.lookback_days!r}")
        return self.fit_stats(frame_stats(utilization, self.lookback_days), vms, capacity_mhz)

    def fit_stats(self, stats: pd.DataFrame, vms: pd.DataFrame, capacity_mhz: pd.Series | None = None
                  ) -> IdleDetector:
        """Judge every VM from a stats table of :mod:`assess.sizing.utilization_stats`; return self.

        Args:
            stats: per (vm_id, metric) statistics.
            vms: ``vm_id`` (and ``vcpus``, ``memory_mib`` for the relative signals).
            capacity_mhz: vm_id -> allocated vCPUs x core MHz; None = vCPUs x 2400 MHz.
        """
        params = self._validated()
        if "vm_id" not in vms:
            raise ValueError("IdleDetector: vms should have a vm_id column")
        feats = _features(stats, vms, capacity_mhz)
        quiet = _quiet(feats, params)
        measured = quiet.notna()
        signals = measured.sum(axis=1)
        judged = feats["cpu_pct_p95"].notna() & (feats["cpu_samples"] >= params.min_samples)
        enough = judged & (signals >= params.min_signals)
        idle = enough & quiet.fillna(True).all(axis=1)
        feats["idle"], feats["idle_signals"] = idle, signals
        feats["idle_score"] = self._corroborate(feats, idle, params)
        self.features_ = feats
        self.idle_ = _per_vm(vms, feats, quiet, judged, enough, params)
        return self

    def _corroborate(self, feats: pd.DataFrame, idle: pd.Series, p: Idle) -> pd.Series:
        """Typicality of each idle VM among the idle VMs (IsolationForest); NaN elsewhere."""
        self.model_ = None
        score = pd.Series(np.nan, index=feats.index)
        if not p.use_model or int(idle.sum()) < MIN_TRAINING_VMS:
            return score
        x = _model_matrix(feats)
        train = x[idle.to_numpy()]
        self.model_ = IsolationForest(n_estimators=200, random_state=p.random_state).fit(train)
        ranks = np.sort(self.model_.score_samples(train))
        typical = np.searchsorted(ranks, self.model_.score_samples(train), side="right") / len(ranks)
        score[idle.to_numpy()] = typical
        return score

    def _validated(self) -> Idle:
        values = {k: v for k, v in self.get_params().items() if k != "lookback_days"}
        try:
            return Idle(**values)
        except ValidationError as exc:
            err = exc.errors()[0]
            name = ".".join(str(p) for p in err["loc"])
            raise ValueError(f"IdleDetector: {name}={err.get('input')!r} is invalid: {err['msg']}") from None


def _features(stats: pd.DataFrame, vms: pd.DataFrame, capacity_mhz: pd.Series | None) -> pd.DataFrame:
    """Wide shape features plus the CPU share of capacity and the active-memory share."""
    feats = wide_features(stats)
    s = stats.set_index(["metric", "vm_id"])

    def field(metric: str, name: str) -> pd.Series:
        if metric not in s.index.get_level_values(0):
            return pd.Series(np.nan, index=feats.index)
        values = s.xs(metric, level="metric")[name]
        values.index = values.index.astype("string")
        return values.reindex(feats.index).astype("float64")

    v = vms.set_index(vms["vm_id"].astype("string"))
    vcpus = (v["vcpus"] if "vcpus" in v else pd.Series(np.nan, index=v.index)).astype("float64")
    if capacity_mhz is None:
        capacity_mhz = vcpus * DEFAULT_CORE_MHZ
    capacity = capacity_mhz.set_axis(capacity_mhz.index.astype("string")).reindex(feats.index)
    capacity = capacity.where(capacity > 0)
    for q in ("p95", "p99"):
        feats[f"cpu_pct_{q}"] = field("cpu_usage_pct", q).fillna(feats[f"cpu_{q}"] / capacity * 100)
    memory = (v["memory_mib"] if "memory_mib" in v else pd.Series(np.nan, index=v.index)).astype("float64")
    feats["mem_active_pct_p95"] = field("mem_active_mib", "p95") / memory.reindex(feats.index).where(
        lambda m: m > 0) * 100
    samples = field("cpu_usage_mhz", "samples").fillna(field("cpu_usage_pct", "samples"))
    feats["cpu_samples"] = samples.fillna(0)
    feats["capacity_mhz"] = capacity
    return feats


def _quiet(feats: pd.DataFrame, p: Idle) -> pd.DataFrame:
    """Per VM and signal: True quiet, False active, NA not measured."""
    def below(values: pd.Series, limit: float) -> pd.Series:
        return (values <= limit).astype("boolean").where(values.notna(), pd.NA)

    cpu = below(feats["cpu_pct_p95"], p.cpu_pct_p95) & below(
        feats["cpu_pct_p99"].fillna(feats["cpu_pct_p95"]), p.cpu_pct_p99)
    return pd.DataFrame({
        "cpu": cpu,
        "network": below(feats["net_p95"], p.net_kbps_p95),
        "disk": below(feats["disk_p95"], p.disk_kbps_p95),
        "active memory": below(feats["mem_active_pct_p95"], p.mem_active_pct_p95),
    }, index=feats.index)


def _model_matrix(feats: pd.DataFrame) -> np.ndarray:
    x = pd.DataFrame(index=feats.index)
    x["cpu_pct_p95"] = feats["cpu_pct_p95"]
    x["cpu_cv"] = feats["cpu_cv"]
    x["log_net_p95"] = np.log1p(feats["net_p95"].clip(lower=0))
    x["log_disk_p95"] = np.log1p(feats["disk_p95"].clip(lower=0))
    x["daily_cycle"] = feats["daily_cycle"]
    return x[MODEL_FEATURES].fillna(0.0).to_numpy()


def _per_vm(vms, feats, quiet, judged, enough, p: Idle) -> pd.DataFrame:
    f = feats

    def num(col: str, digits: int = 1) -> pd.Series:
        return f[col].round(digits).astype("string").fillna("?")

    def state(signal: str) -> pd.Series:
        return quiet[signal].map({True: "quiet", False: "ACTIVE"}).astype("string").fillna("not measured")

    evidence = (
        "CPU P95 " + num("cpu_pct_p95") + "% / P99 " + num("cpu_pct_p99") + "% of capacity "
        + f"(idle <= {p.cpu_pct_p95:g}% / {p.cpu_pct_p99:g}%): " + state("cpu")
        + "; network P95 " + num("net_p95") + f" KB/s (<= {p.net_kbps_p95:g}): " + state("network")
        + "; disk P95 " + num("disk_p95") + f" KB/s (<= {p.disk_kbps_p95:g}): " + state("disk")
        + "; active memory P95 " + num("mem_active_pct_p95") + f"% (<= {p.mem_active_pct_p95:g}%): "
        + state("active memory")
    )
    evidence = evidence.str.replace(r"(network|disk|active memory) P95 \?[^;]*: not measured",
                                    r"no \1 counter", regex=True)
    evidence = evidence.where(f["idle_score"].isna(), evidence + "; model: " + num("idle_score", 2)
                              + " typical of the idle VMs")
    evidence = evidence.where(enough, evidence + f"; fewer than {p.min_signals} signals measured: no verdict")
    evidence = evidence.where(judged, "too few CPU samples for a verdict (" + f["cpu_samples"].astype(
        "int64").astype("string") + f" < {p.min_samples})")
    ids = vms["vm_id"].astype("string").reset_index(drop=True)
    out = pd.DataFrame({
        "vm_id": ids,
        "idle": f["idle"].reindex(ids).fillna(False).astype("boolean").to_numpy(),
        "idle_signals": f["idle_signals"].reindex(ids).fillna(0).astype("int64").to_numpy(),
        "idle_score": f["idle_score"].reindex(ids).astype("float64").to_numpy(),
        "idle_evidence": evidence.reindex(ids).fillna("no utilization samples: no verdict").to_numpy(),
    })
    return out.astype({"idle_evidence": "string"})
