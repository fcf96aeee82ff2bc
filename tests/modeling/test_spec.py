"""``TinyModelSpec`` validation: 4-bit group sizes, heads, unknown keys, corpus lookup."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from shoplm.params.base import TinyModelSpec


def test_defaults_are_valid_and_quantizable() -> None:
    spec = TinyModelSpec()
    assert spec.head_dim == 64
    for group in (64, 128):
        assert spec.hidden_size % group == 0 and spec.intermediate_size % group == 0
    assert spec.max_position_embeddings >= 3072
    assert spec.vocab_size % 64 == 0
    assert spec.resolved_corpus().is_file()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hidden_size": 200, "num_heads": 4}, "hidden_size=200 is not divisible by the 4-bit group size 64"),
        ({"intermediate_size": 576}, "intermediate_size=576 is not divisible by the 4-bit group size 128"),
        ({"num_heads": 3}, "not divisible by num_heads=3"),
        ({"num_kv_heads": 3}, "num_heads=4 is not divisible by num_kv_heads=3"),
        ({"vocab_size": 3000}, "vocab_size=3000 is not a multiple of 64"),
        ({"max_position_embeddings": 2048}, "3072"),
        ({"pretrain_seq_len": 8192, "max_position_embeddings": 4096}, "exceeds max_position_embeddings"),
    ],
)
def test_rejects_invalid_dims(overrides, message) -> None:
    with pytest.raises(ValidationError, match=message):
        TinyModelSpec(**overrides)


def test_rejects_unknown_keys() -> None:
    with pytest.raises(ValidationError, match="hidden_sise"):
        TinyModelSpec(hidden_sise=256)


def test_other_group_sizes() -> None:
    assert TinyModelSpec(hidden_size=192, intermediate_size=384, num_heads=3, num_kv_heads=1,
                         quant_group_sizes=(32, 64)).head_dim == 64
    with pytest.raises(ValidationError, match="hidden_size=256 is not divisible by the 4-bit group size 1024"):
        TinyModelSpec(quant_group_sizes=(64, 1024))


def test_round_trips_through_json() -> None:
    spec = TinyModelSpec(pretrain_steps=7)
    assert TinyModelSpec.model_validate_json(spec.model_dump_json()) == spec


def test_corpus_is_found_from_any_working_directory(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert TinyModelSpec().resolved_corpus().is_file()
    with pytest.raises(FileNotFoundError, match="python -m data.generators.corpus"):
        TinyModelSpec(corpus=Path("nowhere/corpus.txt")).resolved_corpus()
