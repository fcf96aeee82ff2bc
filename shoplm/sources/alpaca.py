"""Alpaca-cleaned (yahma/alpaca-cleaned on the Hugging Face hub), a cleaned Stanford Alpaca.

Published as ``alpaca_data_cleaned.json``: one JSON array of ``{"instruction", "input", "output"}``
objects (``input`` is ``""`` when the instruction needs no context).
"""

from __future__ import annotations

import json
from pathlib import Path

from .base import (
    ROW_INDEX,
    FieldError,
    ReadResult,
    RowErrors,
    SourceError,
    check_decoded,
    check_limit,
    open_text,
    progress_bar,
    req_str,
    require_path,
    str_frame,
)

DATA_FILE = "alpaca_data_cleaned.json"
COLUMNS: dict[str, str] = {"instruction": "str", "input": "str", "output": "str"}


def read_alpaca(
    path: str | Path,
    *,
    limit: int | None = None,
    on_error: str = "raise",
    progress: bool | None = None,
) -> ReadResult:
    """Read Alpaca-cleaned instruction/response pairs.

    Args:
        path: ``alpaca_data_cleaned.json`` or the folder holding it.
        limit: at most this many records.
        on_error: ``"raise"`` or ``"skip"``; rows are named by their 0-based ``row index`` in the
            array. Malformed: not an object, bytes that are not UTF-8, a missing or non-string
            field, an empty instruction or output. A file that is not a JSON array always raises.

    Returns a :class:`ReadResult` whose frame has one row per record:

    ===========  =====  ==========================================
    column       dtype  meaning
    ===========  =====  ==========================================
    instruction  str    the task
    input        str    optional context ("" when none)
    output       str    the reference response
    ===========  =====  ==========================================
    """
    check_limit(limit)
    path = require_path(path, "Alpaca-cleaned")
    if path.is_dir():
        path = path / DATA_FILE
        if not path.exists():
            raise FileNotFoundError(f"Alpaca-cleaned: no {DATA_FILE} in {path.parent}")
    with open_text(path) as handle:
        try:
            records = json.load(handle)
        except json.JSONDecodeError as exc:
            raise SourceError(path, f"not valid JSON ({exc.msg} at line {exc.lineno} "
                                    f"column {exc.colno})") from None
    if not isinstance(records, list):
        raise SourceError(path, f"expected a JSON array, got {type(records).__name__}")
    errors = RowErrors(on_error)
    rows: list[dict[str, str]] = []
    for index, record in enumerate(progress_bar(records, "Alpaca", progress)):
        if limit is not None and len(rows) >= limit:
            break
        try:
            if not isinstance(record, dict):
                raise FieldError(None, "not a JSON object")
            check_decoded(record)
            rows.append({
                "instruction": req_str(record, "instruction", allow_empty=False),
                "input": req_str(record, "input"),
                "output": req_str(record, "output", allow_empty=False),
            })
        except FieldError as exc:
            errors.handle(SourceError(path, exc.reason, row=index, field=exc.field,
                                      row_kind=ROW_INDEX))
    return errors.result(str_frame(rows, COLUMNS), [path])
