"""The per-sample metrics (shared/docs/shopbench-eval-spec.md, "Per-sample metrics"), values by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from shoplm.registry import UnknownNameError
from shoplm.shopbench import embeddings
from shoplm.shopbench.metrics import (
    METRIC_REGISTRY,
    accuracy,
    bleu,
    f1_from_counts,
    get_metric,
    hit_rate_at_3,
    jp_bleu,
    micro_f1_counts,
    ndcg,
    rouge_l,
)
from shoplm.shopbench.records import METRICS


def test_registry_holds_the_nine_metrics_and_rejects_unknown_names() -> None:
    assert list(METRIC_REGISTRY) == list(METRICS)
    with pytest.raises(UnknownNameError, match="unknown metric 'acuracy'. Did you mean 'accuracy'"):
        get_metric("acuracy")


def test_accuracy() -> None:
    assert accuracy(2, 2) == 1.0
    assert accuracy(-1, 2) == 0.0


def test_hit_rate_at_3() -> None:
    assert hit_rate_at_3([9, 6, 1], [6, 9, 15]) == pytest.approx(2 / 3)  # hits {6, 9} of 3 gold
    assert hit_rate_at_3([9, 9, 9], [6, 9, 15]) == pytest.approx(1 / 3)  # a set: 9 counts once
    assert hit_rate_at_3([1, 2, 3, 6], [6, 9, 15]) == 0.0  # only parsed[:3] counts
    assert hit_rate_at_3([4, 1, 2], [4]) == 1.0  # one gold index: 1/1
    assert hit_rate_at_3([], [4]) == 0.0


GOLD = [1, 0.01, 0.1, 1, 0]  # relevance of candidates 1..5 in prompt order


def _gain(rel: float, position: int) -> float:
    return (2**rel - 1) / math.log2(position + 1)


def test_ndcg_of_the_ideal_order_is_one() -> None:
    assert ndcg([1, 4, 3, 2, 5], GOLD) == pytest.approx(1.0)


def test_ndcg_by_hand() -> None:
    # parsed [2, 1]: DCG = (2^0.01 - 1)/log2(2) + (2^1 - 1)/log2(3)
    dcg = (2**0.01 - 1) / 1 + (2**1 - 1) / math.log2(3)
    # IDCG over gold sorted descending [1, 1, 0.1, 0.01, 0]
    idcg = 1 / 1 + 1 / math.log2(3) + (2**0.1 - 1) / 2 + (2**0.01 - 1) / math.log2(5) + 0
    assert ndcg([2, 1], GOLD) == pytest.approx(dcg / idcg)
    assert dcg / idcg == pytest.approx(0.38201, abs=1e-5)


def test_ndcg_index_zero_reads_the_last_candidate() -> None:
    gold = [0, 0, 0, 0, 1]  # only candidate 5 is relevant
    # predicted 0 reads gold[0 - 1] = gold[-1] = 1: DCG = (2^1 - 1)/log2(2) = 1 = IDCG
    assert ndcg([0], gold) == pytest.approx(1.0)
    assert ndcg([1], gold) == 0.0


def test_ndcg_cuts_the_prediction_to_the_gold_length() -> None:
    gold = [0, 1]
    # [2, 1, 2] -> [2, 1]: DCG = (2^1-1)/log2(2) + 0 = 1 = IDCG
    assert ndcg([2, 1, 2], gold) == pytest.approx(1.0)
    # [1, 2]: DCG = 0 + (2^1-1)/log2(3); IDCG = 1
    assert ndcg([1, 2], gold) == pytest.approx(1 / math.log2(3))
    # a candidate past the end of gold has relevance 0
    assert ndcg([3, 1], gold) == 0.0


def test_ndcg_is_zero_when_no_candidate_is_relevant_and_leaves_gold_unchanged() -> None:
    assert ndcg([1, 2, 3, 4, 5], [0, 0, 0, 0, 0]) == 0.0  # IDCG = 0
    gold = list(GOLD)
    ndcg([1, 2], gold)
    assert gold == GOLD  # the original sorted gold in place; we must not


def test_micro_f1_counts() -> None:
    # lower-cased and space-stripped -> ["nike", "nike", "adidas"] vs gold ["nike"]
    # tp = |{nike, adidas} ∩ {nike}| = 1; fp = 3 - 1 = 2 (the duplicate counts); fn = 1 - 1 = 0
    assert micro_f1_counts(["Nike ", " nike", "Adidas"], ["Nike"]) == (1, 2, 0)
    assert micro_f1_counts([], ["mens", "vinyl"]) == (0, 0, 2)
    # the original stripped spaces only (lstrip(" ").rstrip(" ")), not tabs or newlines
    assert micro_f1_counts(["\tnike"], ["nike"]) == (0, 1, 1)


def test_f1_from_summed_counts() -> None:
    # tp=1, fp=1, fn=3: P = 1/2, R = 1/4, F1 = 2 * 1/2 * 1/4 / (3/4) = 1/3
    assert f1_from_counts([(1, 0, 0), (0, 1, 3)]) == pytest.approx(1 / 3)
    assert f1_from_counts([(0, 2, 1)]) == 0.0  # P + R = 0
    assert f1_from_counts([(0, 0, 0)]) == 0.0  # nothing predicted, nothing to find


def test_rouge_l() -> None:
    assert rouge_l("incredibly soft", "incredibly soft") == pytest.approx(1.0)
    # tokens (stemmed): [the, strap, dig] vs [strap, dig, into, my, shoulder]; LCS = 2
    # P = 2/3, R = 2/5, F = 2PR/(P+R) = (8/15)/(16/15) = 0.5
    assert rouge_l("the straps dig", "straps dig into my shoulders") == pytest.approx(0.5)


def test_rouge_l_drops_non_ascii_text() -> None:
    # The default tokenizer keeps [a-z0-9] only: both sides tokenize to nothing, F = 0.
    assert rouge_l("陶器製 コーヒーマグ", "陶器製 コーヒーマグ") == 0.0


def test_bleu_by_hand() -> None:
    # "a b c d e" vs "a b c d f": n-gram precisions 4/5, 3/4, 2/3, 1/2; equal lengths, BP = 1
    expected = (4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** (1 / 4)  # = 0.2 ** 0.25 = 0.6687
    assert bleu("a b c d e", "a b c d f") == pytest.approx(expected)


def test_bleu_scores_the_first_line_lower_cased() -> None:
    reference = "Kids Waterproof Rain Jacket"
    assert bleu("\n\nkids waterproof rain jacket\nmore text", reference) == pytest.approx(1.0)
    assert bleu("more text\nKids Waterproof Rain Jacket", reference) == 0.0


def test_bleu_under_four_tokens_is_zero() -> None:
    # no effective order: a 3-token hypothesis has no 4-gram, so even an exact match scores 0
    assert bleu("rain jacket blue", "rain jacket blue") == 0.0


def test_jp_bleu_tokenizes_japanese() -> None:
    text = "陶器製のコーヒーマグです"
    # 13a sees one token (< 4 tokens -> 0); MeCab splits it into words
    assert bleu(text, text) == 0.0
    assert jp_bleu(text, text) == pytest.approx(1.0)


VECTORS = {"a": [1, 0], "b": [-1, 0], "c": [0, 1], "d": [1, 1]}


def test_sentence_similarity_clips_at_zero_and_averages_references(fake_encoder) -> None:
    models, _ = fake_encoder(VECTORS)
    metric = get_metric("sent-transformer")
    scores = metric.score_batch(["a", "a", "a", "a"], ["d", "b", ["c", "d"], ["a", "b"]], models)
    assert scores[0] == pytest.approx(1 / math.sqrt(2))  # cos 45°
    assert scores[1] == 0.0  # cos = -1, clipped
    assert scores[2] == pytest.approx((0 + 1 / math.sqrt(2)) / 2)  # mean of cos 90° and cos 45°
    # mean(1, -1) = 0 then clipped: 0, not the 0.5 that clipping each cosine first would give
    assert scores[3] == 0.0


def test_embedding_texts_are_encoded_in_one_batch(fake_encoder) -> None:
    models, encoder = fake_encoder(VECTORS)
    get_metric("sent-transformer").score_batch(["a", "b", "c"], ["d", "d", ["a", "c"]], models)
    assert len(encoder.calls) == 1  # one encode call for 3 samples
    assert sorted(encoder.calls[0]) == ["a", "b", "c", "d"]  # distinct texts only


def test_sentence_model_is_loaded_once_per_path(monkeypatch, tmp_path: Path) -> None:
    import sentence_transformers

    constructed: list[str] = []

    class CountingModel:
        def __init__(self, path: str, **kwargs: object) -> None:
            constructed.append(path)

        def encode(self, texts, **kwargs):
            import numpy as np

            return np.ones((len(texts), 3), dtype=np.float32)

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", CountingModel)
    models = embeddings.MetricModels(sentence_model=tmp_path, multilingual_model=None)
    metric = get_metric("sent-transformer")
    try:
        assert metric.score_batch(["x"], ["y"], models) == [pytest.approx(1.0)]
        assert metric.score_batch(["z"], ["y"], models) == [pytest.approx(1.0)]
        assert constructed == [str(tmp_path.resolve())]
    finally:
        embeddings._LOADED.pop(str(tmp_path.resolve()), None)


def test_missing_multilingual_model_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.delenv(embeddings.MULTILINGUAL_ENV, raising=False)
    metric = get_metric("multilingual-sent-transformer")
    with pytest.raises(embeddings.MissingModelError, match="SHOPLM_MULTILINGUAL_MODEL.*--multilingual-model"):
        metric.score_batch(["hola"], ["hola"], embeddings.MetricModels())
    # no sample, no model needed
    assert metric.score_batch([], [], embeddings.MetricModels()) == []


def test_multilingual_model_defaults_to_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(embeddings.MULTILINGUAL_ENV, str(tmp_path))
    assert embeddings.MetricModels().path_for("multilingual-sent-transformer") == tmp_path


def test_real_minilm_similarity(minilm_path: Path) -> None:
    models = embeddings.MetricModels(sentence_model=minilm_path)
    same, other = get_metric("sent-transformer").score_batch(
        ["A yoga mat is a non-slip pad.", "Garden hose nozzle"],
        ["A yoga mat is a non-slip pad.", "A yoga mat is a non-slip pad."],
        models,
    )
    assert same == pytest.approx(1.0, abs=1e-5)
    assert 0.0 <= other < 0.5
