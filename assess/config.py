"""The assessment config file (`assess run --config assessment.yaml`): every parameter in one place.

Validated with pydantic: unknown keys and wrong types are errors naming the key's path
(``sizing.rightsizing.percentile``). Credentials are never values in the file: a vCenter
source names the environment variable or the file that holds the password.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assess.execute.params import ExecuteParams
from assess.model import AssessError
from assess.model.errors import validation_problems
from assess.readiness.params import ReadinessParams
from assess.sizing.params import SizingParams
from assess.waves.params import WavesParams


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileSource(_Strict):
    """A utilization or flows file with an optional format (detected when omitted)."""

    path: Path
    format: str | None = None
    mapping: Path | None = Field(None, description="Mapping file (file,vm) for per-VM CSVs")


class VCenterSource(_Strict):
    """A live vCenter; the password comes from an environment variable or a file."""

    server: str
    user: str
    password_env: str = "VSPHERE_PASSWORD"
    password_file: Path | None = None
    ca_file: Path | None = None
    thumbprint: str | None = None
    insecure: bool = Field(False, description="Skip TLS verification (recorded in stderr, summary, report)")
    lookback_days: int = Field(30, ge=1, le=366)
    connect_timeout_s: float = Field(20.0, gt=0, description="Seconds to connect (TCP and TLS handshake)")
    read_timeout_s: float = Field(300.0, gt=0, description="Seconds to wait for any answer of the server")


class Sources(_Strict):
    """Where the estate comes from; any mix, merged by key."""

    rvtools: list[Path] = []
    vcenters: list[VCenterSource] = []
    utilization: list[FileSource] = []
    flows: list[FileSource] = []


class Output(_Strict):
    """Where runs go and how many are kept."""

    folder: Path = Path("reports")
    history: Path | None = Field(None, description="History store; default <folder>/history.duckdb")
    retention: int = Field(30, ge=1, description="Run folders kept; older ones are deleted")
    fail_on: Literal["never", "not_ready", "unknown"] = Field(
        "never", description="Exit 1 when any VM has this verdict (or worse), for schedulers"
    )

    @property
    def history_path(self) -> Path:
        """The history store file."""
        return self.history or self.folder / "history.duckdb"


class AssessmentConfig(_Strict):
    """The whole config file."""

    sources: Sources
    output: Output = Output()
    readiness: ReadinessParams = ReadinessParams()
    sizing: SizingParams = SizingParams()
    waves: WavesParams = WavesParams()
    execute: ExecuteParams = ExecuteParams()

    def stage_params(self) -> dict[str, BaseModel]:
        """Parameters by pipeline stage name, for :func:`assess.stages.run_stages`."""
        return {"readiness": self.readiness, "sizing": self.sizing, "waves": self.waves}


class _NoAliasLoader(yaml.SafeLoader):
    """YAML's safe loader refusing aliases (``*name``, ``<<: *name``).

    Each alias is one more reference to a value, so a few lines of nested aliases describe a
    value of billions of items ("billion laughs"); validating it walks them all. A config has
    no need for them: write the value out.
    """

    def compose_node(self, parent, index):
        """Compose the next node; an alias is an error naming its line."""
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.YAMLError(f"line {mark.line + 1}: aliases (*name) are not allowed in a "
                                 "config file; write the value out")
        return super().compose_node(parent, index)


def load_config(path: str | Path) -> AssessmentConfig:
    """Read and validate a config file; relative paths are taken from the file's folder."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_NoAliasLoader) or {}  # noqa: S506
    except OSError as exc:
        raise AssessError(f"{path}: cannot read the config file: {exc.strerror}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AssessError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise AssessError(f"{path}: a config file is a mapping (sources:, output:, ...), "
                          f"not a {type(raw).__name__}")
    try:
        config = AssessmentConfig.model_validate(raw)
    except ValidationError as exc:
        raise AssessError(f"{path}: {validation_problems(exc)}") from exc
    return _resolve_paths(config, path.parent)


def _resolve_paths(config: AssessmentConfig, base: Path) -> AssessmentConfig:
    def fix(p: Path | None) -> Path | None:
        return p if p is None or p.is_absolute() else base / p

    src = config.sources
    src.rvtools = [fix(p) for p in src.rvtools]
    for item in src.utilization + src.flows:
        item.path, item.mapping = fix(item.path), fix(item.mapping)
    for vc in src.vcenters:
        vc.password_file, vc.ca_file = fix(vc.password_file), fix(vc.ca_file)
    config.output.folder = fix(config.output.folder)
    config.output.history = fix(config.output.history)
    return config
