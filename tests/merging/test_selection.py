"""search.selection: the one-standard-error rule against `best`, the evidence against the base and the plain
adapter, and the per-question scores the cache keeps for them (no model: scores are made up)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shoplm.merging.scoring import CandidateScore
from shoplm.merging.search import (
    CandidateResult,
    ScoreCache,
    choose,
    compare_to_references,
    run_search,
    select,
)
from shoplm.params.merging import MergeSpec, SearchSection
from shoplm.shopbench.evidence import paired_difference, paired_standard_error, standard_error
from shoplm.shopbench.records import TRACKS, question_from_dict

N = 60  # questions per task
TASKS = [("task1", TRACKS[0]), ("task2", TRACKS[1])]


@pytest.fixture(scope="module")
def questions():
    return [question_from_dict({"input_field": f"{task} question {i}?\nAnswer: ", "output_field": 1,
                                "task_name": task, "task_type": "multiple-choice", "metric": "accuracy",
                                "is_multiple_choice": True, "track": track})
            for task, track in TASKS for i in range(N)]


def correct(rng: np.random.Generator, share: float) -> np.ndarray:
    """N answers, exactly round(share * N) right, in a random order."""
    right = np.zeros(N)
    right[: round(share * N)] = 1
    return rng.permutation(right)


def candidate(alpha: float, shares: tuple[float, float], seed: int, weight: float = 1.0) -> CandidateResult:
    """A candidate whose per-task accuracies are ``shares`` (so Track 5 is their mean)."""
    rng = np.random.default_rng(seed)
    samples = [{"task_name": task, "metric": "accuracy", "score": float(s)}
               for (task, _), share in zip(TASKS, shares) for s in correct(rng, share)]
    score = float(np.mean([np.mean([s["score"] for s in samples if s["task_name"] == task]) for task, _ in TASKS]))
    return CandidateResult(MergeSpec(adapters={"v7": weight}, alpha=alpha), score, 0, 0.0, False, {}, samples)


def test_one_se_takes_a_smaller_change_when_it_scores_within_one_standard_error(questions):
    results = [candidate(0.0, (0.30, 0.30), 1), candidate(0.5, (35 / 60, 34 / 60), 2), candidate(1.0, (0.60, 0.60), 3)]
    se = standard_error(questions, results[2].samples)
    assert 0.035 < se < 0.055  # ~sqrt(0.24 / 60) / sqrt(2) = 0.045: two tracks of 60 questions
    assert results[2].score - se < results[1].score  # α = 0.5 is within one SE of the best, α = 0 is not
    selection = select(results, "one_se", questions)
    assert selection.best is results[2] and selection.chosen is results[1]
    assert selection.standard_error == pytest.approx(se) and selection.threshold == pytest.approx(results[2].score - se)
    assert [r.spec.alpha for r in selection.eligible] == [0.5, 1.0]
    assert not selection.to_dict()["chose_the_best"]
    # `best` is today's rule: the highest score, whatever the interval says.
    assert select(results, "best").chosen is results[2] is choose(results)


def test_one_se_keeps_the_best_when_it_is_clearly_better(questions):
    results = [candidate(0.0, (0.30, 0.30), 1), candidate(0.5, (0.40, 0.35), 2), candidate(1.0, (0.70, 0.70), 3)]
    selection = select(results, "one_se", questions)
    assert selection.chosen is selection.best is results[2]
    assert selection.eligible == (results[2],) and selection.to_dict()["chose_the_best"]


def test_one_se_ties_go_to_the_base_and_the_rule_needs_per_question_scores(questions):
    base = candidate(0.0, (0.55, 0.60), 1)
    results = [base, candidate(1.0, (0.60, 0.60), 2), candidate(0.5, (0.60, 0.60), 3)]
    assert select(results, "one_se", questions).chosen is base  # change 0: the base itself
    assert choose(results, "one_se", questions) is base
    bare = [CandidateResult(r.spec, r.score, 0, 0.0, False, {}) for r in results]
    with pytest.raises(ValueError, match="per-question scores"):
        select(bare, "one_se", questions)
    with pytest.raises(ValueError, match="choose one of one_se_paired, one_se, best"):
        select(results, "median", questions)


def test_the_default_rule_is_one_se_paired():
    assert SearchSection().selection == "one_se_paired"
    assert SearchSection(selection="best").selection == "best"
    with pytest.raises(ValueError):
        SearchSection(selection="median")


def test_evidence_says_when_the_winner_cannot_be_told_apart(questions):
    base = candidate(0.0, (0.30, 0.30), 1)
    plain = candidate(1.0, (0.60, 0.60), 2)
    near = candidate(0.5, (0.58, 0.60), 3)
    rows = compare_to_references(near, {"zero-shot": base, "v7": plain}, questions)
    expected = paired_difference(questions, near.samples, plain.samples)
    assert rows["v7"]["difference"] == pytest.approx(near.score - plain.score) == expected.point
    assert rows["v7"]["low"] == expected.low and rows["v7"]["high"] == expected.high
    assert not rows["v7"]["told_apart"] and rows["v7"]["low"] < 0 < rows["v7"]["high"]
    assert rows["zero-shot"]["told_apart"] and rows["zero-shot"]["low"] > 0
    assert not rows["zero-shot"]["same_model"]
    same = compare_to_references(base, {"zero-shot": candidate(0.0, (0.30, 0.30), 1, weight=0.5)}, questions)
    assert same["zero-shot"]["same_model"] and same["zero-shot"]["difference"] == 0  # α = 0: the base either way


def changed(start: CandidateResult, alpha: float, gains: int, losses: int, seed: int) -> CandidateResult:
    """``start``'s answers with, per task, ``gains`` wrong ones made right and ``losses`` right ones made
    wrong: a merge that agrees with ``start`` on every other question, as a nearby merge does."""
    rng = np.random.default_rng(seed)
    samples = [dict(s) for s in start.samples]
    for task, _ in TASKS:
        for was, count in ((0.0, gains), (1.0, losses)):
            pool = [i for i, s in enumerate(samples) if s["task_name"] == task and s["score"] == was]
            for i in rng.choice(pool, count, replace=False):
                samples[i]["score"] = 1.0 - was
    score = float(np.mean([np.mean([s["score"] for s in samples if s["task_name"] == task]) for task, _ in TASKS]))
    return CandidateResult(MergeSpec(adapters={"v7": 1.0}, alpha=alpha), score, 0, 0.0, False, {}, samples)


def test_one_se_paired_moves_from_the_base_when_the_paired_difference_says_so(questions):
    base = candidate(0.0, (0.30, 0.30), 1)
    adapter = changed(base, 1.0, gains=2, losses=0, seed=2)  # +2 of 60 per task, every other answer the same
    assert adapter.score - base.score == pytest.approx(2 / 60)
    # Unpaired, the gain is inside the best's own SE (~0.044), so one_se keeps the base; paired, only the
    # 4 changed answers vary (SE ~0.016), so the base is told apart and one_se_paired takes the adapter.
    assert adapter.score - standard_error(questions, adapter.samples) < base.score
    paired_se = paired_standard_error(questions, adapter.samples, base.samples)
    assert paired_se < adapter.score - base.score
    assert select([base, adapter], "one_se", questions).chosen is base
    selection = select([base, adapter], "one_se_paired", questions)
    assert selection.chosen is selection.best is adapter and selection.eligible == (adapter,)
    assert selection.paired_standard_errors == {adapter.spec.label(): 0.0, base.spec.label(): pytest.approx(paired_se)}
    assert selection.to_dict()["paired_standard_errors"] == selection.paired_standard_errors
    # A smaller step that disagrees with the best both ways, netting a loss inside their paired noise, is taken.
    half = changed(adapter, 0.5, gains=2, losses=3, seed=3)
    assert 0 < adapter.score - half.score <= paired_standard_error(questions, adapter.samples, half.samples)
    chosen = select([base, half, adapter], "one_se_paired", questions)
    assert chosen.best is adapter and chosen.chosen is half and base not in chosen.eligible


class StubWorkspace:
    """What run_search needs of a MergeWorkspace: apply a spec, expose a model (here, the spec)."""

    def __init__(self) -> None:
        self.model = None

    def apply(self, spec: MergeSpec) -> None:
        self.model = spec


def test_the_cache_keeps_per_question_scores_and_rescores_rows_written_without_them(tmp_path, questions):
    calls = []

    def scorer(spec):
        calls.append(spec.alpha)
        made = candidate(spec.alpha, (0.5, 0.5), len(calls))
        return CandidateScore(made.score, 0, 0.0, {"track5": made.score}, list(made.samples))

    specs = [MergeSpec(adapters={"v7": 1.0}, alpha=a) for a in (0.0, 1.0)]
    path = tmp_path / "cache.jsonl"
    first = run_search(StubWorkspace(), specs, scorer, ScoreCache(path), "ctx", progress=False)
    assert len(calls) == 2 and all(len(r.samples) == 2 * N for r in first)
    again = run_search(StubWorkspace(), specs, scorer, ScoreCache(path), "ctx", progress=False)
    assert len(calls) == 2 and all(r.cached for r in again)
    assert [list(r.samples) for r in again] == [list(r.samples) for r in first]
    assert select(again, "one_se", questions).chosen.spec.alpha == 0.0

    # A cache written before the samples were kept: its rows count as missing, are scored again and replaced.
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps({k: v for k, v in row.items() if k != "samples"}) + "\n" for row in rows))
    old = run_search(StubWorkspace(), specs, scorer, ScoreCache(path), "ctx", progress=False)
    assert len(calls) == 4 and not any(r.cached for r in old) and all(r.samples for r in old)
    assert all(r.cached for r in run_search(StubWorkspace(), specs, scorer, ScoreCache(path), "ctx", progress=False))
