"""What every stage module shares: one-line errors instead of tracebacks for bad input."""

from __future__ import annotations

import sys
from collections.abc import Callable

from shoplm.config import ParamsError
from shoplm.shopbench.records import RecordError
from shoplm.sources.base import SourceError

# Errors that describe the user's input (a params typo, a malformed record, a missing file): print the
# message, which names the file, line and field, and exit 2. Anything else is a bug and keeps its traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (ParamsError, RecordError, SourceError, FileNotFoundError,
                                               KeyError)


def run(main: Callable[[list[str] | None], int]) -> None:
    try:
        sys.exit(main(None))
    except USER_ERRORS as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)
