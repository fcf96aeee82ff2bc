from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shoplm.sources import SourceError, read_esci
from shoplm.sources.esci import COLUMNS, EXAMPLES_FILE, PRODUCTS_FILE

from .conftest import COMPOSED

BOTH = ["train", "test"]  # the sample has 52 train and 18 test judgements written by hand, and the composed ones


def test_reads_sample_with_documented_columns(sample_root):
    result = read_esci(sample_root / "esci", split=BOTH)
    frame = result.frame
    assert result.skipped == 0 and result.errors == []
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 70 + COMPOSED["esci_judgements"]
    assert frame["query_id"].nunique() == 12 + COMPOSED["esci_queries"]
    assert frame.groupby("query_id").size().between(5, 8).all()
    assert set(frame["esci_label"]) == {"E", "S", "C", "I"}
    assert set(frame["product_locale"]) == {"us", "es", "jp"}
    assert str(frame["example_id"].dtype) == "int64"
    assert frame["query"].dtype == "str"
    assert frame["product_title"].notna().all()
    first = frame.iloc[0]
    assert first["query"] == "wireless mouse" and first["esci_label"] == "E"
    assert first["product_bullets"][0] == "Contoured right-hand shape with thumb rest"
    assert first["product_bullet_point"].split("\n") == first["product_bullets"]


def test_join_uses_product_id_and_locale(sample_root):
    frame = read_esci(sample_root / "esci", split=BOTH).frame
    # The same ASIN is judged in us and es; each row must carry its own locale's text.
    locales = frame.groupby("product_id")["product_locale"].nunique()
    shared = locales[locales > 1].index
    assert len(shared) == 1
    case = frame[frame["product_id"] == shared[0]]
    by_locale = {row.product_locale: row.product_title for row in case.itertuples()}
    assert by_locale["us"].startswith("Cellwise Slim Silicone Case")
    assert by_locale["es"].startswith("Cellwise Funda de silicona")


def test_training_data_defaults_to_the_train_split(sample_root):
    """The test split is where evaluation-like questions come from: reading it must be asked for."""
    path = sample_root / "esci"
    default = read_esci(path).frame
    assert set(default["split"]) == {"train"} and len(default) == 52 + COMPOSED["esci_judgements"]
    assert set(read_esci(path, split=BOTH).frame["split"]) == {"train", "test"}
    with pytest.raises(ValueError, match=r"\['train', 'test'\]"):
        read_esci(path, split=None)


def test_filters_and_limit(sample_root):
    path = sample_root / "esci"
    assert set(read_esci(path, locales="us").frame["product_locale"]) == {"us"}
    small = read_esci(path, version="small", split=BOTH).frame
    assert (small["small_version"] == 1).all() and len(small) < 70 + COMPOSED["esci_judgements"]
    assert set(read_esci(path, split="test").frame["split"]) == {"test"}
    assert len(read_esci(path, limit=5).frame) == 5
    local = read_esci(path / EXAMPLES_FILE, locales=["es", "jp"], split=BOTH).frame
    assert len(local) == 10 + COMPOSED["esci_local_judgements"]
    with pytest.raises(ValueError, match="known"):
        read_esci(path, locales="en")


def _rewrite(folder, name, change):
    table = pq.read_table(folder / name)
    pq.write_table(change(table), folder / name)


def test_bad_label_raises_naming_file_row_and_field(copy_sample):
    folder = copy_sample("esci")

    def bad_label(table):
        labels = table.column("esci_label").to_pylist()
        labels[3] = "X"
        index = table.schema.get_field_index("esci_label")
        return table.set_column(index, "esci_label", pa.array(labels))

    _rewrite(folder, EXAMPLES_FILE, bad_label)
    with pytest.raises(SourceError) as info:
        read_esci(folder, split=BOTH)
    message = str(info.value)
    assert EXAMPLES_FILE in message and "row index 3" in message and "esci_label" in message
    assert "'X'" in message

    result = read_esci(folder, on_error="skip", split=BOTH)
    assert len(result.frame) == 69 + COMPOSED["esci_judgements"] and result.skipped == 1
    assert "row index 3" in result.errors[0]
    assert 3 not in set(result.frame["example_id"])


def test_missing_column_always_raises(copy_sample):
    folder = copy_sample("esci")
    _rewrite(folder, PRODUCTS_FILE, lambda t: t.drop_columns(["product_title"]))
    for policy in ("raise", "skip"):
        with pytest.raises(SourceError, match=f"{PRODUCTS_FILE}.*product_title"):
            read_esci(folder, on_error=policy)


def test_duplicate_product_row_is_reported(copy_sample):
    folder = copy_sample("esci")
    _rewrite(folder, PRODUCTS_FILE, lambda t: pa.concat_tables([t, t.slice(0, 1)]))
    with pytest.raises(SourceError, match="duplicate"):
        read_esci(folder, split=BOTH)
    result = read_esci(folder, on_error="skip", split=BOTH)
    assert result.skipped == 1 and len(result.frame) == 70 + COMPOSED["esci_judgements"]


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=EXAMPLES_FILE):
        read_esci(tmp_path)
