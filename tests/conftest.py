"""Shared test fixtures: paths to the read-only shared material."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The read-only ../shared folder (real data and schemas)."""
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: the tests read real data and schemas from it")
    return SHARED
