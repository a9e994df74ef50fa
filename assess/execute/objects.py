"""Small helpers for manifests as plain data: labels, references, DNS-1123 names, None-pruning."""

from __future__ import annotations

import hashlib
import re

LABEL_PREFIX = "assess.io"
PLAN_LABEL = f"{LABEL_PREFIX}/plan"
WAVE_LABEL = f"{LABEL_PREFIX}/wave"
VM_LABEL = f"{LABEL_PREFIX}/source-vm"

_INVALID = re.compile(r"[^a-z0-9-]+")
LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
HASH_LENGTH = 5


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:HASH_LENGTH]


def dns1123(name: str, max_length: int = 63) -> str:
    """``name`` as a DNS-1123 label: lowercase, runs of other characters to '-', trimmed.

    A name that changes gets a short hash suffix of the original, so two VM names that
    collapse to the same label (``Web_01`` and ``web.01``) stay distinct.
    """
    label = _INVALID.sub("-", name.lower()).strip("-") or "vm"
    if label == name and len(label) <= max_length:
        return label
    return f"{label[: max_length - HASH_LENGTH - 1].rstrip('-')}-{_digest(name)}"


def child_name(parent: str, suffix: str, max_length: int = 63) -> str:
    """``<parent>-<suffix>`` as a DNS-1123 label, unique per (parent, suffix).

    When it would be too long, ``parent`` is cut and a hash of the whole parent name inserted
    (``<cut parent>-<hash>-<suffix>``): a 60-character VM with three disks gets three distinct,
    valid DataVolume names, never three copies of one cut name or one ending in '-'.

    >>> child_name("web01", "disk0")
    'web01-disk0'
    >>> len(child_name("a" * 62, "disk1")), child_name("a" * 62, "disk1")[-6:]
    (63, '-disk1')
    """
    whole = f"{parent}-{suffix}"
    if len(whole) <= max_length:
        return whole
    keep = max_length - len(suffix) - HASH_LENGTH - 2
    return f"{parent[:keep].rstrip('-')}-{_digest(parent)}-{suffix}"


def unique_names(names: list[str], keys: list[str]) -> list[str]:
    """``names`` with every name that occurs more than once made distinct by a hash of its key.

    Two VMs whose target names collide (``Web_01`` and ``web-01`` from readiness) get
    ``web-01-<hash of vm_id>`` each, so no object of one kind and namespace overwrites another.
    """
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    return [child_name(n, _digest(k)) if seen[n] > 1 else n for n, k in zip(names, keys)]


def name_problem(value: str, what: str, subdomain: bool = False) -> str | None:
    """One line saying why ``value`` cannot be a Kubernetes name, or None when it can."""
    pattern, kind = (SUBDOMAIN, "DNS-1123 subdomain") if subdomain else (LABEL, "DNS-1123 label")
    if pattern.match(value):
        return None
    return (
        f"{what} {value!r} is not a valid {kind} (lowercase letters, digits and '-'"
        f"{', dots between parts' if subdomain else ''}; starts and ends alphanumeric; "
        f"at most {253 if subdomain else 63} characters)"
    )


def prune(obj):
    """Drop ``None`` values (and empty dicts they leave) recursively, as kr8s-style objects do."""
    if isinstance(obj, dict):
        out = {k: prune(v) for k, v in obj.items() if v is not None}
        return {k: v for k, v in out.items() if v != {} or k in _KEEP_EMPTY}
    if isinstance(obj, list):
        return [prune(v) for v in obj]
    return obj


#: Keys whose empty object is meaningful in KubeVirt (``disk: {}``, ``masquerade: {}``, ``pod: {}``).
_KEEP_EMPTY = {"disk", "masquerade", "pod", "bridge", "tpm", "efi", "smm", "cdrom"}


def labels(plan_id: str, wave: int | str | None = None, moref: str | None = None) -> dict[str, str]:
    """The labels every generated object carries: plan, wave and source VM where they apply."""
    out = {PLAN_LABEL: plan_id}
    if wave is not None:
        out[WAVE_LABEL] = str(wave)
    if moref:
        out[VM_LABEL] = moref
    return out


def meta(name: str, namespace: str | None, object_labels: dict[str, str]) -> dict:
    """``metadata`` with name, namespace and labels."""
    return prune({"name": name, "namespace": namespace, "labels": dict(object_labels)})


def ref(name: str, namespace: str | None = None) -> dict:
    """An object reference by name (and namespace)."""
    return prune({"name": name, "namespace": namespace})
