"""What every rule works with: the rule record, the context of one estate, and finding builders.

A rule is a pure function ``check(ctx) -> DataFrame`` returning one row per VM it fires on, with
columns ``vm_id``, ``status`` (``fired``) and ``detail``, declared with its metadata right above
it by :func:`declare` (id, category, label, assessment, remediation, needs), as Forklift keeps a
rule and its concern together. Rules use column operations and group-bys only, never a Python
loop per VM.

A rule never decides that it could not be evaluated: it declares the data it ``needs`` and the
engine (:meth:`Context.unmet`, used by :func:`assess.readiness.catalogue.evaluate`) answers
``unknown`` for every VM where one of them is absent from the VM's source or null, and drops
whatever the check fired on for that VM. Absent data therefore never fires a rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

import numpy as np
import pandas as pd

from assess.model import Estate, derived
from assess.readiness import evidence, guestos, naming
from assess.readiness.params import ReadinessParams

FINDING_COLUMNS = ["vm_id", "status", "detail"]
CATEGORIES = ("Critical", "Warning", "Information")
NOT_IN_SOURCE = "not in this source"
NOT_FOR_VM = "not reported for this VM"
#: Tables every migratable VM has rows in: a VM without rows there is not "clean" but unknown.
ROWS_REQUIRED = frozenset({"disks", "partitions"})


@dataclass(frozen=True)
class Rule:
    """One catalogue entry: stable id, category, texts, the data it reads, and its check.

    Attributes:
        id: stable dotted id, e.g. ``vmware.disk.rdm.detected``.
        category: ``Critical`` (blocks migration), ``Warning`` (needs attention) or
            ``Information``.
        label: short title.
        assessment: why it matters on KubeVirt.
        remediation: what to do about it.
        needs: data keys the check cannot do without (see :mod:`assess.readiness.evidence`):
            ``table`` (the source lists the table; for :data:`ROWS_REQUIRED` tables the VM has
            rows), ``table.column`` (the source has the column and, for ``vms`` and
            :data:`ROWS_REQUIRED` tables, the VM's value is not null), ``devices.<kind>`` (the
            source can list that device kind); ``a|b`` is met when either is.
        check: the function computing the fired findings.
        excludes: a fired finding excludes the VM from migration (verdict ``excluded``).
        blank_ok: needs whose null value is itself the fact the rule reports (e.g. an empty
            host name): only their absence from the source makes the rule unknown.
    """

    id: str
    category: str
    label: str
    assessment: str
    remediation: str
    needs: tuple[str, ...]
    check: Callable[[Context], pd.DataFrame]
    excludes: bool = False
    blank_ok: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"rule {self.id}: category {self.category!r} is not one of {CATEGORIES}")
        if not isinstance(self.needs, tuple) or not all(isinstance(n, str) for n in self.needs):
            raise ValueError(f"rule {self.id}: needs must be a tuple of data keys, got {self.needs!r}")
        if not set(self.blank_ok) <= set(self.needs):
            raise ValueError(f"rule {self.id}: blank_ok {self.blank_ok} not among its needs")


@dataclass
class Context:
    """An estate prepared for the rules: tables, parameters and facts several rules share."""

    estate: Estate
    params: ReadinessParams = field(default_factory=ReadinessParams)

    @property
    def vms(self) -> pd.DataFrame:
        """The ``vms`` table."""
        return self.estate["vms"]

    def table(self, name: str) -> pd.DataFrame:
        """Canonical table ``name`` restricted to rows of known VMs."""
        frame = self.estate[name]
        if "vm_id" not in frame:
            return frame
        return frame[frame["vm_id"].astype(object).isin(self._vm_set)]

    @cached_property
    def vm_index(self) -> pd.Index:
        """VM ids in table order (object dtype: fast hashing in ``isin``)."""
        return pd.Index(self.vms["vm_id"].astype(object), name="vm_id")

    @cached_property
    def _vm_set(self) -> set:
        return set(self.vm_index)

    @cached_property
    def os(self) -> pd.DataFrame:
        """Guest OS classification per VM (see :func:`assess.readiness.guestos.classify`)."""
        return guestos.classify(self.vms, self.as_of.date())

    @cached_property
    def facts(self) -> pd.DataFrame:
        """Derived VM facts: disk size and its source, OS family (see :mod:`assess.model.derived`)."""
        return derived.vm_facts(self.estate).set_axis(self.vm_index)

    @cached_property
    def target_names(self) -> pd.Series:
        """DNS-1123 name per VM (index ``vm_id``), de-duplicated in ``vm_id`` order."""
        names = self.vm_column("name")
        return naming.target_names(names, pd.Series(self.vm_index, index=names.index))

    @cached_property
    def gaps(self) -> dict[str, set[str]]:
        """Data keys each source lacks (see :func:`assess.readiness.evidence.source_gaps`)."""
        return evidence.source_gaps(self.estate)

    def lacking(self, key: str) -> pd.Series:
        """Per VM: True where fact ``key`` is absent from the VM's source."""
        return evidence.lacking(self.estate, key, self.gaps)

    def known(self, key: str, blank_ok: bool = False) -> pd.Series:
        """Per VM: True where data key ``key`` (one alternative of a need) is available."""
        table, _, column = key.partition(".")
        known = ~self.lacking(key)
        if table == "vms" and column and not blank_ok:
            known &= self.vm_column(column).notna()
        elif table in ROWS_REQUIRED and not blank_ok:
            rows = self.table(table)
            if column:
                rows = rows[rows[column].notna()]
            known &= self.vm_index.isin(set(rows["vm_id"]))
        return known

    def unmet(self, rule: Rule) -> pd.Series:
        """Per VM: the needs of ``rule`` that are not met, joined by '; ' ('' when all are).

        Each reads "<need> not in this source" (the source cannot hold it) or "<need> not
        reported for this VM" (the source holds it, but not for this VM).
        """
        text = pd.Series("", index=self.vm_index, dtype=object)
        for need in rule.needs:
            met = pd.Series(False, index=self.vm_index)
            in_source = pd.Series(False, index=self.vm_index)
            for key in need.split("|"):
                met |= self.known(key, blank_ok=need in rule.blank_ok)
                in_source |= ~self.lacking(key)
            name = need.replace("|", " or ")
            why = np.where(in_source.to_numpy(), f"{name} {NOT_FOR_VM}; ", f"{name} {NOT_IN_SOURCE}; ")
            text = text + np.where(met.to_numpy(), "", why)
        return text.str.removesuffix("; ")

    def vm_column(self, name: str) -> pd.Series:
        """Column ``name`` of ``vms`` indexed by ``vm_id``."""
        return self.vms[name].set_axis(self.vm_index)

    def without_rows(self, table: str) -> pd.Series:
        """Per VM: True where ``table`` holds no row for the VM."""
        return pd.Series(~self.vm_index.isin(set(self.table(table)["vm_id"])), index=self.vm_index)

    @cached_property
    def as_of(self) -> pd.Timestamp:
        """Reference time: the parameter, else the newest source ``read_at``, else now."""
        if self.params.as_of is not None:
            stamp = pd.Timestamp(self.params.as_of)
            return stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
        stamps = [pd.Timestamp(p["read_at"]) for p in self.estate.provenance if p.get("read_at")]
        stamps = [s.tz_localize(UTC) if s.tzinfo is None else s.tz_convert(UTC) for s in stamps]
        return max(stamps) if stamps else pd.Timestamp(datetime.now(UTC))


def declare(rule_id: str, category: str, label: str, assessment: str, remediation: str,
            needs: tuple[str, ...], *, excludes: bool = False, blank_ok: tuple[str, ...] = ()):
    """Decorator: the check below is catalogue rule ``rule_id``; its metadata sits above it.

    The function gets a ``rule`` attribute (a :class:`Rule`); :func:`declared` collects them.
    """
    def wrap(check: Callable[[Context], pd.DataFrame]) -> Callable[[Context], pd.DataFrame]:
        check.rule = Rule(rule_id, category, label, assessment, remediation, needs, check,
                          excludes=excludes, blank_ok=blank_ok)
        return check
    return wrap


def declared(namespace: dict) -> list[Rule]:
    """The rules declared in a module's namespace (``globals()``), in definition order."""
    return [value.rule for value in namespace.values() if isinstance(getattr(value, "rule", None), Rule)]


def findings(vm_ids, detail, status: str = "fired") -> pd.DataFrame:
    """A findings frame for ``vm_ids`` with per-VM ``detail`` (a string or aligned sequence)."""
    ids = np.asarray(vm_ids, dtype=object)
    details = np.full(len(ids), detail, dtype=object) if isinstance(detail, str) else np.asarray(
        detail, dtype=object
    )
    return pd.DataFrame({"vm_id": ids, "status": status, "detail": details}, columns=FINDING_COLUMNS)


def from_mask(mask: pd.Series, detail, status: str = "fired") -> pd.DataFrame:
    """Findings for VMs where boolean ``mask`` (index ``vm_id``) is True.

    ``detail`` is a string or a Series indexed by ``vm_id``.
    """
    mask = mask.fillna(False).astype(bool)
    ids = mask.index[mask.to_numpy()]
    text = detail if isinstance(detail, str) else detail.reindex(ids).fillna("").to_numpy()
    return findings(ids, text, status)


def combine(*frames: pd.DataFrame) -> pd.DataFrame:
    """Concatenate findings; a VM fired by one part is not also reported unknown by another."""
    parts = [f for f in frames if len(f)]
    if not parts:
        return findings([], [])
    out = pd.concat(parts, ignore_index=True)
    fired = set(out.loc[out["status"] == "fired", "vm_id"])
    out = out[(out["status"] == "fired") | ~out["vm_id"].astype(object).isin(fired)]
    return out.drop_duplicates(["vm_id", "status"]).reset_index(drop=True)


def join_groups(keys: pd.Series, values: pd.Series, sep: str = ", ") -> pd.Series:
    """Per distinct key (first-appearance order): its values joined by ``sep``, in row order.

    One ``str.join`` per group over the rows sorted by key: linear in the text (a running
    concatenation would copy a group's text once per member, quadratic for a rule that fires on
    100,000 VMs).
    """
    if len(keys) == 0:
        return pd.Series(dtype="str")
    codes, uniques = pd.factorize(keys.to_numpy(dtype=object))
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    pieces = values.to_numpy(dtype=object)[order].tolist()
    ends = [*starts[1:].tolist(), len(pieces)]
    text = [sep.join(pieces[a:b]) for a, b in zip(starts.tolist(), ends)]
    return pd.Series(text, index=pd.Index(uniques[sorted_codes[starts]], dtype=object), dtype="str")


def joined(frame: pd.DataFrame, column: str, by: str = "vm_id", limit: int = 10) -> pd.Series:
    """Per ``by`` value: up to ``limit`` distinct values of ``column`` joined by ', '."""
    if frame.empty:
        return pd.Series(dtype="str")
    values = pd.DataFrame({"k": frame[by].astype(object), "v": frame[column].astype(object)})
    values = values[values["v"].notna()].astype({"v": str}).drop_duplicates()
    rank = values.groupby("k", sort=False).cumcount()
    total = values.groupby("k", sort=False)["v"].size()
    kept = values[rank < limit]
    text = join_groups(kept["k"], kept["v"])
    more = (total - limit).reindex(text.index)
    text = text + np.where(more > 0, " (+" + more.astype(str) + " more)", "")
    return text.rename_axis(by).astype("str")


def truthy(series: pd.Series) -> pd.Series:
    """Boolean column with nulls as False."""
    return series.fillna(False).astype(bool)


def text(series: pd.Series) -> pd.Series:
    """String column with nulls as '' and surrounding blanks removed."""
    return series.fillna("").astype(str).str.strip()
