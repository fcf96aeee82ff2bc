"""Strict JSON Lines reading shared by question and prediction files.

Nothing is dropped or coerced silently: every problem is a RecordError naming file, line and field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shoplm.errors import UserError


class RecordError(UserError, ValueError):
    """A question or prediction record that cannot be used, located by file, line and field."""

    def __init__(self, path: str | Path, line: int | None, field: str | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.detail = message
        where = f"{self.path}:{line}" if line is not None else self.path
        what = f"field '{field}': " if field else ""
        super().__init__(f"{where}: {what}{message}")


class _DuplicateKey(Exception):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys; that would drop a value silently.
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def read_json_lines(path: str | Path) -> list[tuple[int, Any]]:
    """(line number, parsed JSON) for every line of a JSON Lines file.

    Blank lines at the end of the file are ignored (editors add them); a blank line between records
    is an error (it usually means a lost record). Lines are split on "\\n" only: str.splitlines would
    also split inside records at U+2028 and friends.
    """
    raw = Path(path).read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    lines = raw.split(b"\n")
    while lines and not lines[-1].strip():
        lines.pop()
    parsed: list[tuple[int, Any]] = []
    for number, data in enumerate(lines, start=1):
        try:
            text = data.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as exc:
            raise RecordError(path, number, None, f"not UTF-8 ({exc.reason})") from None
        if not text.strip():
            raise RecordError(path, number, None, "empty line")
        try:
            value = json.loads(
                text, object_pairs_hook=_object_without_duplicates, parse_constant=_reject_constant
            )
        except _DuplicateKey as exc:
            raise RecordError(path, number, str(exc), "duplicate key") from None
        except ValueError as exc:  # JSONDecodeError is a ValueError
            raise RecordError(path, number, None, f"not valid JSON: {exc}") from None
        parsed.append((number, value))
    return parsed
