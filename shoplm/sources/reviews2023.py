"""Amazon Reviews 2023 (McAuley Lab, amazon-reviews-2023.github.io).

Published per category, JSON Lines (also distributed gzipped as ``*.jsonl.gz``)::

    <Category>.jsonl        user reviews: rating, title, text, images, asin, parent_asin, user_id,
                            timestamp, helpful_vote, verified_purchase
    meta_<Category>.jsonl   item metadata: main_category, title, average_rating, rating_number,
                            features, description, price, images, videos, store, categories,
                            details, parent_asin, bought_together

Reviews join metadata on ``parent_asin``. The category is taken from the file name.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .base import (
    FieldError,
    ReadResult,
    RowErrors,
    SourceError,
    check_limit,
    iter_json_lines,
    opt_bool,
    opt_float,
    opt_list,
    opt_str,
    req_float,
    req_int,
    req_str,
    require_path,
    str_frame,
)

META_PREFIX = "meta_"
_SUFFIXES = (".jsonl.gz", ".jsonl")

REVIEW_DTYPES: dict[str, str] = {
    "category": "str", "rating": "float64", "title": "str", "text": "str", "images": "object",
    "asin": "str", "parent_asin": "str", "user_id": "str", "timestamp": "int64",
    "helpful_vote": "int64", "verified_purchase": "bool",
}
META_DTYPES: dict[str, str] = {
    "category": "str", "parent_asin": "str", "main_category": "str", "title": "str",
    "average_rating": "float64", "rating_number": "int64", "features": "object",
    "description": "object", "price": "float64", "images": "object", "videos": "object",
    "store": "str", "categories": "object", "details": "object", "bought_together": "object",
}


def category_of(path: Path) -> str:
    """``Electronics.jsonl`` -> ``Electronics``; ``meta_Electronics.jsonl.gz`` -> ``Electronics``."""
    name = path.name
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name[len(META_PREFIX):] if name.startswith(META_PREFIX) else name


def _files(path: str | Path, meta: bool, categories: str | list[str] | None) -> list[Path]:
    path = require_path(path, "Amazon Reviews 2023")
    kind = "metadata" if meta else "review"
    if path.is_file():
        files = [path]
        if path.name.startswith(META_PREFIX) != meta:
            other = "a review" if meta else "a metadata"
            raise SourceError(path, f"this is {other} file; expected a {kind} file")
    else:
        files = sorted(
            p for p in path.iterdir()
            if p.name.endswith(_SUFFIXES) and p.name.startswith(META_PREFIX) == meta
        )
        if not files:
            pattern = "meta_<Category>.jsonl" if meta else "<Category>.jsonl"
            raise FileNotFoundError(f"Amazon Reviews 2023: no {pattern} files in {path}")
    if categories is not None:
        wanted = {categories} if isinstance(categories, str) else set(categories)
        found = sorted({category_of(f) for f in files})
        unknown = sorted(wanted - set(found))
        if unknown:
            raise ValueError(f"unknown categories {unknown}; {kind} files found for: {found}")
        files = [f for f in files if category_of(f) in wanted]
    return files


def _review(record: dict[str, Any]) -> dict[str, Any]:
    rating = req_float(record, "rating")
    if not 1.0 <= rating <= 5.0:
        raise FieldError("rating", f"{rating} is outside 1-5")
    # The publisher's own quick-start example spells two fields differently; accept both.
    votes_key = "helpful_vote" if "helpful_vote" in record else "helpful_votes"
    time_key = "timestamp" if "timestamp" in record else "sort_timestamp"
    helpful = req_int(record, votes_key, default=0)
    if helpful < 0:
        raise FieldError(votes_key, f"{helpful} is negative")
    return {
        "rating": rating,
        "title": opt_str(record, "title") or "",
        "text": req_str(record, "text"),
        "images": opt_list(record, "images"),
        "asin": req_str(record, "asin", allow_empty=False),
        "parent_asin": req_str(record, "parent_asin", allow_empty=False),
        "user_id": req_str(record, "user_id", allow_empty=False),
        "timestamp": req_int(record, time_key),
        "helpful_vote": helpful,
        "verified_purchase": opt_bool(record, "verified_purchase"),
    }


def read_reviews2023(
    path: str | Path,
    *,
    categories: str | list[str] | None = None,
    limit: int | None = None,
    on_error: str = "raise",
    progress: bool | None = None,
) -> ReadResult:
    """Read Amazon Reviews 2023 user reviews.

    Args:
        path: one ``<Category>.jsonl`` (or ``.jsonl.gz``) file, or a folder of them (``meta_*``
            files in the same folder are ignored here; see :func:`read_reviews2023_meta`).
        categories: keep only these categories (file-name stems, e.g. ``"Electronics"``).
        limit: at most this many reviews in total; reading stops early.
        on_error: ``"raise"`` or ``"skip"``; rows are named by their 1-based JSON Lines ``line``.
            Malformed: not JSON, bytes that are not UTF-8, rating missing or outside 1-5, a missing
            ``text``/``asin``/``parent_asin``/``user_id``/``timestamp``, a field of the wrong type.

    Returns a :class:`ReadResult` whose frame has one row per review:

    =================  =======  ===========================================================
    column             dtype    meaning
    =================  =======  ===========================================================
    category           str      from the file name (``All_Beauty``, ``Electronics``, ...)
    rating             float64  1.0-5.0
    title              str      review headline ("" when absent)
    text               str      review body
    images             object   list of dicts (small/medium/large_image_url, attachment_type)
    asin               str      the exact variant reviewed
    parent_asin        str      the product (joins metadata)
    user_id            str      reviewer id
    timestamp          int64    unix time in milliseconds
    helpful_vote       int64    helpful votes (0 when absent)
    verified_purchase  bool     False when absent
    =================  =======  ===========================================================
    """
    return _read_category_files(path, meta=False, categories=categories, limit=limit, on_error=on_error,
                                progress=progress, parse=_review, dtypes=REVIEW_DTYPES)


def _str_list(record: dict[str, Any], key: str) -> list[str]:
    values = opt_list(record, key)
    if not all(isinstance(v, str) for v in values):
        raise FieldError(key, "expected a list of strings")
    return values


def _price(value: Any) -> float:
    """Prices are numbers or null in the raw files, strings in some re-exports ("None", "$9.99")."""
    if value is None or isinstance(value, bool):
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().lstrip("$").replace(",", ""))
        except ValueError:
            return math.nan
    raise FieldError("price", f"expected a number, got {type(value).__name__}")


def _meta(record: dict[str, Any]) -> dict[str, Any]:
    details = record.get("details") or {}
    if isinstance(details, str):  # the Hugging Face re-export stores it as a JSON string
        try:
            details = json.loads(details)
        except json.JSONDecodeError:
            raise FieldError("details", "a string that is not JSON") from None
    if not isinstance(details, dict):
        raise FieldError("details", f"expected an object, got {type(details).__name__}")
    bought = record.get("bought_together")
    if bought is not None and not isinstance(bought, list):
        raise FieldError("bought_together", f"expected a list or null, got {type(bought).__name__}")
    return {
        "parent_asin": req_str(record, "parent_asin", allow_empty=False),
        "main_category": opt_str(record, "main_category"),
        "title": req_str(record, "title"),
        "average_rating": opt_float(record, "average_rating"),
        "rating_number": req_int(record, "rating_number", default=0),
        "features": _str_list(record, "features"),
        "description": _str_list(record, "description"),
        "price": _price(record.get("price")),
        "images": opt_list(record, "images"),
        "videos": opt_list(record, "videos"),
        "store": opt_str(record, "store"),
        "categories": _str_list(record, "categories"),
        "details": details,
        "bought_together": bought,
    }


def read_reviews2023_meta(
    path: str | Path,
    *,
    categories: str | list[str] | None = None,
    limit: int | None = None,
    on_error: str = "raise",
    progress: bool | None = None,
) -> ReadResult:
    """Read Amazon Reviews 2023 item metadata.

    Args:
        path: one ``meta_<Category>.jsonl`` (or ``.jsonl.gz``) file, or a folder of them.
        categories: keep only these categories.
        limit: at most this many items in total.
        on_error: ``"raise"`` or ``"skip"``; rows are named by their 1-based JSON Lines ``line``.
            Malformed: not JSON, bytes that are not UTF-8, missing ``parent_asin``/``title``, list
            fields that are not lists of strings, ``details`` not an object.

    Returns a :class:`ReadResult` whose frame has one row per product:

    ===============  =======  ===========================================================
    column           dtype    meaning
    ===============  =======  ===========================================================
    category         str      from the file name
    parent_asin      str      product id (joins reviews)
    main_category    str      domain shown on the page (may differ from ``category``; NaN)
    title            str      product name
    average_rating   float64  NaN when absent
    rating_number    int64    number of ratings (0 when absent)
    features         object   list[str], bullet-point features ([] when absent)
    description      object   list[str] ([] when absent)
    price            float64  US dollars; NaN when null or not a number
    images           object   list of dicts (thumb, large, variant, hi_res)
    videos           object   list of dicts (title, url, user_id)
    store            str      store / brand name (NaN when absent)
    categories       object   list[str], hierarchical path, often [] in the raw files
    details          object   dict of product details (Brand, Material, ...)
    bought_together  object   list of parent_asins, or None (null in most raw files)
    ===============  =======  ===========================================================
    """
    return _read_category_files(path, meta=True, categories=categories, limit=limit, on_error=on_error,
                                progress=progress, parse=_meta, dtypes=META_DTYPES)


def _read_category_files(path: str | Path, *, meta: bool, categories: str | list[str] | None,
                         limit: int | None, on_error: str, progress: bool | None,
                         parse: Callable[[dict[str, Any]], dict[str, Any]], dtypes: Any) -> ReadResult:
    """One JSON Lines file per category (reviews or metadata): parse each record, tag its category."""
    check_limit(limit)
    errors = RowErrors(on_error)
    files = _files(path, meta=meta, categories=categories)
    rows: list[dict[str, Any]] = []
    for file in files:
        if limit is not None and len(rows) >= limit:
            break
        category = category_of(file)
        label = f"{'meta' if meta else 'reviews'} {category}"
        for line, record in iter_json_lines(file, errors, progress, label):
            if limit is not None and len(rows) >= limit:
                break
            try:
                rows.append({"category": category} | parse(record))
            except FieldError as exc:
                errors.handle(SourceError(file, exc.reason, row=line, field=exc.field))
    return errors.result(str_frame(rows, dtypes), files)
