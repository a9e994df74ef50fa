"""The manifests as a GitOps tree for Argo CD or Flux: one kustomization per wave and one on top.

File names are stable (``<kind>-<name>.yaml``) and written sorted, so a re-plan gives a
readable diff.
"""

from __future__ import annotations

from pathlib import Path

import yaml


def file_name(obj: dict) -> str:
    """Stable file name of one object."""
    return f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def write_tree(manifests: dict[str, list[dict]], out: Path) -> list[Path]:
    """Write ``manifests`` (as from :func:`build_manifests`) under ``out``; return files written.

    Folders left from an earlier plan that are no longer part of it are emptied of our files,
    so the tree always matches the plan.
    """
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for group, objects in sorted(manifests.items()):
        folder = out / group
        folder.mkdir(exist_ok=True)
        for stale in folder.glob("*.yaml"):
            stale.unlink()
        names = []
        for obj in objects:
            path = folder / file_name(obj)
            path.write_text(yaml.safe_dump(obj, sort_keys=False))
            names.append(path.name)
            written.append(path)
        written.append(_kustomization(folder, names))
    for old in out.iterdir():
        if old.is_dir() and old.name not in manifests:
            for stale in old.glob("*.yaml"):
                stale.unlink()
            old.rmdir()
    written.append(_kustomization(out, list(manifests)))
    return written


def _kustomization(folder: Path, resources: list[str]) -> Path:
    """Write ``folder/kustomization.yaml`` listing ``resources`` sorted; return its path."""
    body = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": sorted(resources)}
    path = folder / "kustomization.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path
