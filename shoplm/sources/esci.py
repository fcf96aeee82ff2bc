"""Shopping Queries Dataset (ESCI), amazon-science/esci-data, KDD Cup 2022.

Published layout (``esci-data/shopping_queries_dataset/``)::

    shopping_queries_dataset_examples.parquet   example_id, query, query_id, product_id,
                                                product_locale, esci_label, small_version,
                                                large_version, split
    shopping_queries_dataset_products.parquet   product_id, product_title, product_description,
                                                product_bullet_point, product_brand,
                                                product_color, product_locale
    shopping_queries_dataset_sources.csv        query_id, source (not read here)

Examples and products join on ``(product_id, product_locale)``: the same ASIN can appear in several
locales with different text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .base import (
    ROW_INDEX,
    ReadResult,
    RowErrors,
    SourceError,
    check_choices,
    check_limit,
    progress_bar,
    require_columns,
    require_path,
)
from .utf8 import undecodable_rows

EXAMPLES_FILE = "shopping_queries_dataset_examples.parquet"
PRODUCTS_FILE = "shopping_queries_dataset_products.parquet"
ESCI_LABELS = ("E", "S", "C", "I")
LOCALES = ("us", "es", "jp")
SPLITS = ("train", "test")
VERSIONS = ("small", "large")

EXAMPLE_COLUMNS = (
    "example_id", "query", "query_id", "product_id", "product_locale",
    "esci_label", "small_version", "large_version", "split",
)
PRODUCT_COLUMNS = (
    "product_id", "product_title", "product_description", "product_bullet_point",
    "product_brand", "product_color", "product_locale",
)
_INT_COLUMNS = ("example_id", "query_id", "small_version", "large_version")
_BATCH = 65_536

COLUMNS: dict[str, str] = {
    "example_id": "int64", "query": "str", "query_id": "int64", "product_id": "str",
    "product_locale": "str", "esci_label": "str", "small_version": "int64",
    "large_version": "int64", "split": "str", "product_title": "str",
    "product_description": "str", "product_bullet_point": "str", "product_brand": "str",
    "product_color": "str", "product_bullets": "object",
}


def locate(path: str | Path) -> tuple[Path, Path]:
    """Find the examples and products parquet files from a directory or the examples file."""
    path = require_path(path, "ESCI")
    if path.is_file():
        return path, path.with_name(PRODUCTS_FILE)
    for folder in (path, path / "shopping_queries_dataset"):
        if (folder / EXAMPLES_FILE).exists():
            return folder / EXAMPLES_FILE, folder / PRODUCTS_FILE
    raise FileNotFoundError(f"ESCI: no {EXAMPLES_FILE} in {path} (or its shopping_queries_dataset/)")


def read_esci(
    path: str | Path,
    *,
    locales: str | list[str] | None = None,
    version: str | None = None,
    split: str | list[str] = "train",
    limit: int | None = None,
    on_error: str = "raise",
    progress: bool | None = None,
) -> ReadResult:
    """Read ESCI query-product judgements joined with product text.

    Args:
        path: the ``shopping_queries_dataset`` directory (or its parent ``esci-data`` checkout), or
            the examples parquet file (the products file is then its sibling).
        locales: keep only these ``product_locale`` values (``us``, ``es``, ``jp``).
        version: ``"small"`` keeps ``small_version == 1`` (the KDD Cup task-1 subset), ``"large"``
            keeps ``large_version == 1``; ``None`` keeps both.
        split: ``"train"`` (the default), ``"test"``, or both as a list. The test split is where
            ShopBench-like evaluation questions come from, so training on it must be asked for.
        limit: at most this many example rows (after filtering); reading stops early.
        on_error: ``"raise"`` or ``"skip"`` (see :mod:`shoplm.sources.base`). Rows are named by
            their 0-based ``row index`` in the parquet file.

    Returns a :class:`ReadResult` whose frame has one row per judged (query, product) pair:

    =====================  ========  ==========================================================
    column                 dtype     meaning
    =====================  ========  ==========================================================
    example_id             int64     publisher's id of the judgement
    query                  str       the customer's search query
    query_id               int64     id of the query (shared by its 1-40 judged products)
    product_id             str       ASIN
    product_locale         str       ``us`` / ``es`` / ``jp``
    esci_label             str       ``E`` exact, ``S`` substitute, ``C`` complement, ``I`` irrelevant
    small_version          int64     1 if in the reduced (task-1) version, else 0
    large_version          int64     1 if in the large version, else 0
    split                  str       ``train`` / ``test``
    product_title          str       product text (NaN when the product row is absent)
    product_description    str       may be NaN; may contain HTML
    product_bullet_point   str       newline-separated bullet points; may be NaN
    product_brand          str       may be NaN
    product_color          str       may be NaN
    product_bullets        object    derived: ``product_bullet_point`` split into a list of str
    =====================  ========  ==========================================================
    """
    check_limit(limit)
    wanted_locales = check_choices("locales", locales, LOCALES)
    check_choices("version", version, VERSIONS)
    if split is None:  # before this default existed, None meant both splits; say how to ask for them
        raise ValueError(f"split must be one of {list(SPLITS)} or a list of them, e.g. {list(SPLITS)}")
    splits = check_choices("split", split, SPLITS)
    examples_path, products_path = locate(path)
    if not products_path.exists():
        raise FileNotFoundError(f"ESCI: products file {products_path} does not exist")
    errors = RowErrors(on_error)

    examples = _read_examples(examples_path, errors, wanted_locales, version, splits, limit, progress)
    keys = set(zip(examples["product_id"].tolist(), examples["product_locale"].tolist()))
    products = _read_products(products_path, errors, keys, progress)
    frame = examples.merge(products, on=["product_id", "product_locale"], how="left")
    bullets = [_bullets(text) for text in frame["product_bullet_point"].tolist()]
    frame["product_bullets"] = pd.Series(bullets, index=frame.index, dtype="object")
    frame = frame[list(COLUMNS)]
    for column, dtype in COLUMNS.items():
        if dtype != "object":
            frame[column] = frame[column].astype(dtype)
    return errors.result(frame.reset_index(drop=True), [examples_path, products_path])


def _bullets(text: Any) -> list[str]:
    if not isinstance(text, str):
        return []
    return [line.strip() for line in text.split("\n") if line.strip()]


def _check_schema(path: Path, pf: pq.ParquetFile, columns: tuple[str, ...]) -> None:
    schema = pf.schema_arrow
    require_columns(path, schema.names, columns)
    for name in columns:
        kind = schema.field(name).type
        if pa.types.is_dictionary(kind):  # pandas categoricals are stored dictionary-encoded
            kind = kind.value_type
        want_int = name in _INT_COLUMNS
        if want_int:
            ok = pa.types.is_integer(kind)
        else:
            ok = (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                  or pa.types.is_string_view(kind) or pa.types.is_null(kind))
        if not ok:
            want = "an integer" if want_int else "a string"
            raise SourceError(path, f"column type is {kind}, expected {want}", field=name)


def _bad_rows(checks: list[tuple[str, pd.Series, str]]) -> dict[int, tuple[str, str]]:
    """Index label -> (field, reason) of the first failed check, for every failing row."""
    bad: dict[int, tuple[str, str]] = {}
    for field, mask, reason in checks:
        for position in mask[mask].index:
            bad.setdefault(int(position), (field, reason))
    return bad


def _read_examples(path, errors, locales, version, splits, limit, progress) -> pd.DataFrame:
    pf = pq.ParquetFile(path)
    _check_schema(path, pf, EXAMPLE_COLUMNS)
    kept: list[pd.DataFrame] = []
    total, offset = 0, 0
    batches = pf.iter_batches(batch_size=_BATCH, columns=list(EXAMPLE_COLUMNS))
    for record_batch in progress_bar(batches, "ESCI examples", progress, unit=" batches"):
        record_batch, undecoded = undecodable_rows(record_batch)
        batch = record_batch.to_pandas().reset_index(drop=True)
        checks = [(c, batch[c].isna(), "is null") for c in EXAMPLE_COLUMNS]
        checks += [
            ("esci_label", ~batch["esci_label"].isin(ESCI_LABELS),
             f"label not one of {list(ESCI_LABELS)}"),
            ("small_version", ~batch["small_version"].isin([0, 1]), "expected 0 or 1"),
            ("large_version", ~batch["large_version"].isin([0, 1]), "expected 0 or 1"),
            ("split", ~batch["split"].isin(SPLITS), f"expected one of {list(SPLITS)}"),
        ]
        bad = _bad_rows(checks) | undecoded  # an undecodable value was nulled: report it as such
        for position in sorted(bad):
            field, reason = bad[position]
            if position not in undecoded:
                reason += f" (value {batch.at[position, field]!r})"
            errors.handle(SourceError(path, reason, row=offset + position, field=field, row_kind=ROW_INDEX))
        good = batch.drop(index=list(bad))
        if locales is not None:
            good = good[good["product_locale"].isin(locales)]
        if version is not None:
            good = good[good[f"{version}_version"] == 1]
        good = good[good["split"].isin(splits)]
        if limit is not None:
            good = good.iloc[: limit - total]
        kept.append(good)
        total += len(good)
        offset += len(batch)
        if limit is not None and total >= limit:
            break
    if not kept:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in EXAMPLE_COLUMNS})
    return pd.concat(kept, ignore_index=True)


def _read_products(path, errors, keys: set[tuple[str, str]], progress) -> pd.DataFrame:
    pf = pq.ParquetFile(path)
    _check_schema(path, pf, PRODUCT_COLUMNS)
    wanted = pd.MultiIndex.from_tuples(sorted(keys), names=["product_id", "product_locale"])
    wanted_ids = pa.array(sorted(set(wanted.get_level_values(0))), type=pa.string())
    kept: list[pd.DataFrame] = []
    offset = 0
    batches = pf.iter_batches(batch_size=_BATCH, columns=list(PRODUCT_COLUMNS))
    for record_batch in progress_bar(batches, "ESCI products", progress, unit=" batches"):
        ids = record_batch.column("product_id").cast(pa.string())
        mask = pc.is_in(ids, value_set=wanted_ids).fill_null(False)
        wanted_batch, undecoded = undecodable_rows(record_batch.filter(mask))
        batch = wanted_batch.to_pandas()
        # keep each row's index in the file, for error messages
        rows = offset + np.flatnonzero(mask.to_numpy(zero_copy_only=False))
        batch.index = pd.Index(rows)
        offset += record_batch.num_rows
        for position, (field, reason) in sorted(undecoded.items()):
            errors.handle(SourceError(path, reason, row=int(rows[position]), field=field, row_kind=ROW_INDEX))
        batch = batch.drop(index=rows[sorted(undecoded)])
        pairs = pd.MultiIndex.from_frame(batch[["product_id", "product_locale"]])
        kept.append(batch[pairs.isin(wanted) | batch["product_locale"].isna()])
    if not kept:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in PRODUCT_COLUMNS})
    products = pd.concat(kept)
    checks = [
        ("product_locale", products["product_locale"].isna(), "is null"),
        ("product_id", products.duplicated(["product_id", "product_locale"]),
         "duplicate (product_id, product_locale)"),
    ]
    bad = _bad_rows(checks)
    for row in sorted(bad):
        field, reason = bad[row]
        errors.handle(SourceError(path, reason, row=row, field=field, row_kind=ROW_INDEX))
    return products.drop(index=list(bad)).reset_index(drop=True)
