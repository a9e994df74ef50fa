"""The front door: ``from assess import ...`` and the params update helper."""

import subprocess
import sys
from pathlib import Path

import pytest

import assess
from assess import AssessError, SizingParams, WavesParams


def test_the_public_names_import_in_a_fresh_interpreter():
    code = ("from assess import Estate, Run, load_estate, assess_readiness, size_estate, plan_waves, "
            "run_stages, sample_path, ReadinessParams, SizingParams, WavesParams; "
            "import assess; print(sorted(set(assess.__all__) - set(dir(assess))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    for name in assess.__all__:
        assert getattr(assess, name) is not None


def test_sample_path_holds_the_sample():
    folder = assess.sample_path()
    assert {"rvtools.xlsx", "utilization.csv.gz", "flows.csv"} <= {p.name for p in folder.iterdir()}


def test_replace_updates_nested_values_by_dotted_path_and_validates():
    base = SizingParams()
    changed = base.replace(**{"rightsizing.percentile": 90, "packing.cpu_overcommit": 2.0})
    assert (changed.rightsizing.percentile, changed.packing.cpu_overcommit) == (90, 2.0)
    assert base.rightsizing.percentile != 90  # the original is unchanged
    assert changed.rightsizing.mode == base.rightsizing.mode
    assert changed.model_fields_set == {"rightsizing", "packing"}
    assert changed.rightsizing.model_fields_set == {"percentile"}
    assert WavesParams().replace(max_vms_per_wave=10).max_vms_per_wave == 10
    with pytest.raises(AssessError, match="RightSizing: no parameter .rightsizing.percentil."):
        base.replace(**{"rightsizing.percentil": 90})
    with pytest.raises(AssessError, match="SizingParams: no parameter 'nope'"):
        base.replace(nope=1)
    with pytest.raises(AssessError, match="invalid value"):
        base.replace(**{"packing.cpu_overcommit": 0.5})


@pytest.mark.slow
def test_the_readme_python_example_runs(tmp_path, monkeypatch):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Python API"):]
    code = section[section.index("```python") + len("```python"):section.index("```\n", 10)]
    assert len(code.strip().splitlines()) <= 5
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    run = assess.Run.load(tmp_path / "reports" / "what-if")
    assert run.params["sizing"]["rightsizing"]["percentile"] == 90
    assert run.summary["stages"]["sizing"]["params_given"] == ["rightsizing.percentile"]
