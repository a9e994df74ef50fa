"""Idle ("zombie") VM detection: a plain rule, and a model that finds VMs shaped like idle ones.

The rule (CPU demand at P95 <= 100 MHz and network at P95 near zero) is what an operator
would check by hand. The model widens it: an IsolationForest is fitted on the features of
the VMs the rule calls idle (CPU baseline, burstiness, daily cycle, network and disk) and
scores every VM by how typical it is of that group, so a VM that just misses the CPU threshold
(an antivirus scan a night) but looks idle in every other way is found too. Idle VMs are
candidates to retire; sizing drops them only when ``exclude_idle`` is set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import ValidationError
from sklearn.base import BaseEstimator
from sklearn.ensemble import IsolationForest

from assess.collect.utilization_stats import frame_stats
from assess.sizing.features import wide_features
from assess.sizing.params import Idle

_D = Idle()

#: Fewest rule-idle VMs the model is fitted on; below this only the rule decides.
MIN_TRAINING_VMS = 5

#: Shape features of the model. CPU level beyond the baseline (P95, P99) is left to the rule, so
#: the model judges the shape: baseline, burstiness, daily cycle, network and disk traffic.
MODEL_FEATURES = ["log_cpu_p50", "cpu_cv", "log_net_p95", "log_disk_p95", "daily_cycle"]


class IdleDetector(BaseEstimator):
    """Flag idle VMs with the rule, widened by an IsolationForest fitted on the rule's idle VMs.

    Parameters are those of :class:`assess.sizing.params.Idle` (``exclude_idle`` is used by
    the sizing stage, not here) plus ``lookback_days`` for :meth:`fit` on raw samples.

    Attributes:
        idle_: one row per row of ``vms``: ``vm_id, idle`` (bool), ``idle_score`` (0-1, higher
            is more idle-like; null without data), ``idle_rule`` (the plain rule fired),
            ``idle_evidence`` (the figures behind the verdict).
        features_: per-VM features (vm_id index) the verdict was made from.
        model_: the fitted IsolationForest, or None when fewer than 5 VMs were rule-idle.
    """

    def __init__(
        self,
        cpu_mhz_p95: float = _D.cpu_mhz_p95,
        net_kbps_p95: float = _D.net_kbps_p95,
        min_samples: int = _D.min_samples,
        use_model: bool = _D.use_model,
        model_score: float = _D.model_score,
        lookback_days: float = 30,
        random_state: int | None = _D.random_state,
    ):
        self.cpu_mhz_p95 = cpu_mhz_p95
        self.net_kbps_p95 = net_kbps_p95
        self.min_samples = min_samples
        self.use_model = use_model
        self.model_score = model_score
        self.lookback_days = lookback_days
        self.random_state = random_state

    @classmethod
    def from_params(cls, params: Idle, lookback_days: float = 30) -> IdleDetector:
        """A detector configured from the ``idle`` group of ``SizingParams``."""
        values = params.model_dump(exclude={"exclude_idle"})
        return cls(lookback_days=lookback_days, **values)

    def fit(self, utilization: pd.DataFrame, vms: pd.DataFrame) -> IdleDetector:
        """Judge every VM of ``vms`` from the canonical ``utilization`` samples; return self."""
        missing = {"vm_id", "metric", "timestamp", "value"} - set(utilization.columns)
        if missing:
            raise ValueError(f"IdleDetector: utilization should have columns vm_id, metric, timestamp, "
                             f"value; missing {', '.join(sorted(missing))}")
        if not self.lookback_days or self.lookback_days <= 0:
            raise ValueError(f"IdleDetector: lookback_days should be > 0, received {self.lookback_days!r}")
        return self.fit_stats(frame_stats(utilization, self.lookback_days), vms)

    def fit_stats(self, stats: pd.DataFrame, vms: pd.DataFrame) -> IdleDetector:
        """Judge every VM from a stats table of :mod:`assess.collect.utilization_stats`; return self."""
        params = self._validated()
        if "vm_id" not in vms:
            raise ValueError("IdleDetector: vms should have a vm_id column")
        feats = wide_features(stats)
        cpu_samples = stats[stats["metric"] == "cpu_usage_mhz"].set_index("vm_id")["samples"]
        feats["cpu_samples"] = cpu_samples.reindex(feats.index).fillna(0).to_numpy()
        judged = feats["cpu_p95"].notna() & (feats["cpu_samples"] >= params.min_samples)
        has_net = feats["net_p95"].notna()
        rule = judged & (feats["cpu_p95"] <= params.cpu_mhz_p95) & (
            ~has_net | (feats["net_p95"] <= params.net_kbps_p95))
        model_x = _model_matrix(feats)
        score = _rule_score(feats, params)
        self.model_ = None
        if params.use_model and int(rule.sum()) >= MIN_TRAINING_VMS:
            self.model_ = IsolationForest(n_estimators=200, random_state=params.random_state)
            self.model_.fit(model_x[rule.to_numpy()])
            train = np.sort(self.model_.score_samples(model_x[rule.to_numpy()]))
            typicality = np.searchsorted(train, self.model_.score_samples(model_x), side="right") / len(train)
            score = pd.Series(typicality, index=feats.index).where(~rule, np.maximum(typicality, score))
        widened = (self.model_ is not None) & judged & ~rule & (score >= params.model_score) & (
            feats["cpu_p95"] <= 2 * params.cpu_mhz_p95)
        idle = rule | widened
        feats["idle"], feats["idle_rule"], feats["idle_score"] = idle, rule, score.where(judged)
        self.features_ = feats
        self.idle_ = _per_vm(vms, feats, judged, has_net, widened, params)
        return self

    def _validated(self) -> Idle:
        values = {k: v for k, v in self.get_params().items() if k != "lookback_days"}
        try:
            return Idle(**values)
        except ValidationError as exc:
            err = exc.errors()[0]
            name = ".".join(str(p) for p in err["loc"])
            raise ValueError(f"IdleDetector: {name}={err.get('input')!r} is invalid: {err['msg']}") from None


def _model_matrix(feats: pd.DataFrame) -> np.ndarray:
    x = pd.DataFrame(index=feats.index)
    for col in ("cpu_p50", "net_p95", "disk_p95"):
        x[f"log_{col}"] = np.log1p(feats[col].clip(lower=0))
    x["cpu_cv"] = feats["cpu_cv"]
    x["daily_cycle"] = feats["daily_cycle"]
    return x[MODEL_FEATURES].fillna(0.0).to_numpy()


def _rule_score(feats: pd.DataFrame, p: Idle) -> pd.Series:
    """0-1 closeness to the rule: 1 at zero activity, 0.5 at the thresholds, 0 at twice them."""
    cpu = (1 - feats["cpu_p95"] / (2 * p.cpu_mhz_p95)).clip(0, 1)
    net = (1 - feats["net_p95"] / (2 * max(p.net_kbps_p95, 1e-9))).clip(0, 1).fillna(1.0)
    return (np.minimum(cpu, net)).fillna(0.0)


def _per_vm(vms, feats, judged, has_net, widened, p: Idle) -> pd.DataFrame:
    f = feats

    def num(col: str, digits: int = 0) -> pd.Series:
        return f[col].round(digits).astype("string").fillna("?")

    evidence = ("CPU P95 " + num("cpu_p95") + " MHz (idle <= " + f"{p.cpu_mhz_p95:g}" + ")")
    net = ("network P95 " + num("net_p95", 1) + " KB/s (idle <= " + f"{p.net_kbps_p95:g}" + ")").where(
        has_net, "no network counter")
    evidence = evidence + "; " + net + "; daily cycle " + num("daily_cycle", 2) + "; burstiness (cv) " + num(
        "cpu_cv", 2)
    evidence = evidence.where(~widened, evidence + "; model: " + num("idle_score", 2)
                              + " typical of the idle VMs")
    evidence = evidence.where(judged, "too few CPU samples for a verdict (" + f["cpu_samples"].astype(
        "int64").astype("string") + f" < {p.min_samples})")
    ids = vms["vm_id"].astype("string").reset_index(drop=True)
    out = pd.DataFrame({
        "vm_id": ids,
        "idle": f["idle"].reindex(ids).fillna(False).astype("boolean").to_numpy(),
        "idle_score": f["idle_score"].reindex(ids).astype("float64").to_numpy(),
        "idle_rule": f["idle_rule"].reindex(ids).fillna(False).astype("boolean").to_numpy(),
        "idle_evidence": evidence.reindex(ids).fillna("no utilization samples: no verdict").to_numpy(),
    })
    return out.astype({"idle_evidence": "string"})
