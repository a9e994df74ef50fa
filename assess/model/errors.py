"""Exceptions the CLI turns into one clear line and an exit code."""

from __future__ import annotations


class AssessError(Exception):
    """Bad input or usage: the message names the file, sheet, row or object and the fix."""

    exit_code = 2


class FindingsError(AssessError):
    """The job ran, but its findings fail a threshold the user set (exit code 1)."""

    exit_code = 1


def validation_problems(exc) -> str:
    """A pydantic ``ValidationError`` as one line: ``key.path: problem; other.key: problem``.

    Pydantic's own text spans several lines per error (with a documentation URL); a person at a
    terminal or reading cron mail needs the key and what is wrong with it.
    """
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: "
        + ("unknown key" if err["type"] == "extra_forbidden" else err["msg"])
        for err in exc.errors()
    )
