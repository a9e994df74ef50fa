import subprocess
import sys

import pytest

from assess.config import load_config
from assess.model import AssessError


def test_config_resolves_relative_paths_from_its_folder(tmp_path):
    cfg = tmp_path / "assessment.yaml"
    cfg.write_text(
        "sources:\n  rvtools: [exports/a.xlsx]\n  flows:\n    - {path: flows.csv, format: azure-migrate}\n"
        "output:\n  folder: runs\n  retention: 3\n"
    )
    config = load_config(cfg)
    assert config.sources.rvtools == [tmp_path / "exports" / "a.xlsx"]
    assert config.sources.flows[0].path == tmp_path / "flows.csv"
    assert config.output.history_path == tmp_path / "runs" / "history.duckdb"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: {rvtools: [a.xlsx]}\noutput: {retension: 3}\n", r"output\.retension: unknown key"),
        (
            "sources: {rvtools: [a.xlsx], vcenters: [{server: vc, user: u, password: x}]}\n",
            r"sources\.vcenters\.0\.password: unknown key",
        ),
        ("sources: {rvtools: [a.xlsx]}\noutput: {retention: zero}\n", r"output\.retention: .*integer"),
        ("sources: [\n", "not valid YAML"),
    ],
)
def test_config_errors_name_the_key_path(tmp_path, text, message):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    with pytest.raises(AssessError, match=message):
        load_config(cfg)


@pytest.mark.slow
def test_run_refuses_source_and_config_together(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("sources: {rvtools: [a.xlsx]}\n")
    both = subprocess.run(
        [sys.executable, "-m", "assess", "run", str(tmp_path), "--config", str(cfg)],
        capture_output=True,
        text=True,
    )
    assert both.returncode == 2 and "not both or neither" in both.stderr
