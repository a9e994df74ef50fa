"""Small helpers for manifests as plain data: labels, references, DNS-1123 names, None-pruning."""

from __future__ import annotations

import hashlib
import re

LABEL_PREFIX = "assess.io"
PLAN_LABEL = f"{LABEL_PREFIX}/plan"
WAVE_LABEL = f"{LABEL_PREFIX}/wave"
VM_LABEL = f"{LABEL_PREFIX}/source-vm"

_INVALID = re.compile(r"[^a-z0-9-]+")


def dns1123(name: str, max_length: int = 63) -> str:
    """``name`` as a DNS-1123 label: lowercase, runs of other characters to '-', trimmed.

    A name that changes gets a short hash suffix of the original, so two VM names that
    collapse to the same label (``Web_01`` and ``web.01``) stay distinct.
    """
    label = _INVALID.sub("-", name.lower()).strip("-") or "vm"
    if label == name and len(label) <= max_length:
        return label
    digest = hashlib.sha1(name.encode()).hexdigest()[:5]
    return f"{label[: max_length - 6].rstrip('-')}-{digest}"


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
