"""A run: the estate it assessed, each stage's result and figures, and its folder on disk.

:class:`Run` is the only code that knows the run-folder layout; the pipeline, the executor, the
history and the report go through it. A run folder holds:

- ``index.html``: the report; ``vms.csv``/``vms.xlsx`` and ``waves.csv``/``waves.xlsx``: exports.
- ``summary.json``: tool version, inputs, counts, each stage's figures and the parameters it
  used (defaults included), the tables each stage wrote, the warning count.
- ``tables/<name>.parquet``: every estate table (:data:`~assess.model.schema.TABLES`, warnings of
  the stages included) and every result table (:data:`~assess.model.schema.RESULT_TABLES`),
  conformed on write and on read; ``changes`` for scheduled runs with a previous run.
- ``.assess-run.json``: the ownership marker, written last (see :mod:`assess.runfolder`): a
  folder without it is an interrupted or foreign folder and is never read as a run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from assess import __version__
from assess.model import AssessError, Estate, conform
from assess.model.estate import UTILIZATION_IN_MEMORY_MAX_ROWS, write_utilization
from assess.model.estate import _rows as parquet_rows
from assess.model.results import StageResult, result_table
from assess.model.schema import TABLES
from assess.runfolder import MANIFEST, RunFolder, read_manifest, writing

SUMMARY = "summary.json"
REPORT = "index.html"


@dataclass
class Run:
    """An assessment run in memory: estate, stage results (in stage order), changes, summary.

    Attributes:
        estate: the estate as imported (its ``warnings`` are the import's).
        results: each stage's :class:`~assess.model.results.StageResult`, by stage name.
        changes: what changed since the previous scheduled run (``changes`` table), if any.
        summary: the content of ``summary.json`` once saved or loaded.
        path: the run folder once saved or loaded.
    """

    estate: Estate
    results: dict[str, StageResult] = field(default_factory=dict)
    changes: pd.DataFrame | None = None
    summary: dict = field(default_factory=dict)
    path: Path | None = None

    # -- reading ---------------------------------------------------------------------------------
    def table(self, name: str) -> pd.DataFrame:
        """The result table ``name`` (from whichever stage wrote it), ``changes`` or an estate table."""
        found = result_table(self.results, name)
        if found is not None:
            return found
        if name == "changes" and self.changes is not None:
            return self.changes
        if name == "warnings":
            return self.warnings
        if name in TABLES:
            return self.estate[name]
        have = sorted({t for r in self.results.values() for t in r.tables} | set(TABLES))
        raise AssessError(f"run has no table '{name}' (it has: {', '.join(have)})")

    def has_table(self, name: str) -> bool:
        """True when a stage wrote the result table ``name`` (or it is ``changes`` and present)."""
        return any(name in r.tables for r in self.results.values()) or (
            name == "changes" and self.changes is not None)

    @property
    def params(self) -> dict[str, dict]:
        """The parameters each stage used, defaults included, by stage name."""
        return {name: result.params for name, result in self.results.items()}

    @property
    def warnings(self) -> pd.DataFrame:
        """Every warning of the run: the import's, then each stage's."""
        return self.estate_with_warnings().warnings

    def estate_with_warnings(self) -> Estate:
        """The estate with the stages' warnings added to its ``warnings`` table."""
        return self.estate.with_warnings([w for r in self.results.values() for w in r.warnings])

    # -- writing ---------------------------------------------------------------------------------
    def save(self, path: str | Path, *, folder: RunFolder | None = None, report: bool = True) -> Path:
        """Write the run folder ``path`` whole or not at all; return it.

        The folder is written into a locked staging sibling and renamed into place with its
        manifest (see :mod:`assess.runfolder`). ``folder``: a :class:`RunFolder` already open
        for ``path`` (the pipeline opens it first so utilization can spill into it). A folder
        at ``path`` holding files assess did not write is refused (:class:`AssessError`).
        """
        path = Path(path)
        if folder is None:
            with writing(path) as opened:
                return self.save(path, folder=opened, report=report)
        recorded_at = datetime.now(UTC).isoformat()
        self.summary = self._write(folder.staging, path, recorded_at, report)
        folder.commit(recorded_at)
        self.path = path
        return path

    def _write(self, staging: Path, path: Path, recorded_at: str, report: bool) -> dict:
        estate = self.estate_with_warnings()
        tables = staging / "tables"
        tables.mkdir(exist_ok=True)
        for name, frame in estate.tables.items():
            if name == "utilization" and estate.utilization_files:
                write_utilization(frame, estate.utilization_files, tables / f"{name}.parquet")
            else:
                frame.to_parquet(tables / f"{name}.parquet", index=False)
        for result in self.results.values():
            for name, frame in result.tables.items():
                conform(name, frame).to_parquet(tables / f"{name}.parquet", index=False)
        summary = self._summary(estate, path, recorded_at)
        if self.changes is not None:
            conform("changes", self.changes).to_parquet(tables / "changes.parquet", index=False)
            summary["changes"] = self.changes["change"].value_counts().to_dict()
        if report:
            from assess.report.exports import write_exports
            from assess.report.html import render_report

            summary["exports"] = write_exports(estate, self.results, staging, self.changes)
            (staging / REPORT).write_text(render_report(estate, self.results, summary, self.changes),
                                          encoding="utf-8")
        (staging / SUMMARY).write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
        return summary

    def _summary(self, estate: Estate, path: Path, recorded_at: str) -> dict:
        return {
            "tool_version": __version__,
            "generated_at": recorded_at,
            "run_folder": str(path),
            "report": str(path / REPORT),
            "inputs": estate.provenance,
            "counts": estate.counts(),
            "results": {name: {t: len(f) for t, f in r.tables.items()} for name, r in self.results.items()},
            "stages": {name: {**r.summary, "params": r.params} for name, r in self.results.items()},
            "warnings": len(estate.warnings),
        }

    # -- loading ---------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path, tables: Iterable[str] | None = None) -> Run:
        """Read the complete run folder ``path``; ``tables`` limits which tables are read.

        Raises :class:`AssessError` for a folder that is not a complete run (no manifest: an
        interrupted run or a foreign folder) or lacks one of the ``tables`` asked for.
        """
        path = Path(path)
        manifest = read_manifest(path)
        if manifest is None:
            raise AssessError(f"{path}: not a complete run folder (no {MANIFEST}: interrupted, or not "
                              "written by assess); run `assess run SOURCE --out RUN` first")
        lost = [f for f in manifest["files"] if not (path / f).is_file()]
        if lost:
            raise AssessError(f"{path}: run folder damaged: {len(lost)} file(s) it lists are gone, e.g. "
                              f"{lost[0]}; run `assess run SOURCE --out RUN` again")
        summary = json.loads((path / SUMMARY).read_text(encoding="utf-8"))
        wanted = None if tables is None else set(tables)
        stage_tables = {s: list(t) for s, t in summary.get("results", {}).items()}
        written = {t for names in stage_tables.values() for t in names} | set(TABLES) | {"changes"}
        present = {t for t in written if (path / "tables" / f"{t}.parquet").is_file()}
        missing = sorted((wanted or set()) - present)
        if missing:
            raise AssessError(f"{path}: the run has no table(s) {', '.join(missing)}; "
                              "run `assess run SOURCE --out RUN` with every stage")
        frames, files = {}, []
        for name in TABLES:
            file = path / "tables" / f"{name}.parquet"
            if (wanted is None or name in wanted) and file.is_file():
                if name == "utilization" and parquet_rows(file) > UTILIZATION_IN_MEMORY_MAX_ROWS:
                    files.append(file)
                else:
                    frames[name] = pd.read_parquet(file)
        estate = Estate(frames, summary.get("inputs", []), files)
        results = {}
        for stage, names in stage_tables.items():
            figures = dict(summary.get("stages", {}).get(stage, {}))
            params = figures.pop("params", {}) or {}
            results[stage] = StageResult(
                tables={t: _read(path, t) for t in names if wanted is None or t in wanted},
                summary=figures, params=params)
        changes = _read(path, "changes") if (path / "tables" / "changes.parquet").is_file() else None
        return cls(estate, results, changes, summary, path)


def _read(path: Path, name: str) -> pd.DataFrame:
    return conform(name, pd.read_parquet(path / "tables" / f"{name}.parquet"))

