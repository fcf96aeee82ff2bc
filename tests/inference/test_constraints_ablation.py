"""The constraints-on/off ablation: per-task-type scores and parse failures, as a table and metrics."""

from __future__ import annotations

import pytest

from shoplm.shopbench.constraint_ablation import compare_reports, constraint_ablation
from shoplm.shopbench.parsers import is_parse_failure, parse
from shoplm.shopbench.predictions import load_predictions
from shoplm.shopbench.scoring import score
from tests.inference.constraint_questions import SAMPLE_SET, gold_answer, question_sets

EMBEDDING_METRICS = {"sent-transformer", "multilingual-sent-transformer"}  # need a model folder: left out


@pytest.fixture(scope="module")
def sample():
    """Sample questions scored without embedding models, their shipped predictions (three of which do
    not parse: "Answer: 2", "The answer is 1", "I think 1 and 3"), and the same with those three
    replaced by the gold answer, as constrained decoding would have forced a parseable one."""
    questions = question_sets()["sample"]
    raw = load_predictions(SAMPLE_SET.with_name("predictions.jsonl"))
    keep = [i for i, q in enumerate(questions) if q.metric not in EMBEDDING_METRICS]
    questions, off = [questions[i] for i in keep], [raw[i] for i in keep]
    on = [gold_answer(q) if is_parse_failure(q.task_type, parse(q.task_type, p)) else p
          for q, p in zip(questions, off)]
    return questions, off, on


def test_rows_follow_the_task_types_and_count_parse_failures(sample) -> None:
    questions, off, on = sample
    ablation = constraint_ablation(questions, predictions_on=on, predictions_off=off)
    rows = {row.name: row for row in ablation.rows}
    assert list(rows) == ["multiple-choice", "ranking", "retrieval", "named_entity_recognition",
                          "generation", "all"]
    assert rows["all"].parse_failures == {"off": 3, "on": 0}
    assert rows["multiple-choice"].parse_failures["off"] == 2 and rows["retrieval"].parse_failures["off"] == 1
    assert rows["multiple-choice"].delta > 0 and rows["generation"].delta == 0
    assert sum(row.n for row in ablation.rows[:-1]) == rows["all"].n == len(questions)
    report_on = score(questions, on)
    assert rows["all"].score["on"] == pytest.approx(report_on.track5)
    assert rows["ranking"].score["on"] == pytest.approx(report_on.task_types["ranking"])


def test_table_and_metrics(sample) -> None:
    questions, off, on = sample
    ablation = compare_reports(score(questions, off), score(questions, on))
    lines = ablation.table().splitlines()
    assert lines[0].split() == ["task", "type", "n", "score", "off", "score", "on", "change", "parse",
                                "failures", "off", "on"]
    all_row = next(line for line in lines if line.startswith("all "))
    assert all_row.split()[-2:] == ["3", "0"]
    metrics = ablation.metrics()
    assert metrics["ablation/off/all/parse_failures"] == 3.0 and metrics["ablation/on/all/parse_failures"] == 0.0
    assert metrics["ablation/change/multiple-choice"] == pytest.approx(
        metrics["ablation/on/multiple-choice/score"] - metrics["ablation/off/multiple-choice/score"])
    assert len(metrics) == 6 * 5 and all(isinstance(v, float) for v in metrics.values())
    assert ablation.to_dict()["all"]["parse_failures"] == {"off": 3, "on": 0}


def test_reports_of_different_questions_are_refused(sample) -> None:
    questions, off, on = sample
    with pytest.raises(ValueError, match="different questions"):
        compare_reports(score(questions[:-3], off[:-3]), score(questions, on))


def test_with_the_questions_track5_s_change_carries_its_paired_interval(sample) -> None:
    from shoplm.shopbench.evidence import paired_difference

    questions, off, on = sample
    ablation = constraint_ablation(questions, predictions_on=on, predictions_off=off)
    expected = paired_difference(questions, score(questions, on), score(questions, off))
    assert ablation.change == expected and ablation.change.point == pytest.approx(ablation.rows[-1].delta)
    assert f"Track 5 change on - off: {expected.point:+.4f}, 95% CI [{expected.low:+.4f}, " in ablation.table()
    metrics = ablation.metrics()
    assert (metrics["ablation/change/all_low"], metrics["ablation/change/all_high"]) == (expected.low, expected.high)
    assert ablation.to_dict()["all"]["change_ci"] == [expected.low, expected.high]
