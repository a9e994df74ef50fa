"""The planner's functions stay small enough to read (the scheduler and local search were 180+ lines)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "assess"
FILES = sorted((ROOT / "waves").glob("*.py")) + [ROOT / "collect" / f for f in ("flows.py", "vm_lookup.py")]


def test_no_function_of_the_wave_planner_exceeds_80_lines():
    long = []
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > 80:
                    long.append(f"{path.name}:{node.name} ({lines} lines)")
    assert not long, long
