"""Bytes that are not UTF-8, found row by row so that a reader can skip the row instead of failing.

Text files are decoded with ``errors="surrogateescape"`` (``shoplm.sources.base.open_text``): each
undecodable byte 0xNN becomes the lone surrogate U+DCNN, which no valid text contains, so a reader
can still split the file into rows and then name the row and field holding the byte. Decoding
strictly would fail at a byte offset of a read buffer, naming neither. Parquet stores strings as
bytes that pyarrow does not check on read; :func:`undecodable_rows` checks them batch by batch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

# surrogateescape maps an undecodable byte 0xNN to U+DCNN (NN >= 0x80).
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def undecodable(text: str) -> str | None:
    """Why ``text`` (read by ``open_text``) is not UTF-8, e.g. ``"not UTF-8: byte 0xff at
    character 12"``; None when it is."""
    match = _ESCAPED_BYTE.search(text)
    if match is None:
        return None
    return f"not UTF-8: byte 0x{ord(match.group()) - 0xDC00:02x} at character {match.start() + 1}"


def _undecodable_value(value: Any) -> str | None:
    if isinstance(value, str):
        return undecodable(value)
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list):
        return next((reason for item in value if (reason := _undecodable_value(item))), None)
    return None


def undecodable_field(values: dict[str, Any] | Iterable[str],
                      names: Iterable[str] | None = None) -> tuple[str, str] | None:
    """``(field, reason)`` for the first field holding an undecodable byte, or None.

    ``values`` is a parsed JSON record (its keys name the fields; nested values are searched) or a
    CSV row, whose fields are named by ``names`` (positions, counted from 1, beyond them)."""
    if isinstance(values, dict):
        items = list(values.items())
    else:
        names = list(names or ())
        items = [(names[i] if i < len(names) else f"#{i + 1}", v) for i, v in enumerate(values)]
    for name, value in items:
        if reason := undecodable(name):  # a key that is not UTF-8 cannot name itself in a message
            return ascii(name), reason
        if reason := _undecodable_value(value):
            return name, reason
    return None


def _undecodable_bytes(value: bytes | None) -> str | None:
    try:
        if value is not None:
            value.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8: byte 0x{value[exc.start]:02x} at byte {exc.start + 1}"
    return None


def undecodable_rows(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, dict[int, tuple[str, str]]]:
    """Parquet string values that are not UTF-8: ``(batch with them nulled, {row: (column, reason)})``.

    Parquet stores strings as bytes and pyarrow does not check them on read; converting the batch to
    pandas would then fail for the whole file. The full check is one pass per column; only a column
    that fails it is decoded value by value, to find the rows."""
    bad: dict[int, tuple[str, str]] = {}
    columns = list(batch.columns)
    for number, column in enumerate(columns):
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            continue
        try:
            column.validate(full=True)
            continue
        except pa.ArrowInvalid:
            pass
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        raw = column.cast(pa.large_binary() if pa.types.is_large_string(kind) else pa.binary())
        keep = []
        for row, value in enumerate(raw.to_pylist()):
            reason = _undecodable_bytes(value)
            keep.append(reason is None)
            if reason is not None:
                bad.setdefault(row, (batch.schema.names[number], reason))
        columns[number] = pc.if_else(pa.array(keep), raw, pa.nulls(len(raw), raw.type)).cast(kind)
    if bad:
        batch = pa.RecordBatch.from_arrays(columns, names=batch.schema.names)
    return batch, bad
