"""The manifests as a GitOps tree for Argo CD or Flux: one kustomization per wave, released one at a time.

File names are stable (``<kind>-<name>.yaml``) and written sorted, so a re-plan gives a
readable diff. The root ``kustomization.yaml`` lists ``shared`` and only the *released* waves:
``kubectl apply -k`` or a GitOps sync starts those Plans and no later one. A wave is released
by writing the tree again with it selected (``--wave N``); a re-write without a selection keeps
what the tree had released (the first wave on a new tree).

The tree records the files it wrote in ``.assess-gitops.json``; a re-write deletes only
files listed there (and folders it made that end up empty), never a file someone else put in
the folder. A file of ours that would overwrite a foreign one is refused. Each file is written
to a temporary name and renamed, under a lock on the folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from assess.model import AssessError
from assess.model.store import folder_lock

OWNED = ".assess-gitops.json"
LOCK = ".assess-gitops.lock"


def file_name(obj: dict) -> str:
    """Stable file name of one object."""
    return f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def _owned(out: Path) -> dict:
    path = out / OWNED
    if not path.is_file():
        return {"files": [], "released": []}
    try:
        record = json.loads(path.read_text())
        return {"files": list(record["files"]), "released": list(record["released"])}
    except (ValueError, KeyError, TypeError) as exc:
        raise AssessError(f"{path}: unreadable ownership record ({exc}); move the folder aside") from exc


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def released_waves(groups: list[str], before: list[str], wanted: list[int] | None) -> list[str]:
    """The wave groups the root lists: those ``wanted`` (and every earlier one), else as before.

    >>> released_waves(["shared", "wave-01", "wave-02", "wave-03"], [], None)
    ['wave-01']
    >>> released_waves(["shared", "wave-01", "wave-02", "wave-03"], ["wave-01"], [2])
    ['wave-01', 'wave-02']
    >>> released_waves(["shared", "wave-99", "wave-100"], [], [100])
    ['wave-99', 'wave-100']
    """
    numbers = sorted(int(g.split("-")[1]) for g in groups if g.startswith("wave-"))
    waves = [f"wave-{w:02d}" for w in numbers]
    if wanted:
        unknown = sorted(set(wanted) - set(numbers))
        if unknown:
            raise AssessError(f"--wave {unknown[0]}: not a wave of the plan (it has waves {numbers})")
        return [f"wave-{w:02d}" for w in numbers if w <= max(wanted)]
    kept = [w for w in waves if w in before]
    return kept or waves[:1]


def _plan(manifests: dict[str, list[dict]]) -> dict[str, str]:
    """Relative path -> YAML text of every object file."""
    files = {}
    for group, objects in sorted(manifests.items()):
        for obj in objects:
            files[f"{group}/{file_name(obj)}"] = yaml.safe_dump(obj, sort_keys=False)
        names = sorted(file_name(o) for o in objects)
        files[f"{group}/kustomization.yaml"] = _kustomization(names)
    return files


def write_tree(manifests: dict[str, list[dict]], out: Path, waves: list[int] | None = None) -> list[Path]:
    """Write ``manifests`` (as from :func:`build_manifests`) under ``out``; return the files written.

    ``waves`` releases those waves (and the earlier ones) into the root kustomization.
    Raises AssessError when ``out`` is a file, or a file to write exists and is not ours.
    """
    if out.exists() and not out.is_dir():
        raise AssessError(f"{out}: exists and is not a folder; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    with folder_lock(out, what="GitOps tree", name=LOCK):
        record = _owned(out)
        files = _plan(manifests)
        released = released_waves(list(manifests), record["released"], waves)
        files["kustomization.yaml"] = _kustomization([g for g in ["shared", *released] if g in manifests])
        foreign = sorted(p for p in files if (out / p).exists() and p not in record["files"])
        if foreign:
            raise AssessError(
                f"{out}: would overwrite {len(foreign)} file(s) assess did not write "
                f"({', '.join(foreign[:3])}); move them or choose another --out"
            )
        written = []
        for rel, text in files.items():
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            _write(path, text)
            written.append(path)
        for rel in sorted(set(record["files"]) - set(files)):
            (out / rel).unlink(missing_ok=True)
            folder = (out / rel).parent
            if folder != out and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        _write(out / OWNED, json.dumps({"files": sorted(files), "released": released}, indent=1))
    return written


def _kustomization(resources: list[str]) -> str:
    body = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(resources),
    }
    return yaml.safe_dump(body, sort_keys=False)
