import typer.main

from assess.cli.common import app


def _commands(group, prefix=()):
    for name, command in getattr(group, "commands", {}).items():
        yield (*prefix, name), command
        yield from _commands(command, (*prefix, name))


def test_every_command_and_option_has_help_text():
    import assess.cli  # noqa: F401  registers every command module

    root = typer.main.get_command(app)
    found = dict(_commands(root))
    assert {("run",), ("diff",), ("sample",), ("import", "rvtools"), ("import", "utilization"),
            ("import", "flows"), ("collect", "vcenter")} <= set(found)
    execute = {("execute", action) for action in
               ("plan", "apply", "pause", "resume", "cancel", "cleanup", "rbac", "gitops")}
    assert execute <= set(found)
    for path, command in found.items():
        assert (command.help or "").strip(), f"assess {' '.join(path)} has no help text"
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert (param.help or "").strip(), f"assess {' '.join(path)} --{param.name} has no help"


def test_no_command_takes_a_password_on_the_command_line():
    import assess.cli  # noqa: F401

    for path, command in _commands(typer.main.get_command(app)):
        for param in command.params:
            assert not any("pass" in opt and "file" not in opt for opt in getattr(param, "opts", [])), path


def test_execute_takes_the_run_folder_only_as_a_subcommand_argument():
    """``assess execute RUN`` (the overloaded positional) is gone: every action is a subcommand."""
    import assess.cli  # noqa: F401

    execute = typer.main.get_command(app).commands["execute"]
    assert not [p for p in execute.params if p.param_type_name == "argument"]
    for name, command in execute.commands.items():
        arguments = [p.name for p in command.params if p.param_type_name == "argument"]
        assert arguments == ([] if name == "rbac" else ["run_folder"]), name


def _help(*args):
    from typer.testing import CliRunner

    import assess.cli  # noqa: F401

    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "160", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.output


def test_version_prints_the_package_version():
    from typer.testing import CliRunner

    from assess import __version__

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"assess {__version__}"


def test_help_shows_click_style_metavars_and_no_python_types():
    import assess.cli  # noqa: F401

    for path, _ in _commands(typer.main.get_command(app)):
        text = _help(*path)
        assert "<bool>" not in text and "<str>" not in text and "list[" not in text, path
    run = _help("run")
    assert "--out" in run and "PATH" in run
    json_line = next(line for line in run.splitlines() if "--json" in line)
    assert "PATH" not in json_line and "TEXT" not in json_line  # an on/off flag takes no value
    assert "INTEGER" in _help("sample")


def test_each_import_command_describes_its_own_files():
    assert "RVTools exports" in _help("import", "rvtools")
    utilization, flows = _help("import", "utilization"), _help("import", "flows")
    assert "Utilization files" in utilization and "RVTools" not in utilization
    assert "Azure Migrate" in flows and "RVTools" not in flows
    assert "--allow-empty-inputs" in _help("run")


def test_a_pydantic_error_becomes_one_line_naming_each_key():
    from pydantic import ValidationError

    from assess.cli import error_line
    from assess.model import AssessError
    from assess.sizing import SizingParams

    try:
        SizingParams(packing={"cpu_overcommit": "lots"}, bogus=1)
    except ValidationError as exc:
        line = error_line(exc)
        try:
            raise AssessError(f"params.yaml: invalid sizing parameters: {exc}") from exc
        except AssessError as wrapped:
            wrapped_line = error_line(wrapped)
    assert "\n" not in line and "packing.cpu_overcommit" in line and "bogus: unknown key" in line
    assert line.startswith("invalid SizingParams: ")
    assert wrapped_line.startswith("params.yaml: invalid sizing parameters: packing.cpu_overcommit: ")
    assert "\n" not in wrapped_line and "errors.pydantic.dev" not in wrapped_line


def test_printed_text_is_neither_wrapped_nor_markup_when_piped(capsys):
    from assess.cli.common import emit

    long = "resized              " + "[red]db01[/red] " + "x" * 200
    emit({}, False, long)
    out = capsys.readouterr().out
    assert out == long + "\n"  # one line, the brackets literal


def test_count_text_names_rows_with_thousands_separators():
    from assess.cli.common import count_text

    assert count_text({"vms": 300, "utilization": 420940, "flows": 0, "warnings": 3}) == (
        "300 VMs, 420,940 utilization samples")
    assert count_text({"warnings": 2}) == "nothing"


def test_empty_inputs_names_each_file_that_contributed_nothing():
    from assess.cli.run import empty_inputs

    summary = {
        "counts": {"vms": 300, "flows": 0},
        "inputs": [
            {"id": "rvtools-1", "kind": "rvtools", "path": "a.xlsx"},
            {"id": "utilization-1", "kind": "utilization", "path": "u1.csv", "samples": 0},
            {"id": "utilization-2", "kind": "utilization", "path": "u2.csv", "samples": 10},
            {"id": "flows-1", "kind": "flows", "path": "f.csv", "records": 12},
        ],
    }
    assert empty_inputs(summary) == [
        "u1.csv: contributed 0 utilization samples (none matched a VM of the inventory)",
        "f.csv: no record became a flow between known endpoints",
    ]
    summary["counts"]["flows"] = 5
    summary["inputs"][1]["samples"] = 1
    assert empty_inputs(summary) == []


def test_reimporting_the_same_file_adds_no_provenance_entry(tmp_path):
    from assess.collect.flows import read_flows
    from assess.collect.rvtools import read_rvtools
    from assess.model.estate import Estate, merge_into_folder
    from assess.sample import generate_sample

    files = generate_sample(tmp_path / "sample", vms=100, seed=1)
    out = tmp_path / "estate"
    merge_into_folder(out, read_rvtools([files["rvtools"]]))
    merge_into_folder(out, read_flows([files["flows"]], Estate.load(out)))
    again = merge_into_folder(out, read_rvtools([files["rvtools"]]))
    assert [p["kind"] for p in again.provenance] == ["rvtools", "flows"]
    assert set(again["vms"]["source"]) == {again.provenance[0]["id"]}
    assert len(Estate.load(out).provenance) == 2
    changed = tmp_path / "changed.csv"  # other content: a second source
    changed.write_bytes(files["flows"].read_bytes() + b"\n")
    merged = merge_into_folder(out, read_flows([changed], Estate.load(out)))
    assert [p["kind"] for p in merged.provenance] == ["rvtools", "flows", "flows"]
