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
