"""Each answer text's score under the official rules (parser + the question's metric), one per text.

Preference pairs need it per sample: a rejected answer is only worth training against when it scores
strictly below the chosen one (a shuffled ranking whose swapped items have equal ESCI gains scores
the same NDCG; "2. the second" parses as "2"). Texts are scored one metric at a time, so the
embedding metrics encode all their texts at once. ``micro f1`` scores a single sample as the F1 of
its own counts. A metric that cannot be computed here (the multilingual model is not installed)
gives ``None`` for its texts, and callers skip them rather than guess.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

from shoplm.shopbench.embeddings import MetricModels, MissingModelError
from shoplm.shopbench.metrics import f1_from_counts, get_metric
from shoplm.shopbench.parsers import parse
from shoplm.shopbench.records import Question

log = logging.getLogger(__name__)


def official_scores(questions: Sequence[Question], texts: Sequence[str],
                    models: MetricModels | None = None) -> list[float | None]:
    """``texts[i]`` scored as the answer to ``questions[i]``; None where the metric is unavailable."""
    if len(questions) != len(texts):
        raise ValueError(f"{len(texts)} texts for {len(questions)} questions")
    by_metric: dict[str, list[int]] = defaultdict(list)
    for index, question in enumerate(questions):
        by_metric[question.metric].append(index)
    scores: list[float | None] = [None] * len(texts)
    for metric, indices in by_metric.items():
        parsed = [parse(questions[i].task_type, texts[i]) for i in indices]
        try:
            values = get_metric(metric).score_batch(parsed, [questions[i].output_field for i in indices], models)
        except MissingModelError as exc:
            log.warning("cannot score %d answers with %r (%s): they make no preference pairs", len(indices),
                        metric, exc)
            continue
        for i, value in zip(indices, values, strict=True):
            scores[i] = f1_from_counts([value]) if isinstance(value, tuple) else float(value)
    return scores
