"""Which input files an estate was read from, by content: so importing the same file twice is one source.

Each provenance entry that names a ``path`` gets the SHA-256 of what was read (a folder of
RVTools CSV files: of its files in name order). Two entries of the same kind and digest are the
same input, whatever their paths or import times: the later one is dropped and the rows that
cite it cite the first.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from assess.model.estate import Estate

_CHUNK = 1 << 20


def content_digest(path: str | Path) -> str | None:
    """SHA-256 of a file, or of a folder's files in name order; None when the path is gone."""
    path = Path(path)
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    if not all(p.is_file() for p in files):
        return None
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() if path.is_dir() else b"")
        with file.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def with_digests(estate: Estate) -> Estate:
    """``estate`` with ``sha256`` in each provenance entry that names a readable ``path``."""
    provenance = []
    for entry in estate.provenance:
        if "path" in entry and "sha256" not in entry:
            digest = content_digest(entry["path"])
            entry = {**entry, "sha256": digest} if digest else entry
        provenance.append(entry)
    return Estate(estate.tables, provenance, estate.utilization_files)


def without_repeated_sources(estate: Estate) -> Estate:
    """``estate`` with each input recorded once: a later entry of the same kind and digest is dropped.

    Rows whose ``source`` names a dropped entry are given the first entry's id, so every source
    column still resolves.
    """
    first: dict[tuple[str, str], str] = {}
    renames: dict[str, str] = {}
    provenance = []
    for entry in estate.provenance:
        key = (entry["kind"], entry.get("sha256"))
        if key[1] is not None and key in first:
            renames[entry["id"]] = first[key]
            continue
        if key[1] is not None:
            first[key] = entry["id"]
        provenance.append(entry)
    if not renames:
        return estate
    tables = {name: frame.assign(source=frame["source"].replace(renames)) if "source" in frame else frame
              for name, frame in estate.tables.items()}
    return Estate(tables, provenance, estate.utilization_files)
