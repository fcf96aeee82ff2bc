"""Shared pieces of the public-source readers.

Every reader returns a :class:`ReadResult` (the tidy frame plus a report of what was skipped) and
takes an error policy, ``on_error``:

- ``"raise"`` (default): the first malformed row raises :class:`SourceError`, whose message names the
  file, the row and the field.
- ``"skip"``: malformed rows are dropped and counted; the first few messages are kept in
  ``ReadResult.errors``. Nothing is dropped silently.

Rows are named the way a user finds them again: ``line N`` (1-based physical line) for JSON Lines and
CSV files, ``row index N`` (0-based) for parquet files and JSON arrays. Schema problems that concern
the whole file (a missing column, a file that is not JSON at all) always raise, whatever the policy.

Bytes that are not UTF-8 are a bad row like any other, not a crash of the whole read: text files are
opened by :func:`open_text` and every row is checked (:func:`check_decoded`, :mod:`shoplm.sources.utf8`).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from tqdm import tqdm

from shoplm.errors import UserError

from .utf8 import undecodable, undecodable_field

ErrorPolicy = Literal["raise", "skip"]
POLICIES: tuple[str, ...] = ("raise", "skip")
MAX_ERRORS_KEPT = 20

LINE = "line"
ROW_INDEX = "row index"

# Real files hold very long fields (product descriptions, RACE passages).
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class SourceError(UserError, ValueError):
    """A malformed row or file; the message names the file, the row and the field."""

    def __init__(
        self,
        file: str | Path,
        reason: str,
        *,
        row: int | None = None,
        field: str | None = None,
        row_kind: str = LINE,
    ) -> None:
        self.file = str(file)
        self.reason = reason
        self.row = row
        self.field = field
        self.row_kind = row_kind
        parts = [self.file]
        if row is not None:
            parts.append(f"{row_kind} {row}")
        if field is not None:
            parts.append(f"field '{field}'")
        super().__init__(": ".join(parts) + f": {reason}")


class FieldError(Exception):
    """Raised by the field helpers below; readers turn it into a SourceError with file and row.
    ``field`` is None when the problem concerns the whole row (e.g. a wrong number of fields)."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


@dataclass
class ReadResult:
    """What a reader returns: the tidy frame and the report of skipped rows."""

    frame: pd.DataFrame
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frame)

    def summary(self) -> str:
        text = f"{len(self.frame)} rows from {len(self.files)} file(s), {self.skipped} skipped"
        if self.errors:
            text += "; first error: " + self.errors[0]
        return text


class RowErrors:
    """Applies the error policy to one read: raise at once, or count and keep the first messages."""

    def __init__(self, on_error: str) -> None:
        check_policy(on_error)
        self.on_error = on_error
        self.skipped = 0
        self.messages: list[str] = []

    def handle(self, error: SourceError) -> None:
        if self.on_error == "raise":
            raise error
        self.skipped += 1
        if len(self.messages) < MAX_ERRORS_KEPT:
            self.messages.append(str(error))

    def result(self, frame: pd.DataFrame, files: Iterable[str | Path]) -> ReadResult:
        return ReadResult(frame, self.skipped, list(self.messages), [str(f) for f in files])


def check_policy(on_error: str) -> None:
    if on_error not in POLICIES:
        raise ValueError(f"on_error must be one of {list(POLICIES)}, got {on_error!r}")


def check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be None or an integer >= 0, got {limit!r}")


def check_choices(name: str, values: Iterable[str] | None, known: Iterable[str]) -> set[str] | None:
    """Validate a filter argument (one name or several) against the known values."""
    if values is None:
        return None
    wanted = {values} if isinstance(values, str) else set(values)
    known = sorted(known)
    unknown = sorted(wanted - set(known))
    if unknown:
        raise ValueError(f"unknown {name} {unknown}; known: {known}")
    return wanted


def progress_bar(iterable: Iterable[Any], desc: str, progress: bool | None, **kwargs: Any) -> Any:
    """tqdm over a long loop; ``progress=None`` shows it only on a terminal."""
    disable = None if progress is None else not progress
    return tqdm(iterable, desc=desc, disable=disable, leave=False, **kwargs)


def open_text(path: Path) -> io.TextIOBase:
    """Open a text file, transparently gunzipping ``*.gz`` (the publishers ship both).

    Undecodable bytes become lone surrogates instead of raising mid-file (the error would name a byte
    offset in a read buffer, not a row); the readers report them per row with :func:`undecodable`."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="surrogateescape",
                                newline="")
    return open(path, encoding="utf-8", errors="surrogateescape", newline="")


def check_decoded(values: dict[str, Any] | Iterable[str], names: Iterable[str] | None = None) -> None:
    """Raise :class:`FieldError` naming the first field that holds a byte that is not UTF-8 (see
    :func:`shoplm.sources.utf8.undecodable_field`)."""
    found = undecodable_field(values, names)
    if found is not None:
        raise FieldError(*found)


def iter_csv(path: Path, progress: bool | None, desc: str) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, fields)`` per CSV record; ``line`` is the 1-based line where the record starts
    (records may span lines: quoted fields with newlines)."""
    with open_text(path) as handle:
        reader = csv.reader(handle)
        start = 1
        for fields in progress_bar(reader, desc, progress, unit=" rows"):
            yield start, fields
            start = reader.line_num + 1


def iter_json_lines(
    path: Path, errors: RowErrors, progress: bool | None, desc: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, record)`` per JSON Lines record; bad JSON or non-object lines go to ``errors``."""
    with open_text(path) as handle:
        for number, text in enumerate(progress_bar(handle, desc, progress, unit=" lines"), start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                reason = undecodable(text) or f"not valid JSON ({exc.msg})"
                errors.handle(SourceError(path, reason, row=number))
                continue
            if not isinstance(record, dict):
                errors.handle(SourceError(path, undecodable(text) or "not a JSON object", row=number))
                continue
            if undecodable(text):
                try:
                    check_decoded(record)
                except FieldError as exc:
                    errors.handle(SourceError(path, exc.reason, row=number, field=exc.field))
                    continue
            yield number, record


def require_columns(path: Path, found: Iterable[str], required: Iterable[str]) -> None:
    found = list(found)
    missing = [c for c in required if c not in found]
    if missing:
        raise SourceError(
            path, f"missing required column(s) {missing}; found {found}", field=missing[0]
        )


def require_path(path: str | Path, what: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what}: {path} does not exist")
    return path


# ---- typed field access for JSON records (raise FieldError) ----------------------------------------

_MISSING = object()


def _get(record: dict[str, Any], key: str, required: bool) -> Any:
    value = record.get(key, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise FieldError(key, "missing" if value is _MISSING else "is null")
        return None
    return value


def req_str(record: dict[str, Any], key: str, *, allow_empty: bool = True) -> str:
    value = _get(record, key, True)
    if not isinstance(value, str):
        raise FieldError(key, f"expected a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise FieldError(key, "is empty")
    return value


def opt_str(record: dict[str, Any], key: str) -> str | None:
    value = _get(record, key, False)
    if value is not None and not isinstance(value, str):
        raise FieldError(key, f"expected a string or null, got {type(value).__name__}")
    return value


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FieldError(key, f"expected a number, got {type(value).__name__}")
    if math.isnan(value):
        raise FieldError(key, "is NaN")
    return float(value)


def req_float(record: dict[str, Any], key: str) -> float:
    return _number(key, _get(record, key, True))


def opt_float(record: dict[str, Any], key: str) -> float | None:
    value = _get(record, key, False)
    return None if value is None else _number(key, value)


def req_int(record: dict[str, Any], key: str, default: int | None = None) -> int:
    value = _get(record, key, default is None)
    if value is None:
        return default  # type: ignore[return-value]
    number = _number(key, value)
    if not number.is_integer():
        raise FieldError(key, f"expected an integer, got {value!r}")
    return int(number)


def opt_bool(record: dict[str, Any], key: str, default: bool = False) -> bool:
    value = _get(record, key, False)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise FieldError(key, f"expected true/false, got {value!r}")
    return value


def opt_list(record: dict[str, Any], key: str) -> list[Any]:
    value = _get(record, key, False)
    if value is None:
        return []
    if not isinstance(value, list):
        raise FieldError(key, f"expected a list, got {type(value).__name__}")
    return value


def str_frame(rows: list[dict[str, Any]], dtypes: dict[str, str]) -> pd.DataFrame:
    """Build a frame with exactly the documented columns and dtypes (``object`` keeps lists/dicts)."""
    frame = pd.DataFrame(rows, columns=list(dtypes))
    for column, dtype in dtypes.items():
        if dtype != "object":
            frame[column] = frame[column].astype(dtype)
    return frame
