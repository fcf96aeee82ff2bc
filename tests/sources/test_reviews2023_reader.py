from __future__ import annotations

import gzip
import json
import math

import pytest

from shoplm.sources import SourceError, read_reviews2023, read_reviews2023_meta
from shoplm.sources.reviews2023 import META_DTYPES, REVIEW_DTYPES, category_of

from .conftest import COMPOSED


def test_reads_review_sample(sample_root):
    result = read_reviews2023(sample_root / "reviews2023")
    frame = result.frame
    assert list(frame.columns) == list(REVIEW_DTYPES)
    assert len(frame) == 40 + COMPOSED["reviews"] and result.skipped == 0
    assert sorted(frame["category"].unique()) == ["Electronics", "Home_and_Kitchen"]
    assert set(frame["rating"]) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert str(frame["helpful_vote"].dtype) == "int64" and frame["helpful_vote"].max() > 10
    assert str(frame["timestamp"].dtype) == "int64"
    assert frame["verified_purchase"].dtype == bool and not frame["verified_purchase"].all()
    assert (frame["asin"] != frame["parent_asin"]).sum() == 2  # variants of a parent product
    first = frame.iloc[0]
    assert first["title"] == "Charges my laptop and phone together"
    assert first["images"][0]["attachment_type"] == "IMAGE"


def test_reads_meta_sample_and_joins(sample_root):
    meta = read_reviews2023_meta(sample_root / "reviews2023").frame
    reviews = read_reviews2023(sample_root / "reviews2023").frame
    assert list(meta.columns) == list(META_DTYPES)
    assert len(meta) == 10 + COMPOSED["items"] and meta["parent_asin"].is_unique
    assert set(reviews["parent_asin"]) == set(meta["parent_asin"])
    assert all(isinstance(f, list) and f for f in meta["features"])
    assert all(isinstance(d, dict) for d in meta["details"])
    bought = meta["bought_together"].dropna()
    assert len(bought) == 4 + COMPOSED["bought_together"] and all(set(b) <= set(meta["parent_asin"]) for b in bought)
    power_bank = meta[meta["title"].str.contains("Power Bank")].iloc[0]
    assert math.isnan(power_bank["price"]) and power_bank["bought_together"] is None
    assert meta.iloc[0]["categories"][0] == "Electronics"


def test_single_file_category_filter_and_limit(sample_root):
    folder = sample_root / "reviews2023"
    one = read_reviews2023(folder / "Home_and_Kitchen.jsonl").frame
    per_category = COMPOSED["reviews_per_category"]
    assert len(one) == 20 + per_category["Home_and_Kitchen"] and set(one["category"]) == {"Home_and_Kitchen"}
    assert len(read_reviews2023(folder, categories="Electronics").frame) == 20 + per_category["Electronics"]
    assert len(read_reviews2023(folder, limit=25).frame) == 25
    electronics = read_reviews2023_meta(folder, categories=["Electronics"]).frame
    assert len(electronics) == 5 + COMPOSED["items_per_category"]["Electronics"]
    with pytest.raises(ValueError, match="Home_and_Kitchen"):
        read_reviews2023(folder, categories="Books")
    with pytest.raises(SourceError, match="metadata file"):
        read_reviews2023(folder / "meta_Electronics.jsonl")
    assert category_of(folder / "meta_All_Beauty.jsonl.gz") == "All_Beauty"


def test_gzipped_files_read_the_same(sample_root, tmp_path):
    source = sample_root / "reviews2023" / "Electronics.jsonl"
    (tmp_path / "Electronics.jsonl.gz").write_bytes(gzip.compress(source.read_bytes()))
    frame = read_reviews2023(tmp_path).frame
    assert frame.equals(read_reviews2023(source).frame)


def test_corrupted_reviews(copy_sample):
    folder = copy_sample("reviews2023")
    path = folder / "Electronics.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "{not json\n"
    record = json.loads(lines[4])
    record["rating"] = 7.0
    lines[4] = json.dumps(record) + "\n"
    path.write_text("".join(lines), encoding="utf-8")

    with pytest.raises(SourceError) as info:
        read_reviews2023(path)
    assert "Electronics.jsonl: line 3" in str(info.value) and "not valid JSON" in str(info.value)

    result = read_reviews2023(folder, on_error="skip")
    assert len(result.frame) == 38 + COMPOSED["reviews"] and result.skipped == 2
    assert "line 3" in result.errors[0]
    assert "line 5" in result.errors[1] and "'rating'" in result.errors[1]
    assert "outside 1-5" in result.errors[1]


def test_missing_field_and_wrong_type_in_meta(copy_sample):
    folder = copy_sample("reviews2023")
    path = folder / "meta_Home_and_Kitchen.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = json.loads(lines[0]), json.loads(lines[1])
    del first["parent_asin"]
    second["features"] = "not a list"
    lines[0], lines[1] = json.dumps(first) + "\n", json.dumps(second) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(SourceError, match=r"meta_Home_and_Kitchen\.jsonl: line 1: field 'parent_asin'"):
        read_reviews2023_meta(folder)
    result = read_reviews2023_meta(folder, on_error="skip")
    assert len(result.frame) == 8 + COMPOSED["items"] and result.skipped == 2
    assert "field 'features'" in result.errors[1]
