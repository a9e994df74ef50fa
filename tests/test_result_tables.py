"""Result tables are declared like the estate tables, and the stages write what is declared."""

import pandas as pd
import pytest

from assess import load_estate, run_stages
from assess.model import AssessError, conform, empty
from assess.model.schema import RESULT_TABLES, TABLES
from assess.sample import generate_sample
from assess.sizing import SizingParams


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    files = generate_sample(tmp_path_factory.mktemp("rt") / "s", vms=100, seed=4)
    estate = load_estate(files["rvtools"].parent)
    return run_stages(estate, {"sizing": SizingParams().replace(**{"packing.cpsat_time_limit_s": 2})})


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


def test_conform_keeps_an_undeclared_result_column_after_the_declared_ones():
    frame = pd.DataFrame({"vm_id": ["a"], "verdict": ["ready"], "new_fact": [1]})
    out = conform("readiness", frame)
    assert out.columns[-1] == "new_fact" and out.columns[:-1].tolist() == RESULT_TABLES["readiness"].names
    assert out["effort"].isna().all() and str(out["effort"].dtype) == "Int64"
    with pytest.raises(AssessError, match="lacks required column"):
        conform("sizing", pd.DataFrame({"vcpus": [1]}))
    assert empty("waves").columns.tolist() == RESULT_TABLES["waves"].names
