"""What every stage module shares: one-line errors instead of tracebacks for bad input."""

from __future__ import annotations

import sys
from collections.abc import Callable

from shoplm.errors import UserError

# Errors that describe the user's input (a params typo, a malformed record, an unknown name, a missing
# input file): print the message, which names the file, line and field, and exit 2. Anything else (a
# KeyError or ValueError from a bug included) is the project's mistake and keeps its traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (UserError, FileNotFoundError)


def run(main: Callable[[list[str] | None], int]) -> None:
    try:
        sys.exit(main(None))
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
