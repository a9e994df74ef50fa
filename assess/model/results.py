"""What a stage returns: result tables plus the few figures that go into summary.json."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class StageResult:
    """Result tables of one stage (written as ``tables/<name>.parquet``) and summary figures."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
