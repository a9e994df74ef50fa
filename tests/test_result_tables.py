"""Result tables are declared like the estate tables, and the stages write what is declared."""

import pandas as pd
import pytest

from assess.model import AssessError, conform, empty
from assess.model.schema import RESULT_TABLES, TABLES

#: Declared tables no stage writes: ``changes`` comes from scheduled runs (see test_schedule).
PENDING = {"changes": {"change", "vm_id", "name", "detail"}}


@pytest.fixture(scope="module")
def raw(staged_sample):
    """The tables as the stage functions return them, before any conform."""
    return {name: frame for result in staged_sample.raw.values() for name, frame in result.tables.items()}


@pytest.fixture(scope="module")
def results(staged_sample):
    return staged_sample.results


def test_declarations_are_complete_and_distinct():
    assert not set(RESULT_TABLES) & set(TABLES)
    for table in RESULT_TABLES.values():
        assert table.doc and len(table.names) == len(set(table.names)), table.name
        assert all(c.doc for c in table.columns), table.name
        assert set(table.key) <= set(table.names), table.name


def test_every_table_and_column_the_stages_write_is_declared_with_its_dtype(results):
    for stage, result in results.items():
        for name, frame in result.tables.items():
            assert name in RESULT_TABLES, f"{stage} writes undeclared table {name}"
            declared = RESULT_TABLES[name]
            assert list(frame.columns) == declared.names, f"{name}: undeclared or missing columns"
            assert {c: str(d) for c, d in frame.dtypes.items()} == declared.dtypes, name


def test_the_stages_write_only_declared_columns_and_every_declared_one(raw):
    for name, frame in raw.items():
        assert name in RESULT_TABLES, f"undeclared result table {name}: declare it in RESULT_TABLES"
        undeclared = set(frame.columns) - set(RESULT_TABLES[name].names)
        assert not undeclared, f"{name}: declare {sorted(undeclared)} in RESULT_TABLES"
    for name, table in RESULT_TABLES.items():
        never = set(table.names) - set(raw[name].columns if name in raw else [])
        assert never <= PENDING.get(name, set()), f"{name}: declared but never written: {sorted(never)}"


def test_conform_keeps_an_undeclared_result_column_after_the_declared_ones():
    frame = pd.DataFrame({"vm_id": ["a"], "verdict": ["ready"], "new_fact": [1]})
    out = conform("readiness", frame)
    assert out.columns[-1] == "new_fact" and out.columns[:-1].tolist() == RESULT_TABLES["readiness"].names
    assert out["effort"].isna().all() and str(out["effort"].dtype) == "Int64"
    with pytest.raises(AssessError, match="lacks required column"):
        conform("sizing", pd.DataFrame({"vcpus": [1]}))
    assert empty("waves").columns.tolist() == RESULT_TABLES["waves"].names
