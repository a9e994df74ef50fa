"""Reading an estate from its sources: a folder of exports, one export, an estate folder, a config.

:func:`load_estate` is what ``assess run SOURCE`` and notebooks call; :func:`load_configured_estate`
reads every source an assessment config names (RVTools files, vCenters, utilization, flows).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from assess.config import AssessmentConfig
from assess.model import AssessError, Estate

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
                             password_env=vc.password_env, connect_timeout_s=vc.connect_timeout_s,
                             read_timeout_s=vc.read_timeout_s)
        estate = estate.merge(collect_vcenter(target, lookback_days=vc.lookback_days))
    for item in src.utilization:
        from assess.collect.utilization import read_utilization

        estate = estate.merge(read_utilization([item.path], estate, format=item.format, mapping=item.mapping))
    for item in src.flows:
        from assess.collect.flows import read_flows

        estate = estate.merge(read_flows([item.path], estate, format=item.format))
    return estate.validate()
