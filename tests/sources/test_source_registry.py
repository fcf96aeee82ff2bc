from __future__ import annotations

import inspect

import pytest

from shoplm.registry import UnknownNameError
from shoplm.sources import (
    SOURCES,
    get_reader,
    read_esci,
    read_source,
    sample_path,
)

from .conftest import COMPOSED


def test_lookup_and_default_sample():
    assert get_reader("esci") is read_esci
    assert SOURCES.describe()["esci"] == "Read ESCI query-product judgements joined with product text."
    assert len(read_source("mmlu")) == 27 + COMPOSED["mmlu_test"]
    assert len(read_source("alpaca", limit=2)) == 2
    assert sample_path("mmlu").parts[-2:] == ("mmlu", "data")


def test_unknown_name_lists_known_ones():
    with pytest.raises(UnknownNameError) as info:
        get_reader("escii")
    message = str(info.value)
    assert "Did you mean 'esci'" in message
    for name in SOURCES:
        assert name in message
    with pytest.raises(UnknownNameError):
        read_source("amazon_reviews")


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_reader_reads_its_sample_and_documents_its_columns(name):
    result = read_source(name)
    assert len(result.frame) > 0 and result.skipped == 0 and result.files
    doc = inspect.getdoc(get_reader(name))
    for column in result.frame.columns:
        assert f"\n{column} " in doc, f"{name}: column {column!r} is not documented"
    empty = read_source(name, limit=0).frame  # same columns and dtypes when nothing is read
    assert len(empty) == 0 and list(empty.dtypes) == list(result.frame.dtypes)
    with pytest.raises(ValueError, match="on_error"):
        read_source(name, on_error="ignore")
    with pytest.raises(ValueError, match="limit"):
        read_source(name, limit=-1)
