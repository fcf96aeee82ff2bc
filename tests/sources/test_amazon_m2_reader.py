from __future__ import annotations

import numpy as np
import pytest

from shoplm.sources import (
    SourceError,
    format_prev_items,
    parse_prev_items,
    read_amazon_m2_products,
    read_amazon_m2_sessions,
)
from shoplm.sources.amazon_m2 import LOCALES, PRODUCT_DTYPES

from .conftest import COMPOSED


@pytest.mark.parametrize("count", [1, 2, 5, 6, 7, 12, 13, 25])
def test_prev_items_format_matches_numpy_and_round_trips(count):
    ids = [f"B0{n:08d}" for n in range(count)]
    text = format_prev_items(ids)
    assert text == str(np.array(ids))
    assert parse_prev_items(text) == ids


@pytest.mark.parametrize("text", ["B09W9FND7K B09JSPLN1M", "['B09W9FND7K' 'B09J", "[]",
                                  "['B09W9FND7K', 'B09JSPLN1M']", "[B09W9FND7K]"])
def test_prev_items_rejects_malformed(text):
    with pytest.raises(ValueError):
        parse_prev_items(text)


def test_reads_sessions_sample(sample_root):
    result = read_amazon_m2_sessions(sample_root / "amazon_m2")
    frame = result.frame
    assert list(frame.columns) == ["prev_items", "next_item", "locale"]
    assert len(frame) == 40 and result.skipped == 0
    assert set(frame["locale"]) == set(LOCALES)
    assert all(isinstance(items, list) and items for items in frame["prev_items"])
    assert all(isinstance(i, str) and len(i) == 10 for items in frame["prev_items"] for i in items)
    assert frame["prev_items"].map(len).max() > 6  # some sessions wrap onto several lines
    raw = (sample_root / "amazon_m2" / "sessions_train.csv").read_text(encoding="utf-8")
    assert "'\n '" in raw
    assert frame["next_item"].notna().all()


def test_products_cover_every_session_item(sample_root):
    sessions = read_amazon_m2_sessions(sample_root / "amazon_m2").frame
    products = read_amazon_m2_products(sample_root / "amazon_m2").frame
    assert list(products.columns) == list(PRODUCT_DTYPES)
    assert str(products["price"].dtype) == "float64"
    known = set(zip(products["id"], products["locale"]))
    for row in sessions.itertuples():
        for item in row.prev_items + [row.next_item]:
            assert (item, row.locale) in known
    uk = products[products["locale"] == "UK"].set_index("title")
    assert uk.loc["Pourline Kettle Descaler, 6 Sachets", "price"] == 6.49
    assert products["author"].notna().sum() == 5
    assert products["color"].isna().any()


def test_filters_and_limit(sample_root):
    path = sample_root / "amazon_m2"
    assert set(read_amazon_m2_sessions(path, locales=["FR", "IT"]).frame["locale"]) == {"FR", "IT"}
    assert len(read_amazon_m2_sessions(path, limit=3).frame) == 3
    assert set(read_amazon_m2_products(path, locales="JP").frame["locale"]) == {"JP"}
    with pytest.raises(ValueError, match="known"):
        read_amazon_m2_sessions(path, locales="US")


def test_bad_prev_items_names_its_line(tmp_path):
    path = tmp_path / "sessions_train.csv"
    good = format_prev_items([f"B0{n:08d}" for n in range(8)])  # spans two lines
    path.write_text(
        "prev_items,next_item,locale\n"
        f'"{good}",B000000009,DE\n'
        "B0A B0B,B0C,UK\n"
        "['B0D'],B0E,XX\n"
        "['B0F'],B0G,JP\n",
        encoding="utf-8",
    )
    with pytest.raises(SourceError) as info:
        read_amazon_m2_sessions(path)
    message = str(info.value)
    assert "sessions_train.csv" in message and "line 4" in message and "prev_items" in message

    result = read_amazon_m2_sessions(path, on_error="skip")
    assert len(result.frame) == 2 and result.skipped == 2
    assert "line 4" in result.errors[0] and "line 5" in result.errors[1]
    assert "locale" in result.errors[1]


def test_products_errors(copy_sample):
    folder = copy_sample("amazon_m2")
    path = folder / "products_train.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace(",17.49,", ",cheap,")
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(SourceError, match=r"products_train\.csv: line 3: field 'price'"):
        read_amazon_m2_products(folder)
    result = read_amazon_m2_products(folder, on_error="skip")
    assert len(result.frame) == 39 + COMPOSED["m2_products"] and result.skipped == 1

    path.write_text("id,locale,title\nB0X,UK,Thing\n", encoding="utf-8")
    for policy in ("raise", "skip"):
        with pytest.raises(SourceError, match="missing required column"):
            read_amazon_m2_products(folder, on_error=policy)
