"""Models side by side with intervals: a clear gain is marked, a tie is called noise, and the numbers are
those of shoplm.shopbench.evidence on the same questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoplm.shopbench.comparison import compare
from shoplm.shopbench.evidence import interval, paired_difference
from shoplm.shopbench.records import load_questions

SAMPLE = Path(__file__).resolve().parents[2] / "data/sample/shopbench/questions.jsonl"


def _samples(questions, right: set[int]) -> list[dict]:
    """Per-sample rows as samples.jsonl holds them: question i answered right when i is in ``right``."""
    rows = []
    for i, q in enumerate(questions):
        good = i in right
        value = ([1, 0, 0] if good else [0, 1, 1]) if q.metric == "micro f1" else (1.0 if good else 0.0)
        rows.append({"task_name": q.task_name, "metric": q.metric, "score": value})
    return rows


@pytest.fixture(scope="module")
def questions():
    return load_questions(SAMPLE)


def test_a_model_right_everywhere_is_marked_and_a_copy_of_the_reference_is_noise(questions):
    n = len(questions)
    scored = {"zero-shot": _samples(questions, set(range(0, n, 3))),
              "copy": _samples(questions, set(range(0, n, 3))),
              "oracle": _samples(questions, set(range(n)))}
    comparison = compare(questions, scored, reference="zero-shot")
    rows = {row.name: row for row in comparison.rows}
    assert [row.name for row in comparison.rows] == ["zero-shot", "copy", "oracle"]
    assert rows["oracle"].difference.excludes_zero and rows["oracle"].difference.point > 0.5
    assert not rows["copy"].difference.excludes_zero
    assert (rows["copy"].difference.low, rows["copy"].difference.high) == (0.0, 0.0)
    lines = comparison.table().splitlines()
    assert lines[2].startswith("copy") and not lines[2].endswith("*")
    assert lines[3].startswith("oracle") and lines[3].endswith("*")
    assert f"{n} questions" in lines[-1] and "inside the noise" in lines[-1]
    assert comparison.verdict("copy").startswith("copy is not told apart from zero-shot")
    assert comparison.verdict("oracle").startswith("oracle is better than zero-shot")


def test_the_figures_are_evidence_s_own(questions):
    n = len(questions)
    a, b = _samples(questions, set(range(0, n, 2))), _samples(questions, set(range(1, n, 3)))
    comparison = compare(questions, {"b": b, "a": a}, reference="b")
    row = comparison.rows[1]
    assert row.score == interval(questions, a)
    assert row.difference == paired_difference(questions, a, b)
    metrics = comparison.metrics("compare/sample")
    assert metrics["compare/sample/a/change_vs_b_low"] == row.difference.low
    assert metrics["compare/sample/b/track5_high"] == comparison.rows[0].score.high
    assert metrics["compare/sample/mde"] == comparison.mde > 0


def test_the_reference_must_be_one_of_the_models(questions):
    with pytest.raises(ValueError, match="reference model 'zero-shot'"):
        compare(questions, {"v7": _samples(questions, set())}, reference="zero-shot")
