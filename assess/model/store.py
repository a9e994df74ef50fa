"""Writing folders safely: one writer at a time (an fcntl lock per folder) and atomic replacement.

A process killed at any instant (``kill -9``, out of memory, power cut after the fsync) leaves
either the old file or the new one, never a mix: new content goes to a temporary sibling, is
flushed to disk, and takes the old name with one ``rename``. Two processes writing the same
folder take turns: the second waits for the lock up to a limit, then stops with "busy".
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assess.model.errors import AssessError

#: Name of the lock file inside a locked folder (kept: deleting it would let two writers in).
LOCK_NAME = ".lock"
#: Environment variable: seconds a writer waits for a busy folder before giving up.
WAIT_ENV = "ASSESS_LOCK_WAIT"
#: Default wait for a busy folder: long enough for another import of a large estate to finish.
DEFAULT_WAIT_S = 60.0
_POLL_S = 0.05


def lock_wait_s() -> float:
    """Seconds to wait for a busy folder: ``$ASSESS_LOCK_WAIT`` or :data:`DEFAULT_WAIT_S`."""
    text = os.environ.get(WAIT_ENV, "")
    try:
        return max(float(text), 0.0) if text else DEFAULT_WAIT_S
    except ValueError as exc:
        raise AssessError(f"env {WAIT_ENV}='{text}' is not a number of seconds") from exc


@contextmanager
def folder_lock(folder: str | Path, *, exclusive: bool = True, what: str = "folder",
                wait_s: float | None = None, name: str = LOCK_NAME) -> Iterator[None]:
    """Hold the lock of ``folder`` (the file ``name`` in it): exclusive for a writer, shared for a reader.

    A writer creates the folder. A reader of a folder it cannot write (a read-only copy)
    reads without the lock: nothing can be writing there. The lock is released when the
    block ends or the process dies (the kernel drops fcntl locks of a dead process).

    Raises:
        AssessError: "<folder>: <what> busy" when another process holds the lock for longer
            than ``wait_s`` seconds (default :func:`lock_wait_s`).
    """
    folder = Path(folder)
    if exclusive:
        folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if exclusive or exc.errno not in (errno.EACCES, errno.EROFS, errno.EPERM, errno.ENOENT):
            raise AssessError(f"{folder}: cannot lock the {what} ({exc.strerror})") from exc
        yield
        return
    try:
        _acquire(fd, exclusive, lock_wait_s() if wait_s is None else wait_s, folder, what)
        yield
    finally:
        os.close(fd)


def _acquire(fd: int, exclusive: bool, wait_s: float, folder: Path, what: str) -> None:
    mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, mode)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise AssessError(
                    f"{folder}: {what} busy: another assess process is using it (waited "
                    f"{wait_s:g} s; set {WAIT_ENV} to wait longer, or retry when it has finished)"
                ) from None
            time.sleep(_POLL_S)


def fsync_path(path: Path) -> None:
    """Flush a file or folder to disk, so that a rename after it never points at lost data."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Flush every file directly in ``folder``, then the folder itself."""
    for child in folder.iterdir():
        if child.is_file():
            fsync_path(child)
    fsync_path(folder)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step: readers see the old file or the new one."""
    path = Path(path)
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(temp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    fsync_path(path.parent)
