"""Functions of the sizing and utilization modules stay under 80 lines (the project's limit)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "assess"
FILES = sorted([*(ROOT / "sizing").glob("*.py"), *(ROOT / "collect").glob("utilization*.py")])
LIMIT = 80


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_functions_are_shorter_than_the_limit(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > LIMIT]
    assert not long, f"{path.name}: {', '.join(long)} over {LIMIT} lines"
