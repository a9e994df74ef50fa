"""``assess run`` end to end: read the sources, run the stages, save the run folder.

The pieces live in modules named for what they hold: :mod:`assess.sources` (finding and reading
sources), :mod:`assess.stages` (the analysis steps), :mod:`assess.run` (the run and its folder),
:mod:`assess.runfolder` (atomic, locked, owned folders and retention).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from assess.config import AssessmentConfig
from assess.run import Run
from assess.runfolder import prune_runs, refuse_system_folder, writing
from assess.sources import find_sources, load_configured_estate, load_estate
from assess.stages import findings_failure, run_stages, stages

__all__ = ["default_run_folder", "find_sources", "load_estate", "run", "run_config", "run_stages", "stages"]


def default_run_folder() -> Path:
    """``reports/<UTC timestamp>``."""
    return Path("reports") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _say(progress: Callable[[str], None] | None, step: str) -> None:
    if progress:
        progress(step)


def run(source: Path, out: Path | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Assess ``source`` end to end and save the run folder ``out``; return the run summary.

    The folder appears complete or not at all (see :mod:`assess.runfolder`); utilization too
    large for memory spills into it while it is being written.
    """
    out = Path(out) if out else default_run_folder()
    with writing(out) as folder:
        _say(progress, "import")
        (folder.staging / "tables").mkdir()
        estate = load_estate(Path(source), spill_to=folder.staging / "tables" / "utilization.parquet")
        result = Run(estate, run_stages(estate, progress=progress))
        _say(progress, "report")
        result.save(out, folder=folder)
    return result.summary


def run_config(config: AssessmentConfig, progress: Callable[[str], None] | None = None) -> dict:
    """Scheduled-assessment run: sources and parameters from ``config``; history and diff kept.

    The run folder is ``<output.folder>/<UTC timestamp>``; the run is recorded in the history
    store once saved whole, compared with the previous run, and runs beyond
    ``output.retention`` are deleted (only run folders assess wrote, oldest recorded first).
    The summary's ``findings`` says why the run fails under ``output.fail_on`` (empty if not).
    """
    from assess.history.snapshot import diff_snapshots, snapshot
    from assess.history.store import RunStore

    refuse_system_folder(config.output.folder)
    out = config.output.folder / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    with writing(out) as folder:
        _say(progress, "import")
        estate = load_configured_estate(config)
        result = Run(estate, run_stages(estate, config.stage_params(), progress))
        store = RunStore(config.output.history_path)
        previous = store.runs()["run_id"].tolist()
        snap = snapshot(result)
        if previous:
            result.changes = diff_snapshots(store.snapshot(previous[-1]), snap)
        _say(progress, "report")
        result.save(out, folder=folder)
    store.record_run(out.name, result.summary, snap)
    return {
        **result.summary,
        "previous_run": previous[-1] if previous else None,
        "deleted_runs": [str(p) for p in prune_runs(config.output.folder, config.output.retention)],
        "findings": findings_failure(result.results, config.output.fail_on),
    }
