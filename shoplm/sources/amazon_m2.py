"""Amazon-M2 (KDD Cup 2023, "Multilingual Shopping Session Dataset").

Published files (CSV with a header row, comma-separated, UTF-8)::

    sessions_train.csv    prev_items, next_item, locale
    products_train.csv    id, locale, title, price, brand, color, size, model, material, author, desc
    sessions_test_task1.csv (etc.)   prev_items, locale   (no next_item)

``prev_items`` is the string numpy prints for an array of ASINs, e.g.
``['B09W9FND7K' 'B09JSPLN1M']``; long sessions wrap onto several lines inside one quoted CSV field.
Locales: DE, JP, UK, ES, FR, IT.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .base import (
    FieldError,
    ReadResult,
    RowErrors,
    SourceError,
    check_choices,
    check_decoded,
    check_limit,
    iter_csv,
    require_columns,
    require_path,
    str_frame,
)

SESSIONS_FILE = "sessions_train.csv"
PRODUCTS_FILE = "products_train.csv"
LOCALES = ("DE", "JP", "UK", "ES", "FR", "IT")
SESSION_COLUMNS = ("prev_items", "next_item", "locale")
PRODUCT_COLUMNS = (
    "id", "locale", "title", "price", "brand", "color", "size", "model", "material", "author", "desc",
)
_TOKENS = re.compile(r"\s*(?:'[^'\s]+'\s*)*")
_TOKEN = re.compile(r"'([^'\s]+)'")
_NUMPY_WIDTH = 75

SESSION_DTYPES: dict[str, str] = {"prev_items": "object", "next_item": "str", "locale": "str"}
PRODUCT_DTYPES: dict[str, str] = {c: "str" for c in PRODUCT_COLUMNS} | {"price": "float64"}


def parse_prev_items(text: str) -> list[str]:
    """Parse the published numpy-array string into a list of ASINs (raises ValueError)."""
    body = text.strip()
    if not (body.startswith("[") and body.endswith("]")):
        raise ValueError("expected a numpy array string like \"['B0..' 'B0..']\"")
    inner = body[1:-1]
    if not _TOKENS.fullmatch(inner):
        raise ValueError("expected quoted item ids separated by spaces")
    items = _TOKEN.findall(inner)
    if not items:
        raise ValueError("empty session")
    return items


def format_prev_items(items: list[str]) -> str:
    """The inverse of :func:`parse_prev_items`: numpy's ``str(np.array(items))``, line wrapping
    included (75 columns, continuation lines indented by one space)."""
    text, line = "", " "
    width = _NUMPY_WIDTH - 1  # room for the closing bracket
    for number, item in enumerate(items):
        word = f"'{item}'"
        if len(line) + len(word) > width and len(line) > 1:
            text += line.rstrip() + "\n"
            line = " "
        line += word
        if number < len(items) - 1:
            line += " "
    return "[" + (text + line)[1:] + "]"


def _locate(path: str | Path, filename: str) -> Path:
    path = require_path(path, "Amazon-M2")
    if path.is_dir():
        path = path / filename
        if not path.exists():
            raise FileNotFoundError(f"Amazon-M2: no {filename} in {path.parent}")
    return path


def _header(path: Path, rows, required) -> list[str]:
    try:
        _, header = next(rows)
    except StopIteration:
        raise SourceError(path, "empty file, expected a header row") from None
    try:
        check_decoded(header)
    except FieldError as exc:
        raise SourceError(path, f"header row: {exc.reason}", row=1) from None
    require_columns(path, header, required)
    return header


def read_amazon_m2_sessions(
    path: str | Path,
    *,
    locales: str | list[str] | None = None,
    limit: int | None = None,
    on_error: str = "raise",
    progress: bool | None = None,
) -> ReadResult:
    """Read Amazon-M2 sessions.

    Args:
        path: ``sessions_train.csv`` (or a test-session file), or the folder holding
            ``sessions_train.csv``.
        locales: keep only these locales (DE, JP, UK, ES, FR, IT).
        limit: at most this many sessions (after filtering); reading stops early.
        on_error: ``"raise"`` or ``"skip"``; rows are named by their 1-based CSV ``line``.

    Returns a :class:`ReadResult` whose frame has one row per session:

    ============  ======  ==============================================================
    column        dtype   meaning
    ============  ======  ==============================================================
    prev_items    object  list[str]: the ASINs engaged with, in order (parsed, >= 1 item)
    next_item     str     the ASIN engaged with next; NaN for test files without it
    locale        str     DE / JP / UK / ES / FR / IT
    ============  ======  ==============================================================
    """
    check_limit(limit)
    wanted = check_choices("locales", locales, LOCALES)
    path = _locate(path, SESSIONS_FILE)
    errors = RowErrors(on_error)
    rows = iter_csv(path, progress, "Amazon-M2 sessions")
    header = _header(path, rows, ("prev_items", "locale"))
    index = {name: header.index(name) for name in SESSION_COLUMNS if name in header}
    out: list[dict] = []
    for line, fields in rows:
        if limit is not None and len(out) >= limit:
            break
        try:
            check_decoded(fields, header)
            if len(fields) != len(header):
                raise FieldError(None, f"expected {len(header)} fields, got {len(fields)}")
            record = {name: fields[i] for name, i in index.items()}
            try:
                items = parse_prev_items(record["prev_items"])
            except ValueError as exc:
                raise FieldError("prev_items", f"{exc}: {record['prev_items'][:60]!r}") from None
            locale = record["locale"]
            if locale not in LOCALES:
                raise FieldError("locale", f"{locale!r} not one of {list(LOCALES)}")
            next_item = record.get("next_item")
            if "next_item" in record and not next_item.strip():
                raise FieldError("next_item", "is empty")
        except FieldError as exc:
            errors.handle(SourceError(path, exc.reason, row=line, field=exc.field))
            continue
        if wanted is None or locale in wanted:
            out.append({"prev_items": items, "next_item": next_item, "locale": locale})
    return errors.result(str_frame(out, SESSION_DTYPES), [path])


def read_amazon_m2_products(
    path: str | Path,
    *,
    locales: str | list[str] | None = None,
    limit: int | None = None,
    on_error: str = "raise",
    progress: bool | None = None,
) -> ReadResult:
    """Read the Amazon-M2 product catalogue.

    Args:
        path: ``products_train.csv`` or the folder holding it.
        locales: keep only these locales.
        limit: at most this many products (after filtering).
        on_error: ``"raise"`` or ``"skip"``; rows are named by their 1-based CSV ``line``.

    Returns a :class:`ReadResult` whose frame has one row per (id, locale):

    ========  =======  ======================================================================
    column    dtype    meaning
    ========  =======  ======================================================================
    id        str      ASIN (joins ``prev_items`` / ``next_item`` together with ``locale``)
    locale    str      DE / JP / UK / ES / FR / IT
    title     str      product title in the locale's language (NaN if empty)
    price     float64  price in the locale's currency (NaN if empty)
    brand     str      NaN if empty; likewise color, size, model, material, author, desc
    color     str
    size      str
    model     str
    material  str
    author    str      set for books
    desc      str      free-text description
    ========  =======  ======================================================================
    """
    check_limit(limit)
    wanted = check_choices("locales", locales, LOCALES)
    path = _locate(path, PRODUCTS_FILE)
    errors = RowErrors(on_error)
    rows = iter_csv(path, progress, "Amazon-M2 products")
    header = _header(path, rows, PRODUCT_COLUMNS)
    index = {name: header.index(name) for name in PRODUCT_COLUMNS}
    out: list[dict] = []
    for line, fields in rows:
        if limit is not None and len(out) >= limit:
            break
        try:
            check_decoded(fields, header)
            if len(fields) != len(header):
                raise FieldError(None, f"expected {len(header)} fields, got {len(fields)}")
            record = {name: (fields[i] if fields[i] != "" else None) for name, i in index.items()}
            if record["id"] is None:
                raise FieldError("id", "is empty")
            if record["locale"] not in LOCALES:
                raise FieldError("locale", f"{record['locale']!r} not one of {list(LOCALES)}")
            if record["price"] is not None:
                try:
                    record["price"] = float(record["price"])
                except ValueError:
                    raise FieldError("price", f"not a number: {record['price']!r}") from None
        except FieldError as exc:
            errors.handle(SourceError(path, exc.reason, row=line, field=exc.field))
            continue
        if wanted is None or record["locale"] in wanted:
            out.append(record)
    frame = str_frame(out, PRODUCT_DTYPES)
    return errors.result(frame, [path])


def product_lookup(products: pd.DataFrame) -> dict[tuple[str, str], dict]:
    """``(id, locale) -> product row`` for resolving session ASINs to product text."""
    return {(r["id"], r["locale"]): r for r in products.to_dict("records")}
