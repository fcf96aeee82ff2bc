"""A byte that is not UTF-8 is one bad row, named by file, row and field: raised under
``on_error="raise"``, skipped and counted under ``"skip"``, never a crash of the whole read."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shoplm.sources import (
    SourceError,
    read_alpaca,
    read_amazon_m2_products,
    read_amazon_m2_sessions,
    read_ecinstruct,
    read_esci,
    read_mmlu,
    read_reviews2023,
)

BAD = b"\xff"  # never valid in UTF-8


def _append_line(path: Path, line: bytes) -> int:
    """Append one physical line; return its 1-based number."""
    data = path.read_bytes()
    path.write_bytes(data + line + b"\n")
    return data.count(b"\n") + 1


def _check(read, path: Path, where: str, rows_when_clean: int) -> None:
    with pytest.raises(SourceError) as info:
        read(path)
    assert where in str(info.value)
    assert "not UTF-8: byte 0xff" in str(info.value)
    result = read(path, on_error="skip")
    assert result.skipped == 1 and len(result.frame) == rows_when_clean
    assert where in result.errors[0]


def test_csv_without_header(copy_sample, sample_root) -> None:
    folder = copy_sample("mmlu")
    path = folder / "data" / "test" / "marketing_test.csv"
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1][:5] + BAD + lines[1][5:]  # inside the question
    path.write_bytes(b"\n".join(lines))
    clean = len(read_mmlu(sample_root / "mmlu").frame)
    _check(read_mmlu, folder, "marketing_test.csv: line 2: field 'question'", clean - 1)


def test_csv_with_header(copy_sample, sample_root) -> None:
    folder = copy_sample("amazon_m2")
    sessions, products = folder / "sessions_train.csv", folder / "products_train.csv"
    line = _append_line(sessions, b"\"['B0AAAAAAA1' 'B0AAAAAAA2']\",B0AAA" + BAD + b"AAA3,DE")
    clean = len(read_amazon_m2_sessions(sample_root / "amazon_m2").frame)
    _check(read_amazon_m2_sessions, folder, f"line {line}: field 'next_item'", clean)
    line = _append_line(products, b"B0AAAAAAA1,UK,Cable,1.5,Brand,Grey,,,,,Caf" + BAD + b" cable")
    clean = len(read_amazon_m2_products(sample_root / "amazon_m2").frame)
    _check(read_amazon_m2_products, folder, f"line {line}: field 'desc'", clean)


def test_json_lines(copy_sample, sample_root) -> None:
    folder = copy_sample("reviews2023")
    path = folder / "Electronics.jsonl"
    record = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    text = json.dumps(record | {"text": "Great"}).replace("Great", "Gre\udcffat")
    line = _append_line(path, text.encode("utf-8", "surrogateescape"))
    clean = len(read_reviews2023(sample_root / "reviews2023").frame)
    _check(read_reviews2023, folder, f"Electronics.jsonl: line {line}: field 'text'", clean)


@pytest.mark.parametrize(("read", "folder", "file", "key"), [
    (read_alpaca, "alpaca", "alpaca_data_cleaned.json", "output"),
    (read_ecinstruct, "ecinstruct", "dataset.json", "instruction"),
])
def test_json_arrays(read, folder, file, key, copy_sample, sample_root) -> None:
    copy = copy_sample(folder)
    path = copy / file
    records = json.loads(path.read_text(encoding="utf-8"))
    records[2][key] = "Caf\udcffe " + records[2][key]
    path.write_bytes(json.dumps(records, ensure_ascii=False).encode("utf-8", "surrogateescape"))
    clean = len(read(sample_root / folder).frame)
    _check(read, copy, f"{file}: row index 2: field '{key}'", clean - 1)


def _corrupt_parquet(path: Path, column: str, row: int) -> None:
    """Rewrite a parquet file with one string value whose bytes are not UTF-8."""
    table = pq.read_table(path)
    values = table.column(column).cast(pa.binary()).to_pylist()
    values[row] = values[row][:3] + BAD + values[row][3:]
    raw = pa.array(values, type=pa.binary())
    strings = pa.Array.from_buffers(pa.string(), len(raw), raw.buffers(), raw.null_count)
    pq.write_table(table.set_column(table.schema.get_field_index(column), column, strings), path)


EVERYTHING = {"split": ["train", "test"]}


def test_parquet_examples(copy_sample, sample_root) -> None:
    folder = copy_sample("esci")
    everything = EVERYTHING
    clean = read_esci(sample_root / "esci", **everything).frame
    _corrupt_parquet(folder / "shopping_queries_dataset_examples.parquet", "query", 3)
    with pytest.raises(SourceError, match="examples.parquet: row index 3: field 'query': not UTF-8"):
        read_esci(folder, **everything)
    result = read_esci(folder, on_error="skip", **everything)
    assert result.skipped == 1 and len(result.frame) == len(clean) - 1



def test_parquet_products(copy_sample, sample_root) -> None:
    folder = copy_sample("esci")
    everything = EVERYTHING
    clean = read_esci(sample_root / "esci", **everything).frame
    products = pq.read_table(folder / "shopping_queries_dataset_products.parquet").to_pandas()
    row = int(products.index[products["product_id"] == clean["product_id"].iloc[0]][0])
    _corrupt_parquet(folder / "shopping_queries_dataset_products.parquet", "product_title", row)
    with pytest.raises(SourceError, match=f"products.parquet: row index {row}: field 'product_title'"):
        read_esci(folder, **everything)
    result = read_esci(folder, on_error="skip", **everything)
    assert result.skipped == 1 and len(result.frame) == len(clean)
    assert result.frame["product_title"].isna().sum() == clean["product_title"].isna().sum() + 1
