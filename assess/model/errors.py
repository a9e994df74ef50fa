"""Exceptions the CLI turns into one clear line and an exit code."""


class AssessError(Exception):
    """Bad input or usage: the message names the file, sheet, row or object and the fix."""

    exit_code = 2


class FindingsError(AssessError):
    """The job ran, but its findings fail a threshold the user set (exit code 1)."""

    exit_code = 1
