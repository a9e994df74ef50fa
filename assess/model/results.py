"""What a stage returns: result tables, the warnings it raised, its figures and parameters."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class StageResult:
    """One stage's output; stages never change their inputs, so everything they learn is here.

    Attributes:
        tables: result tables by name (written as ``tables/<name>.parquet``).
        summary: the figures that go into ``summary.json`` under the stage's name.
        warnings: warnings raised by the stage, as records with the ``warnings`` table's
            columns (``source``, ``code``, ``table``, ``row``, ``column``, ``message``);
            the pipeline adds them to the run's warnings.
        params: the parameters the stage used, defaults included, as JSON-ready data
            (``params.model_dump(mode="json")``); recorded in ``summary.json`` and the report.
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    warnings: list[dict] = field(default_factory=list)
    params: dict = field(default_factory=dict)

    def warn(self, code: str, message: str, *, source: str = "", table: str = "", row: object = "",
             column: str = "") -> None:
        """Record a warning raised by this stage (same fields as :meth:`Estate.warn`)."""
        self.warnings.append(dict(source=source, code=code, table=table, row=str(row), column=column,
                                  message=message))


def result_table(results: dict[str, StageResult], name: str) -> pd.DataFrame | None:
    """The result table ``name`` from whichever stage produced it, or None."""
    for result in results.values():
        if name in result.tables:
            return result.tables[name]
    return None
