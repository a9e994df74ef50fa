"""The embedded history store (DuckDB, one file, no server): every run and its snapshot.

Only the provenance of inputs goes in (file paths, server names, versions), never credentials:
collectors keep secrets out of the provenance, and :func:`record_run` refuses keys that look
like secrets as a second line of defence.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pandas as pd

from assess.model import AssessError

SNAPSHOT_TABLES = ("vm_state", "dependencies", "figures")
_SECRET_KEY = re.compile(r"pass|secret|token|credential", re.I)


class RunStore:
    """A DuckDB file holding ``runs`` and one table per snapshot part, keyed by ``run_id``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise AssessError(f"{self.path}: cannot open the history store: {exc}") from exc
        con.execute(
            "CREATE TABLE IF NOT EXISTS runs (run_id VARCHAR PRIMARY KEY, recorded_at TIMESTAMPTZ,"
            " run_folder VARCHAR, inputs JSON, summary JSON)"
        )
        return con

    def record_run(self, run_id: str, summary: dict, tables: dict[str, pd.DataFrame]) -> None:
        """Store one run's summary, input provenance and snapshot tables."""
        _refuse_secrets(summary.get("inputs", []))
        with self._connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, now(), ?, ?, ?)",
                [
                    run_id,
                    summary.get("run_folder", ""),
                    json.dumps(summary.get("inputs", []), default=str),
                    json.dumps(summary, default=str),
                ],
            )
            for name in SNAPSHOT_TABLES:
                frame = tables[name].assign(run_id=run_id)
                con.register("incoming", frame)
                con.execute(f"CREATE TABLE IF NOT EXISTS {name} AS SELECT * FROM incoming LIMIT 0")
                con.execute(f"DELETE FROM {name} WHERE run_id = ?", [run_id])
                con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM incoming")
                con.unregister("incoming")

    def runs(self) -> pd.DataFrame:
        """All recorded runs, oldest first: ``run_id, recorded_at, run_folder``."""
        with self._connect() as con:
            return con.execute(
                "SELECT run_id, recorded_at, run_folder FROM runs ORDER BY recorded_at, run_id"
            ).df()

    def snapshot(self, run_id: str) -> dict[str, pd.DataFrame]:
        """The snapshot tables of one run."""
        with self._connect() as con:
            if not con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [run_id]).fetchone()[0]:
                raise AssessError(f"{self.path}: no run '{run_id}' in the history store")
            out = {}
            for name in SNAPSHOT_TABLES:
                frame = con.execute(f"SELECT * EXCLUDE (run_id) FROM {name} WHERE run_id = ?", [run_id]).df()
                out[name] = frame.convert_dtypes(dtype_backend="numpy_nullable")
            return out

    def previous_run(self, run_id: str) -> str | None:
        """The run recorded just before ``run_id``, or None for the first."""
        ids = self.runs()["run_id"].tolist()
        if run_id not in ids:
            raise AssessError(f"{self.path}: no run '{run_id}' in the history store")
        index = ids.index(run_id)
        return ids[index - 1] if index else None


def _refuse_secrets(inputs: list[dict]) -> None:
    for source in inputs:
        for key in source:
            if _SECRET_KEY.search(str(key)):
                raise AssessError(f"input provenance key '{key}' looks like a credential; not stored")
