"""`assess run`: read the sources, run every stage, write the run folder.

A run folder holds ``index.html`` (the report), ``tables/<name>.parquet`` for every canonical
and result table, and ``summary.json`` (tool version, inputs, counts, stage figures).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from assess import __version__
from assess.model import AssessError, Estate
from assess.model.results import StageResult

RVTOOLS_CSV_MARKER = "RVTools_tabvInfo.csv"


@dataclass
class SourceFiles:
    """Source files found in a folder, by kind."""

    rvtools: list[Path] = field(default_factory=list)
    utilization: list[Path] = field(default_factory=list)
    flows: list[Path] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        """Paths as strings, for summaries."""
        return {k: [str(p) for p in v] for k, v in self.__dict__.items()}


def find_sources(folder: Path) -> SourceFiles:
    """Classify the files of a source folder.

    RVTools: ``*.xlsx`` files and folders holding ``RVTools_tabvInfo.csv`` (the folder itself
    included). Utilization: ``utilization*.csv``, ``.csv.gz`` or ``.parquet``. Flows:
    ``flows*.csv`` and ``*dependenc*.csv`` (Azure Migrate's export name).
    """
    found = SourceFiles()
    entries = sorted(folder.iterdir())
    if (folder / RVTOOLS_CSV_MARKER).is_file():
        found.rvtools.append(folder)
    for path in entries:
        name = path.name.lower()
        if path.is_dir() and (path / RVTOOLS_CSV_MARKER).is_file():
            found.rvtools.append(path)
        elif not path.is_file() or name.startswith(("~$", ".")):
            continue
        elif name.endswith(".xlsx"):
            found.rvtools.append(path)
        elif name.startswith("utilization") and name.endswith((".csv", ".csv.gz", ".parquet")):
            found.utilization.append(path)
        elif name.endswith(".csv") and (name.startswith("flows") or "dependenc" in name):
            found.flows.append(path)
    return found


def load_estate(source: Path) -> Estate:
    """Return the estate for ``source``: an estate folder, a folder of source files, or one export."""
    source = Path(source)
    if not source.exists():
        raise AssessError(f"{source}: no such file or folder")
    if (source / "estate.json").is_file():
        return Estate.load(source)
    from assess.collect.rvtools import read_rvtools

    if source.is_file():
        return read_rvtools([source]).validate()
    files = find_sources(source)
    if not files.rvtools:
        raise AssessError(
            f"{source}: no inventory found (expected an estate folder, an RVTools .xlsx, or a "
            f"folder with {RVTOOLS_CSV_MARKER})"
        )
    estate = read_rvtools(files.rvtools)
    if files.utilization:
        from assess.collect.utilization import read_utilization

        estate = estate.merge(read_utilization(files.utilization, estate))
    if files.flows:
        from assess.collect.flows import read_flows

        estate = estate.merge(read_flows(files.flows, estate))
    return estate.validate()


Stage = Callable[[Estate, dict[str, pd.DataFrame]], StageResult]


def stages() -> list[tuple[str, Stage]]:
    """The analysis stages in order; each sees the estate and every earlier result table."""
    return []


def run_stages(estate: Estate, progress: Callable[[str], None] | None = None) -> dict[str, StageResult]:
    """Run every stage on ``estate`` and return their results by stage name."""
    results: dict[str, StageResult] = {}
    tables: dict[str, pd.DataFrame] = {}
    for name, stage in stages():
        if progress:
            progress(name)
        result = stage(estate, tables)
        results[name] = result
        tables.update(result.tables)
    return results


def default_run_folder() -> Path:
    """``reports/<UTC timestamp>``."""
    return Path("reports") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def run_summary(estate: Estate, results: dict[str, StageResult], out: Path) -> dict:
    """The content of ``summary.json``."""
    return {
        "tool_version": __version__,
        "generated_at": datetime.now(UTC).isoformat(),
        "run_folder": str(out),
        "report": str(out / "index.html"),
        "inputs": estate.provenance,
        "counts": estate.counts(),
        "results": {name: {t: len(f) for t, f in r.tables.items()} for name, r in results.items()},
        "stages": {name: r.summary for name, r in results.items()},
        "warnings": len(estate.warnings),
    }


def write_run(estate: Estate, results: dict[str, StageResult], out: Path) -> dict:
    """Write tables, summary.json and index.html into ``out``; return the summary."""
    from assess.report.html import render_report

    tables_dir = out / "tables"
    tables_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in estate.tables.items():
        frame.to_parquet(tables_dir / f"{name}.parquet", index=False)
    for result in results.values():
        for name, frame in result.tables.items():
            frame.to_parquet(tables_dir / f"{name}.parquet", index=False)
    summary = run_summary(estate, results, out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    (out / "index.html").write_text(render_report(estate, results, summary), encoding="utf-8")
    return summary


def run(source: Path, out: Path | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Assess ``source`` end to end and write the run folder; return the run summary."""
    out = Path(out) if out else default_run_folder()
    if progress:
        progress("import")
    estate = load_estate(Path(source))
    results = run_stages(estate, progress)
    if progress:
        progress("report")
    return write_run(estate, results, out)
