"""Kill a writer (SIGKILL) at the k-th step it takes on the file system.

The steps are the calls a save makes: each Parquet write, fsync, rename, hard link, folder
creation and removal, counted before and after the call. The writer runs in a forked child
of the test process (a real process, killed for real, without the start-up of a new
interpreter per step); ``k = 0`` never kills and returns the number of steps seen.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import pandas as pd

HOOKED = [(pd.DataFrame, "to_parquet"), (os, "fsync"), (os, "replace"), (os, "link"),
          (shutil, "rmtree"), (Path, "mkdir")]


def _install(kill_at: int, steps: list[int]) -> None:
    def step() -> None:
        steps[0] += 1
        if steps[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def hooked(owner, name):
        original = getattr(owner, name)

        def call(*args, **kwargs):
            step()
            result = original(*args, **kwargs)
            step()
            return result

        setattr(owner, name, call)

    for owner, name in HOOKED:
        hooked(owner, name)


def run_killed(write: Callable[[], object], kill_at: int) -> tuple[int, int]:
    """Run ``write()`` in a forked child killed at step ``kill_at``; (signal or exit code, steps)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(read_end)
            steps = [0]
            _install(kill_at, steps)
            write()
            os.write(write_end, str(steps[0]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        steps = int(pipe.read() or 0)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status), steps
    return os.WEXITSTATUS(status), steps
