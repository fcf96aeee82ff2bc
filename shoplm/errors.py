"""The one base class of the mistakes a user can fix: a params typo, a malformed record, an unknown name.

Stage modules (``tasks/_runner.py``) print such an error as one line and exit 2; every other exception
is a bug and keeps its traceback. Each subclass keeps its older base too
(``ParamsError`` is still a ``ValueError``, ``UnknownNameError`` a ``LookupError``), so code that
catches those goes on working.
"""

from __future__ import annotations

KEYED_PROBLEMS = "shoplm_keyed_problems"  # pydantic error type of keyed_problems, read by shoplm.params.loader


class UserError(Exception):
    """Bad input from the user; the message says what is wrong and where (file, line, key)."""


def keyed_problems(problems: list[tuple[tuple[str, ...], str]]) -> Exception:
    """A pydantic error for a model validator that finds problems at other keys than its own.

    Each problem is (key path below the validated model, message); ``shoplm.params.loader`` reports one line
    per problem with the file line of its key, where a plain ValueError would only name the model.
    """
    from pydantic_core import PydanticCustomError

    summary = "; ".join(message for _, message in problems)
    return PydanticCustomError(KEYED_PROBLEMS, "{summary}", {"summary": summary, "problems": problems})
