"""Bootstrap intervals (shoplm.shopbench.evidence) against the official scorer and a brute-force loop."""

from __future__ import annotations

import time

import numpy as np
import pytest

from shoplm.shopbench.answers import render_gold
from shoplm.shopbench.evidence import (
    bootstrap_indices,
    interval,
    minimum_detectable_difference,
    official_value,
    paired_difference,
    pooled_samples,
    resample_scores,
    sample_table,
    standard_error,
)
from shoplm.shopbench.records import TRACK_SHORT_NAMES, TRACKS
from shoplm.shopbench.scoring import score

T1, T2, T3, T4 = TRACKS

# (task, task type, track, gold, [predictions]): 40 questions, four metrics, three tracks.
_MIXED = [
    ("task1", "multiple-choice", T1, 2, ["2", "1", "2", "2", "3", "2", "2", "0", "2", "1"]),
    ("task2", "named_entity_recognition", T1, ["nike", "red"],
     ["nike", "blue", "nike, red", "", "red", "nike, red, shoe", "x", "nike"]),
    ("task3", "ranking", T2, [1, 0.01, 0.1, 1, 0],
     ["1,4,3,2,5", "5,4,3,2,1", "1,2,3,4,5", "4,1,3,2,5", "2,3,1,5,4", "1,4,3,2,5", "3,2,1,4,5", "4,1,2,3,5"]),
    ("task4", "retrieval", T3, [1, 3, 5], ["1,3,5", "2,4,6", "1,2,4", "3,5,1", "1,3,4", "6,7,8", "5,1,2", "1,3,5"]),
    ("task5", "multiple-choice", T2, 1, ["1", "1", "0", "1", "2", "1"]),
]
_METRICS = ["track5", "mean_over_tasks", f"track:{T1}", f"track:{TRACK_SHORT_NAMES[T2]}",
            "task_type:multiple-choice", "task_type:named_entity_recognition", "task:task3"]


@pytest.fixture
def mixed(make_question):
    questions, predictions = [], []
    for task, task_type, track, gold, texts in _MIXED:
        for text in texts:
            questions.append(make_question(task_type, task_name=task, track=track, output_field=gold))
            predictions.append(text)
    order = np.random.default_rng(1).permutation(len(questions))  # tasks interleaved, as in real files
    return [questions[i] for i in order], [predictions[i] for i in order]


def _official(report, metric: str) -> float:
    kind, _, name = metric.partition(":")
    if kind == "task":
        return report.tasks[name].score
    if kind == "track":
        return report.tracks[{v: k for k, v in TRACK_SHORT_NAMES.items()}.get(name, name)]
    return report.task_types[name] if kind == "task_type" else getattr(report, kind)


@pytest.mark.parametrize("metric", _METRICS)
def test_point_equals_the_official_score(mixed, metric) -> None:
    questions, predictions = mixed
    report = score(questions, predictions)
    assert report.tracks.keys() == {T1, T2, T3} and len(set(report.task_types.values())) > 1
    estimate = interval(questions, report, metric=metric, n_resamples=50)
    assert estimate.point == _official(report, metric)  # exactly: the scorer's own aggregation
    assert estimate.low <= estimate.high and estimate.n == 40 and estimate.metric == metric
    # the samples list works as well as the report
    assert interval(questions, report.samples, metric=metric, n_resamples=50) == estimate


def test_resamples_are_stratified_by_task_and_seeded() -> None:
    task_of_sample = np.array([0, 1, 0, 2, 1, 0, 2, 2, 2])
    indices = bootstrap_indices(task_of_sample, 500, seed=3)
    assert indices.shape == (500, 9)
    assert (task_of_sample[indices] == task_of_sample).all()  # every task keeps its size in every resample
    assert len(np.unique(indices[:, 3])) == 4  # with replacement, over all of task 2's members
    assert (bootstrap_indices(task_of_sample, 500, seed=3) == indices).all()
    assert (bootstrap_indices(task_of_sample, 500, seed=4) != indices).any()


def test_identity_resample_gives_the_official_value(mixed) -> None:
    questions, predictions = mixed
    table = sample_table(questions, score(questions, predictions))
    identity = np.arange(len(questions))[None, :]
    for metric in _METRICS:
        assert resample_scores(table, identity, metric)[0] == pytest.approx(official_value(table, metric), abs=1e-12)


def test_interval_equals_a_brute_force_loop_over_the_official_scorer(mixed) -> None:
    questions, predictions = mixed
    report = score(questions, predictions)
    table = sample_table(questions, report)
    indices = bootstrap_indices(table.task_of_sample, 200, seed=7)
    # brute force: each resample is a question list of its own, re-scored from the texts by score()
    reports = [score([questions[i] for i in row], [predictions[i] for i in row]) for row in indices]
    for metric in _METRICS:
        brute = np.array([_official(r, metric) for r in reports])
        assert brute.std() > 0, metric
        np.testing.assert_allclose(resample_scores(table, indices, metric), brute, rtol=0, atol=1e-12)
        estimate = interval(questions, report, metric=metric, n_resamples=200, seed=7)
        assert (estimate.low, estimate.high) == pytest.approx(tuple(np.quantile(brute, [0.025, 0.975])), abs=1e-12)
        se = standard_error(questions, report, metric=metric, n_resamples=200, seed=7)
        assert se == pytest.approx(brute.std(ddof=1), abs=1e-12)  # the same draws' SD


def test_micro_f1_is_resampled_by_summing_counts(make_question) -> None:
    questions = [
        make_question("named_entity_recognition", output_field=["nike"]),
        make_question("named_entity_recognition", output_field=["mens", "vinyl", "red"]),
    ]
    report = score(questions, ["nike", "blue"])  # counts (1, 0, 0) and (0, 1, 3)
    table = sample_table(questions, report)
    values = resample_scores(table, np.array([[0, 1], [0, 0], [1, 1], [1, 0]]), "task:task1")
    # summed: tp=1, fp=1, fn=3 -> P 1/2, R 1/4, F1 1/3; the mean of per-sample F1s (1 and 0) would be 1/2
    assert values == pytest.approx([1 / 3, 1.0, 0.0, 1 / 3])
    assert interval(questions, report, metric="task:task1", n_resamples=20).point == pytest.approx(1 / 3)


def test_paired_difference_uses_the_same_draws_for_both(mixed) -> None:
    questions, predictions = mixed
    a = score(questions, predictions)
    assert paired_difference(questions, a, a) == paired_difference(questions, a, a)
    same = paired_difference(questions, a, a, n_resamples=300)
    assert (same.point, same.low, same.high, same.excludes_zero) == (0.0, 0.0, 0.0, False)  # unpaired would not be 0
    better = score(questions, [render_gold(q) for q in questions])
    diff = paired_difference(questions, better, a, n_resamples=500, seed=1)
    assert diff.point == pytest.approx(better.track5 - a.track5) and diff.excludes_zero and diff.low > 0
    indices = bootstrap_indices(sample_table(questions, a).task_of_sample, 500, seed=1)
    se_diff = (resample_scores(sample_table(questions, better), indices)
               - resample_scores(sample_table(questions, a), indices)).std(ddof=1)
    se_a = resample_scores(sample_table(questions, a), indices).std(ddof=1)
    assert minimum_detectable_difference(questions, better, a, n_resamples=500, seed=1) == pytest.approx(
        2.8016 * se_diff, rel=1e-4)  # z_0.975 + z_0.8 = 1.95996 + 0.84162
    assert minimum_detectable_difference(questions, a, n_resamples=500, seed=1) == pytest.approx(
        2.8016 * np.sqrt(2) * se_a, rel=1e-4)


def test_mismatched_question_sets_are_refused(mixed) -> None:
    questions, predictions = mixed
    report = score(questions, predictions)
    with pytest.raises(ValueError, match="question sets differ: 39 scored samples for 40 questions"):
        interval(questions, report.samples[:-1])
    shuffled = score(questions[::-1], predictions[::-1])
    with pytest.raises(ValueError, match=r"prediction set b: question sets differ at sample \d+: scored as task"):
        paired_difference(questions, report, shuffled)
    with pytest.raises(ValueError, match="no per-sample scores"):
        interval(questions, [])
    with pytest.raises(ValueError, match="unknown or absent metric 'track:nope'"):
        interval(questions, report, metric="track:nope")


def test_paired_interval_covers_the_true_difference_in_about_95_percent_of_trials() -> None:
    """300 simulated paired evaluations: 4 tasks over 2 tracks, per-question difficulty shared by both
    models, Bernoulli outcomes with p and p + delta; the true Track 5 difference is delta."""
    from shoplm.shopbench.records import Question

    tasks = [("task1", T1, 60), ("task2", T1, 40), ("task3", T2, 50), ("task4", T2, 50)]
    questions = [
        Question(input_field="Q?", output_field=1, task_name=name, task_type="multiple-choice", metric="accuracy",
                 is_multiple_choice=True, track=track)
        for name, track, size in tasks for _ in range(size)
    ]
    rng, delta, started, covered = np.random.default_rng(2024), 0.08, time.perf_counter(), 0
    for trial in range(300):
        p = np.clip(0.55 + rng.uniform(-0.3, 0.3, len(questions)), 0, 1 - delta)
        a, b = rng.random(len(questions)) < p + delta, rng.random(len(questions)) < p
        samples = [[{"task_name": q.task_name, "metric": "accuracy", "parsed": 1, "score": float(x)}
                    for q, x in zip(questions, outcome)] for outcome in (a, b)]
        diff = paired_difference(questions, *samples, n_resamples=400, seed=trial)
        covered += diff.low <= delta <= diff.high
    assert 0.90 <= covered / 300 <= 0.98, covered
    assert time.perf_counter() - started < 10


def test_a_change_on_questions_alone_in_their_tasks_is_not_certain(make_question) -> None:
    """Six one-question tasks beside one of five: held fixed, the one-question tasks would make a single
    changed answer a certain difference (interval [d, d]); pooled, its interval holds 0 as it should."""
    questions = [make_question("multiple-choice", task_name=f"lone{i}", track=TRACKS[i % 4], output_field=1)
                 for i in range(6)]
    questions += [make_question("multiple-choice", task_name="five", track=T1, output_field=1) for _ in range(5)]
    a = ["1", "0", "1", "0", "1", "0"] + ["1", "0", "1", "1", "0"]
    b = ["0"] + a[1:]  # one answer changed, in task lone0
    table = sample_table(questions, score(questions, a))
    assert pooled_samples(table).tolist() == [True] * 6 + [False] * 5
    indices = bootstrap_indices(table.task_of_sample, 300, seed=0, pooled=pooled_samples(table))
    assert set(np.unique(indices[:, 0])) == set(range(6))  # a lone task's column draws from the pool
    assert (table.task_of_sample[indices[:, 6:]] == table.task_of_sample[6:]).all()  # the rest stays stratified
    diff = paired_difference(questions, score(questions, a), score(questions, b), n_resamples=2000)
    assert diff.point > 0 and diff.low <= 0 < diff.high and not diff.excludes_zero
    # Held fixed (no pooling), the same change would read as certain: the flaw this guards against.
    held = resample_scores(table, bootstrap_indices(table.task_of_sample, 300, seed=0), "track5")
    changed = resample_scores(sample_table(questions, score(questions, b)),
                              bootstrap_indices(table.task_of_sample, 300, seed=0), "track5")
    assert np.ptp(held - changed) < 1e-12  # the same difference in every resample
