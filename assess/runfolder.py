"""Run folders on disk: written whole or not at all, locked, owned, and pruned by recorded time.

A run is written into a hidden sibling (``.<name>.part-<pid>``) under an exclusive lock
(``.<name>.lock`` beside it, ``fcntl.flock``, removed by its holder); its ownership marker
:data:`MANIFEST` (the files written, their total size, the time recorded) is written last, and
the sibling is then swapped into place (``renameat2(RENAME_EXCHANGE)``, else two renames). A
killed run therefore leaves either the previous complete run or nothing at ``name``, never a
mixture, and the next writer clears the siblings it left; a folder without the marker is never
taken for a run (history, retention and :meth:`assess.run.Run.load` ignore or refuse it).

The tool deletes only what a manifest lists: overwriting a run folder or pruning old runs
refuses or skips anything else, and system folders are refused as output folders outright.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from assess import __version__
from assess.model import AssessError
from assess.model.store import atomic_write_text, fsync_tree

#: The ownership marker: present (and naming ``assess``) only in a complete run folder.
MANIFEST = ".assess-run.json"

_SYSTEM = ("/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/media", "/mnt", "/opt",
           "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib",
           "/usr/local", "/usr/share", "/var", "/var/lib", "/var/log")


def refuse_system_folder(path: Path, what: str = "output folder") -> None:
    """Raise :class:`AssessError` when ``path`` is a system folder or the home folder itself."""
    resolved = Path(os.path.abspath(Path(path).expanduser()))
    system = {Path(p) for p in _SYSTEM} | {Path.home()}
    if resolved in system or resolved.resolve() in system:
        raise AssessError(f"{path}: refusing a system folder as {what}; choose a folder of its own, "
                          f"e.g. {resolved / 'assess-runs'}")


def read_manifest(folder: Path) -> dict | None:
    """The ownership marker of ``folder``, or None when it is not a complete run folder."""
    try:
        data = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("tool") != "assess" or not isinstance(data.get("files"), list):
        return None
    return data


def foreign_files(folder: Path, manifest: dict | None) -> list[str]:
    """Files under ``folder`` (relative paths) that its manifest does not list."""
    owned = set(manifest["files"]) if manifest else set()
    owned.add(MANIFEST)
    return sorted(
        rel for rel in (str(p.relative_to(folder)) for p in Path(folder).rglob("*") if not p.is_dir())
        if rel not in owned
    )


class RunFolder:
    """A run folder being written: the staging sibling, under the run's lock, until :meth:`commit`."""

    def __init__(self, path: Path):
        self.path = Path(os.path.abspath(path))  # "." or "x/.." name their real folder
        self.staging = self.path.parent / f".{self.path.name}.part-{os.getpid()}"
        self.lock_path = self.path.parent / f".{self.path.name}.lock"
        self._lock_fd: int | None = None

    def open(self) -> RunFolder:
        """Check the target, take the lock, clear stale staging folders and create ours."""
        refuse_system_folder(self.path, "run folder")
        self._check_replaceable()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock(self.lock_path, self.path)
        for stale in self.path.parent.glob(f".{self.path.name}.*-*"):
            # ours, left by a killed run (we hold the lock): the staging or the previous run
            if stale.is_dir() and re.fullmatch(r"(part|old)-\d+", stale.name[len(self.path.name) + 2:]):
                shutil.rmtree(stale, ignore_errors=True)
        self.staging.mkdir()
        return self

    def _check_replaceable(self) -> None:
        """Refuse to replace a folder holding anything a run manifest does not list."""
        if not self.path.exists():
            return
        if not self.path.is_dir():
            raise AssessError(f"{self.path}: exists and is not a folder; choose another run folder")
        foreign = foreign_files(self.path, read_manifest(self.path))
        if foreign:
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise AssessError(f"{self.path}: holds files assess did not write ({shown}); "
                              "choose a new or empty run folder")

    def commit(self, recorded_at: str | None = None) -> dict:
        """Write the manifest last and rename the staging folder into place; return the manifest."""
        files = sorted(str(p.relative_to(self.staging)) for p in self.staging.rglob("*") if p.is_file())
        manifest = {
            "tool": "assess",
            "tool_version": __version__,
            "recorded_at": recorded_at or datetime.now(UTC).isoformat(),
            "files": files,
            "bytes": sum((self.staging / f).stat().st_size for f in files),
        }
        for written in (self.staging / "tables", self.staging):  # on disk before the marker says so
            if written.is_dir():
                fsync_tree(written)
        atomic_write_text(self.staging / MANIFEST, json.dumps(manifest, indent=1))
        self._check_replaceable()  # again: someone may have dropped a file in while we ran
        if self.path.exists() and _exchange(self.staging, self.path):
            shutil.rmtree(self.staging)  # now holds the previous run
        else:
            if self.path.exists():
                old = self.path.parent / f".{self.path.name}.old-{os.getpid()}"
                self.path.rename(old)
                self.staging.rename(self.path)
                shutil.rmtree(old)
            else:
                self.staging.rename(self.path)
        return manifest

    def close(self) -> None:
        """Drop the staging folder if it was not committed; remove the lock file and release it."""
        if self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)
        if self._lock_fd is not None:
            self.lock_path.unlink(missing_ok=True)  # a writer that opened it checks the inode and retries
            os.close(self._lock_fd)
            self._lock_fd = None


@contextmanager
def writing(path: Path) -> Iterator[RunFolder]:
    """Open ``path`` for writing as a :class:`RunFolder`; uncommitted work is discarded on exit."""
    folder = RunFolder(path)
    try:
        yield folder.open()
    finally:
        folder.close()


def _lock(lock_path: Path, run: Path) -> int:
    """Take the exclusive lock of the run folder ``run``; return its file descriptor.

    The lock file is removed when its holder closes, so after locking we check that the file
    we locked is still the one at ``lock_path`` (else another holder removed it: try again).
    """
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AssessError(f"{run}: run folder busy (another assess run is writing it); "
                              "try again when it has finished") from None
        try:
            if os.stat(lock_path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    if ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise AssessError(f"{b}: cannot replace the run folder: {os.strerror(ctypes.get_errno())}")


def owned_runs(folder: Path) -> list[tuple[Path, dict]]:
    """Complete run folders directly under ``folder`` with their manifests, oldest recorded first."""
    runs = []
    for path in Path(folder).iterdir() if Path(folder).is_dir() else []:
        visible = path.is_dir() and not path.is_symlink() and not path.name.startswith(".")
        manifest = read_manifest(path) if visible else None
        if manifest is not None:
            runs.append((path, manifest))
    return sorted(runs, key=lambda r: (str(r[1].get("recorded_at", "")), r[0].name))


def prune_runs(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` runs under ``folder`` (by recorded time); return them.

    Only complete run folders the tool wrote are considered, and in each only the files its
    manifest lists are deleted: a folder that also holds other files keeps them (and stays).
    """
    refuse_system_folder(folder)
    runs = owned_runs(folder)
    doomed = runs[: max(len(runs) - keep, 0)]
    for path, manifest in doomed:
        root = path.resolve()
        (path / MANIFEST).unlink()  # first: from here on it is no longer a complete run
        for rel in manifest["files"]:
            target = path / rel
            if target.is_file() and not target.is_symlink() and root in target.resolve().parents:
                target.unlink()
        for sub in sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            _rmdir_if_empty(sub)
        _rmdir_if_empty(path)
    return [path for path, _ in doomed]


def _rmdir_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass
