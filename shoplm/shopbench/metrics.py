"""The nine per-sample ShopBench metrics, as the organisers' `metrics.py` computed them.

Rules and quirks: shared/docs/shopbench-eval-spec.md, "Per-sample metrics". Every metric scores a whole
batch of (parsed answer, gold) pairs through `score_batch`, so the embedding metrics can encode all
their texts at once; the per-sample functions are public for tests and for other stages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from shoplm.registry import Registry
from shoplm.shopbench.embeddings import (
    MetricModels,
    encode_texts,
    load_sentence_model,
    similarity_score,
)

SampleScore = float | tuple[int, int, int]  # micro f1 returns counts, summed per task later

__all__ = [
    "METRIC_REGISTRY",
    "MetricModels",
    "SampleScore",
    "accuracy",
    "bleu",
    "get_metric",
    "hit_rate_at_3",
    "jp_bleu",
    "micro_f1_counts",
    "ndcg",
    "rouge_l",
]


def accuracy(parsed: int, gold: int) -> float:
    return 1.0 if parsed == gold else 0.0


def hit_rate_at_3(parsed: Sequence[int], gold: Sequence[int]) -> float:
    """|set(gold) ∩ set(parsed[:3])| / len(gold): a repeated hit counts once."""
    return len(set(gold) & set(parsed[:3])) / len(gold)


def _relevance(candidate: int, gold: Sequence[float]) -> float:
    # Quirk kept from the original: candidate k reads gold[k - 1], so candidate 0 reads gold[-1],
    # the LAST candidate (Python negative index). A candidate past the end has relevance 0.
    return gold[candidate - 1] if candidate - 1 < len(gold) else 0.0


def ndcg(parsed: Sequence[int], gold: Sequence[float]) -> float:
    """NDCG with gains 2^rel - 1 and discount log2(position + 1), positions from 1.

    The prediction is cut to len(gold); the ideal ordering is gold sorted descending (the original
    sorted the gold list in place; we do not mutate it). IDCG = 0 scores 0 instead of dividing by 0.
    """
    ranked = list(parsed)[: len(gold)]
    dcg = sum(
        (2.0 ** _relevance(k, gold) - 1) / math.log2(position + 1)
        for position, k in enumerate(ranked, start=1)
    )
    ideal = sorted(gold, reverse=True)
    idcg = sum((2.0**rel - 1) / math.log2(position + 1) for position, rel in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


def micro_f1_counts(parsed: Sequence[str], gold: Sequence[str]) -> tuple[int, int, int]:
    """(tp, fp, fn) of one sample; F1 is computed per task from the summed counts.

    Predictions are lower-cased and stripped of spaces (the original used lstrip(" ").rstrip(" "),
    spaces only), gold only lower-cased. tp counts distinct matches, while fp counts every predicted
    item that is not one, duplicates included.
    """
    predicted = [item.lower().strip(" ") for item in parsed]
    truth = [item.lower() for item in gold]
    tp = len(set(predicted) & set(truth))
    return tp, len(predicted) - tp, len(truth) - tp


def f1_from_counts(counts: Sequence[tuple[int, int, int]]) -> float:
    tp = sum(c[0] for c in counts)
    fp = sum(c[1] for c in counts)
    fn = sum(c[2] for c in counts)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer

    # Default tokenizer: lower-case, every non [a-z0-9] character becomes a space, so non-ASCII text
    # (Japanese, accented letters) vanishes. use_stemmer=True as in the original.
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def _references(gold: str | Sequence[str]) -> list[str]:
    return [gold] if isinstance(gold, str) else list(gold)


def rouge_l(parsed: str, gold: str | Sequence[str]) -> float:
    """ROUGE-L F-measure. A list of references (outside the spec) takes the best one."""
    scorer = _rouge_scorer()
    return max(scorer.score(ref, parsed)["rougeL"].fmeasure for ref in _references(gold))


@lru_cache(maxsize=None)
def _bleu_metric(tokenize: str) -> Any:
    from sacrebleu.metrics import BLEU

    # sacrebleu 2.4.1 defaults as `evaluate`'s sacrebleu wrapper used them: smooth "exp",
    # no effective order (so a hypothesis under 4 tokens has no 4-grams and scores 0).
    return BLEU(lowercase=True, tokenize=tokenize, smooth_method="exp", effective_order=False)


def _first_line(text: str) -> str:
    # Spec: leading/trailing newlines removed, then only the FIRST line is the hypothesis.
    return text.strip("\n").split("\n")[0]


def _bleu(parsed: str, gold: str | Sequence[str], tokenize: str) -> float:
    # One reference per the spec; a list of references (outside the spec) is passed to sacrebleu as
    # multiple references, one stream each.
    streams = [[ref] for ref in _references(gold)]
    return _bleu_metric(tokenize).corpus_score([_first_line(parsed)], streams).score / 100


def bleu(parsed: str, gold: str | Sequence[str]) -> float:
    return _bleu(parsed, gold, "13a")


def jp_bleu(parsed: str, gold: str | Sequence[str]) -> float:
    return _bleu(parsed, gold, "ja-mecab")  # sacrebleu[ja]: mecab-python3 + ipadic


class Metric(Protocol):
    name: str

    def score_batch(
        self, parsed: Sequence[Any], golds: Sequence[Any], models: MetricModels | None
    ) -> list[SampleScore]: ...


@dataclass(frozen=True)
class PerSampleMetric:
    name: str
    function: Callable[[Any, Any], SampleScore]

    def score_batch(
        self, parsed: Sequence[Any], golds: Sequence[Any], models: MetricModels | None = None
    ) -> list[SampleScore]:
        return [self.function(p, g) for p, g in zip(parsed, golds, strict=True)]


@dataclass(frozen=True)
class EmbeddingSimilarity:
    """Cosine of sentence embeddings, clipped at 0; all texts of the batch in one encode call."""

    name: str

    def score_batch(
        self, parsed: Sequence[str], golds: Sequence[Any], models: MetricModels | None = None
    ) -> list[SampleScore]:
        if not parsed:
            return []
        model = load_sentence_model((models or MetricModels()).path_for(self.name))
        texts = list(parsed) + [ref for gold in golds for ref in _references(gold)]
        vectors = encode_texts(model, texts)
        return [similarity_score(p, g, vectors) for p, g in zip(parsed, golds, strict=True)]


METRIC_REGISTRY: Registry[Metric] = Registry("metric")
for _metric, _doc in (
    (PerSampleMetric("accuracy", accuracy), "1 when the parsed option is the gold one"),
    (PerSampleMetric("hit rate@3", hit_rate_at_3), "share of gold items among the first 3 answered"),
    (PerSampleMetric("ndcg", ndcg), "NDCG of the answered ranking against gold relevances"),
    (PerSampleMetric("micro f1", micro_f1_counts), "entity counts (tp, fp, fn), F1 per task"),
    (PerSampleMetric("rougel", rouge_l), "ROUGE-L F-measure (ASCII words, stemmed)"),
    (EmbeddingSimilarity("sent-transformer"), "all-MiniLM-L6-v2 cosine, clipped at 0"),
    (EmbeddingSimilarity("multilingual-sent-transformer"),
     "paraphrase-multilingual-MiniLM-L12-v2 cosine, clipped at 0"),
    (PerSampleMetric("bleu", bleu), "sacrebleu BLEU of the first line (13a tokens)"),
    (PerSampleMetric("jp-bleu", jp_bleu), "sacrebleu BLEU of the first line (ja-mecab tokens)"),
):
    METRIC_REGISTRY.add(_metric.name, _metric, doc=_doc)


def get_metric(name: str) -> Metric:
    """The metric registered as ``name``; an unknown name raises ``UnknownNameError``."""
    return METRIC_REGISTRY.get(name)
