"""The executor's local store in the run folder: wave outcomes, pauses, and the JSON-lines event log.

The cluster (labels, status) is the source of truth; this store remembers what the executor
decided (a wave passed its gate, a wave or VM is paused) so a re-run after a crash skips work
that is done, and the event log is the audit trail of everything it saw and did.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path


def now() -> str:
    """UTC timestamp in ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class ExecutionStore:
    """``RUN/execute/state.json`` (rewritten atomically) and ``RUN/execute/events.jsonl`` (appended)."""

    def __init__(self, run_folder: Path, plan_id: str, backend: str):
        self.folder = Path(run_folder) / "execute"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "state.json"
        self.log_path = self.folder / "events.jsonl"
        self._lock = threading.Lock()
        self.state = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self.state.setdefault("plan_id", plan_id)
        self.state.setdefault("backend", backend)
        self.state.setdefault("waves", {})
        self.state.setdefault("paused", {"waves": [], "vms": []})
        self.state.setdefault("canceled", {"waves": [], "vms": []})

    def wave(self, wave: int) -> dict:
        """The record of one wave (``status``: started, succeeded, failed, passed_with_failures)."""
        return self.state["waves"].setdefault(str(wave), {})

    def set_wave(self, number: int, **fields) -> None:
        """Update one wave's record and save."""
        self.wave(number).update(fields)
        self.save()

    def mark(self, what: str, scope: str, key: str, on: bool = True) -> None:
        """Add or remove ``key`` (a wave number or VM) in ``paused``/``canceled`` ``waves``/``vms``."""
        items = self.state[what][scope]
        if on and key not in items:
            items.append(key)
        elif not on and key in items:
            items.remove(key)
        self.save()

    def is_marked(self, what: str, scope: str, key: str) -> bool:
        """Whether ``key`` is in ``what``/``scope`` (e.g. paused waves)."""
        return key in self.state[what][scope]

    def save(self) -> None:
        """Write state.json atomically (a crash never leaves half a file)."""
        with self._lock:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.state, indent=2, sort_keys=True))
            os.replace(tmp, self.path)

    def log(self, what: str, **fields) -> dict:
        """Append one event (``what`` happened, with ``fields``) to events.jsonl and return it."""
        record = {"time": now(), "event": what, **fields}
        with self._lock, self.log_path.open("a") as fh:
            fh.write(json.dumps(record, default=str) + "\n")
        return record
