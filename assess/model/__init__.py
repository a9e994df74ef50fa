"""Canonical estate model: tables, the Estate bundle, and errors."""

from assess.model.errors import AssessError, FindingsError
from assess.model.estate import Estate, conform
from assess.model.schema import METRICS, TABLES, empty

__all__ = ["AssessError", "Estate", "FindingsError", "METRICS", "TABLES", "conform", "empty"]
