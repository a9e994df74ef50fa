"""`assess run`: read the sources, run every stage, write the run folder.

A run folder holds ``index.html`` (the report), ``tables/<name>.parquet`` for every canonical
and result table, and ``summary.json`` (tool version, inputs, counts, stage figures).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from assess import __version__
from assess.config import AssessmentConfig
from assess.model import AssessError, Estate
from assess.model.estate import write_utilization
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


def load_estate(source: Path, spill_to: Path | None = None) -> Estate:
    """Return the estate for ``source``: an estate folder, a folder of source files, or one export.

    With ``spill_to`` (a Parquet file), utilization beyond
    :data:`~assess.model.estate.UTILIZATION_IN_MEMORY_MAX_ROWS` samples is written there and
    aggregated out of core by sizing instead of being loaded into pandas.
    """
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
    # DuckDB works outside the GIL: utilization is parsed while the inventory is read, and
    # matched to it (and spilled) while the flows are read
    pool = ThreadPoolExecutor(1)
    raw = None
    if files.utilization:
        from assess.collect.utilization import RawUtilization

        raw = pool.submit(RawUtilization, files.utilization, spill_to=spill_to)
    try:
        estate = read_rvtools(files.rvtools)
        utilization = pool.submit(lambda inventory: raw.result().resolve(inventory), estate) if raw else None
        flows = None
        if files.flows:
            from assess.collect.flows import read_flows

            flows = read_flows(files.flows, estate)
        if utilization:
            estate = estate.merge(utilization.result())
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if flows is not None:
        estate = estate.merge(flows)
    return estate.validate()


Stage = Callable[[Estate, dict[str, pd.DataFrame], object], StageResult]


def _readiness(estate: Estate, tables: dict[str, pd.DataFrame], params) -> StageResult:
    from assess.readiness import assess_readiness

    return assess_readiness(estate, params)


def _sizing(estate: Estate, tables: dict[str, pd.DataFrame], params) -> StageResult:
    """Size; then mark the idle VMs that sizing found as retire candidates in ``tables["readiness"]``."""
    from assess.readiness import retire_idle
    from assess.sizing import size_estate

    result = size_estate(estate, tables.get("readiness"), params)
    if "readiness" in tables:
        tables["readiness"] = retire_idle(tables["readiness"], result.tables["sizing"])
    return result


def _waves(estate: Estate, tables: dict[str, pd.DataFrame], params) -> StageResult:
    from assess.waves import plan_waves

    return plan_waves(estate, tables.get("readiness"), tables.get("sizing"), params)


def stages() -> list[tuple[str, Stage]]:
    """The analysis stages in order; each sees the estate, earlier result tables and its params."""
    return [("readiness", _readiness), ("sizing", _sizing), ("waves", _waves)]


def run_stages(
    estate: Estate,
    params: dict[str, object] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, StageResult]:
    """Run every stage on ``estate`` (params by stage name, None for defaults); results by stage."""
    params = params or {}
    results: dict[str, StageResult] = {}
    tables: dict[str, pd.DataFrame] = {}
    for name, stage in stages():
        if progress:
            progress(name)
        result = stage(estate, tables, params.get(name))
        if params.get(name) is not None:  # the report states the parameters a run was given
            result.summary.setdefault("params", params[name].model_dump(mode="json"))
        results[name] = result
        tables.update(result.tables)

    for result in results.values():  # a later stage may refine an earlier table: keep the latest
        result.tables = {name: tables[name] for name in result.tables}
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


def write_run(
    estate: Estate, results: dict[str, StageResult], out: Path, changes: pd.DataFrame | None = None
) -> dict:
    """Write tables, summary.json and index.html into ``out``; return the summary.

    ``changes`` (from :func:`assess.history.snapshot.diff_snapshots`) adds a "what changed"
    section, ``tables/changes.parquet`` and change counts in the summary.
    """
    from assess.report.exports import write_exports
    from assess.report.html import render_report

    estate = estate.with_warnings([w for r in results.values() for w in r.warnings])

    tables_dir = out / "tables"
    tables_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in estate.tables.items():
        if name == "utilization" and estate.utilization_files:
            write_utilization(frame, estate.utilization_files, tables_dir / f"{name}.parquet")
        else:
            frame.to_parquet(tables_dir / f"{name}.parquet", index=False)
    for result in results.values():
        for name, frame in result.tables.items():
            frame.to_parquet(tables_dir / f"{name}.parquet", index=False)
    summary = run_summary(estate, results, out)
    if changes is not None:
        changes.to_parquet(tables_dir / "changes.parquet", index=False)
        summary["changes"] = changes["change"].value_counts().to_dict()
    summary["exports"] = write_exports(estate, results, out, changes)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    (out / "index.html").write_text(render_report(estate, results, summary, changes), encoding="utf-8")
    return summary


def run(source: Path, out: Path | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Assess ``source`` end to end and write the run folder; return the run summary."""
    out = Path(out) if out else default_run_folder()
    if progress:
        progress("import")
    (out / "tables").mkdir(parents=True, exist_ok=True)
    estate = load_estate(Path(source), spill_to=out / "tables" / "utilization.parquet")
    results = run_stages(estate, progress=progress)
    if progress:
        progress("report")
    return write_run(estate, results, out)


def load_configured_estate(config: AssessmentConfig) -> Estate:
    """Read every source the config names into one estate, merged by key."""
    from assess.collect.rvtools import read_rvtools

    src = config.sources
    if not (src.rvtools or src.vcenters):
        raise AssessError("config: sources has no inventory (give rvtools files or vcenters)")
    estate = read_rvtools(src.rvtools) if src.rvtools else Estate()
    for vc in src.vcenters:
        from assess.collect.vcenter import collect_vcenter, target_from

        target = target_from(vc.server, vc.user, vc.password_file, vc.ca_file, vc.thumbprint, vc.insecure,
                             password_env=vc.password_env)
        estate = estate.merge(collect_vcenter(target, lookback_days=vc.lookback_days))
    for item in src.utilization:
        from assess.collect.utilization import read_utilization

        estate = estate.merge(read_utilization([item.path], estate, format=item.format, mapping=item.mapping))
    for item in src.flows:
        from assess.collect.flows import read_flows

        estate = estate.merge(read_flows([item.path], estate, format=item.format))
    return estate.validate()


def run_config(config: AssessmentConfig, progress: Callable[[str], None] | None = None) -> dict:
    """Scheduled-assessment run: sources and parameters from ``config``; history and diff kept.

    The run folder is ``<output.folder>/<UTC timestamp>``; the run is recorded in the history
    store, compared with the previous run, and run folders beyond ``output.retention`` are deleted.
    """
    from assess.history.snapshot import diff_snapshots, snapshot
    from assess.history.store import RunStore

    out = config.output.folder / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    if progress:
        progress("import")
    estate = load_configured_estate(config)
    results = run_stages(estate, config.stage_params(), progress)
    store = RunStore(config.output.history_path)
    previous = store.runs()["run_id"].tolist()
    stage_summaries = {"stages": {name: r.summary for name, r in results.items()}}
    snap = snapshot(estate, results, stage_summaries)
    changes = diff_snapshots(store.snapshot(previous[-1]), snap) if previous else None
    if progress:
        progress("report")
    summary = write_run(estate, results, out, changes)
    store.record_run(out.name, summary, snap)
    summary["previous_run"] = previous[-1] if previous else None
    summary["deleted_runs"] = [str(p) for p in prune_runs(config.output.folder, config.output.retention)]
    return summary


def prune_runs(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` run folders under ``folder``; return those deleted."""
    import shutil

    runs = sorted(p for p in folder.iterdir() if p.is_dir() and (p / "summary.json").is_file())
    doomed = runs[:-keep] if keep else runs
    for path in doomed:
        shutil.rmtree(path)
    return doomed
