"""The ``assess`` command line: thin wrappers that parse options and call one library function.

Each command group lives in its own module and registers itself on :data:`app`.
Errors from the library (:class:`assess.model.AssessError`) become one line on stderr and
exit code 2 (1 for findings-level failures); no traceback reaches the user.
"""

from __future__ import annotations

import sys

from rich.text import Text

from assess.cli.common import app, err_console, printable
from assess.model.errors import AssessError, validation_problems

# Command modules register themselves on ``app`` when imported.
from assess.cli import imports, run  # noqa: E402,F401  isort: skip
from assess.cli import collect  # noqa: E402,F401  isort: skip
from assess.cli import sample  # noqa: E402,F401  isort: skip
from assess.cli import execute  # noqa: E402,F401  isort: skip


def error_line(exc: Exception) -> str:
    """The one line shown for a library error; a pydantic error inside it names each key, one line."""
    from pydantic import ValidationError

    cause = exc if isinstance(exc, ValidationError) else exc.__cause__
    text = str(exc)
    if isinstance(cause, ValidationError):
        short = f"invalid {cause.title}: {validation_problems(cause)}"
        text = short if cause is exc else text.replace(str(cause), validation_problems(cause))
    return " ".join(text.split())


def main() -> None:
    """Console-script entry point: run the app and map library errors to exit codes."""
    from pydantic import ValidationError

    try:
        app()
    except (AssessError, ValidationError) as exc:
        err_console.print(Text.assemble(("error:", "bold red"), " ", printable(error_line(exc))),
                          highlight=False, soft_wrap=True)
        sys.exit(getattr(exc, "exit_code", 2))
