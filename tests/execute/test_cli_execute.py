"""``assess execute`` subcommands: every action names itself; the run folder comes after it."""

import subprocess
import sys

import yaml
from typer.testing import CliRunner

from assess.cli import app
from tests.execute.run_folder import write_run


def test_gitops_writes_the_tree_from_a_run_folder(tmp_path):
    run = write_run(tmp_path / "run")
    args = ["execute", "gitops", str(run), "--out", str(tmp_path / "tree"), "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    top = yaml.safe_load((tmp_path / "tree" / "kustomization.yaml").read_text())
    assert top["resources"] == ["shared", "wave-01"]  # later waves wait until released
    assert CliRunner().invoke(app, [*args, "--wave", "3"]).exit_code == 0
    top = yaml.safe_load((tmp_path / "tree" / "kustomization.yaml").read_text())
    assert top["resources"] == ["shared", "wave-01", "wave-02", "wave-03"]


def test_the_old_positional_form_and_gitops_through_plan_are_refused_with_one_line(tmp_path):
    run = write_run(tmp_path / "run")
    assess = [sys.executable, "-m", "assess"]
    old = subprocess.run([*assess, "execute", str(run)], capture_output=True, text=True)
    assert old.returncode == 2 and "Traceback" not in old.stderr
    gitops = subprocess.run([*assess, "execute", "plan", str(run), "--backend", "gitops"],
                            capture_output=True, text=True)
    assert gitops.returncode == 2
    assert gitops.stderr.strip().endswith("use `assess execute gitops RUN --out DIR`")
    assert len(gitops.stderr.strip().splitlines()) == 1


def test_rbac_prints_the_roles_without_a_run_folder():
    result = CliRunner().invoke(app, ["execute", "rbac"])
    assert result.exit_code == 0, result.output
    kinds = {doc["kind"] for doc in yaml.safe_load_all(result.output) if doc}
    assert {"ServiceAccount", "ClusterRole"} <= kinds


def test_a_folder_that_is_not_a_complete_run_is_refused(tmp_path):
    (tmp_path / "half" / "tables").mkdir(parents=True)
    result = subprocess.run([sys.executable, "-m", "assess", "execute", "plan", str(tmp_path / "half")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "not a complete run folder" in result.stderr
