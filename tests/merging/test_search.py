"""The search: candidates scored with the real evaluation, best chosen (ties → smaller change), cached."""

from __future__ import annotations

import time

import pytest

from shoplm.merging import MergeWorkspace, merge_to_folder
from shoplm.merging.scoring import CandidateScore, QuestionScorer
from shoplm.merging.search import (
    CandidateResult,
    ScoreCache,
    choose,
    context_fingerprint,
    plot_alpha_curves,
    run_search,
    split_questions,
)
from shoplm.params.generation import GenerationSettings
from shoplm.params.merging import MergeGrid, MergeSpec
from shoplm.shopbench.records import load_questions
from shoplm.shopbench.scoring import score

SAMPLE_QUESTIONS = "data/sample/shopbench/questions.jsonl"
SETTINGS = GenerationSettings(batch_size=16)


def result(score, alpha, weights, failures=0):
    return CandidateResult(MergeSpec(adapters=weights, alpha=alpha), score, failures, 1.0, False, {})


def test_choose_takes_the_best_and_breaks_ties_toward_the_base():
    results = [result(0.40, 1.0, {"a": 1.0, "b": 1.0}), result(0.55, 1.0, {"a": 1.0, "b": 0.5}),
               result(0.55, 0.5, {"a": 1.0, "b": 0.5}), result(0.55, 0.5, {"a": 1.0, "b": 1.0}),
               result(0.30, 0.0, {"a": 1.0, "b": 1.0})]
    chosen = choose(results)
    assert chosen.score == 0.55 and chosen.spec.alpha == 0.5 and chosen.spec.adapters == {"a": 1.0, "b": 0.5}


def test_split_is_disjoint_seeded_and_complete():
    items = list(range(36))
    validation, test = split_questions(items, 0.5, seed=0)
    assert sorted(validation + test) == items and not set(validation) & set(test) and len(test) == 18
    assert split_questions(items, 0.5, seed=0) == (validation, test)
    assert split_questions(items, 0.5, seed=1) != (validation, test)


def test_grid_expands_every_combination_once():
    grid = MergeGrid(adapters={"v7": [0.5, 1.0], "v8": [0.25, 0.75]}, alpha=[0.0, 0.5, 1.0])
    specs = grid.candidates()
    assert len(specs) == 12 and len({s.fingerprint() for s in specs}) == 12
    with pytest.raises(ValueError, match="needs a density"):
        MergeGrid(method="ties", adapters={"v7": [1.0]})


@pytest.fixture(scope="module")
def search_setup(tiny_base_dir, tiny_adapters):
    from transformers import AutoTokenizer

    questions = load_questions(SAMPLE_QUESTIONS)[:12]
    workspace = MergeWorkspace(tiny_base_dir, tiny_adapters)
    scorer = QuestionScorer(questions, AutoTokenizer.from_pretrained(tiny_base_dir), SETTINGS)
    context = context_fingerprint(tiny_base_dir, tiny_adapters, questions, SETTINGS, "track5")
    return questions, workspace, scorer, context


@pytest.mark.slow
def test_search_scores_match_independent_evaluation_and_the_best_is_chosen(
        search_setup, tiny_base_dir, tiny_adapters, tmp_path):
    """Each candidate's score is recomputed from a merged folder on disk with the stage's own backend."""
    from shoplm.evaluation import run_zero_shot
    from shoplm.inference.transformers_backend import TransformersBackend

    questions, workspace, scorer, context = search_setup
    grid = MergeGrid(adapters={"v7": [1.0], "v8": [0.0, 1.0]}, alpha=[0.0, 1.0, 4.0])
    results = run_search(workspace, grid.candidates(), scorer, ScoreCache(tmp_path / "cache.jsonl"), context,
                         progress=False)
    by_hand = {}
    for spec in grid.candidates():
        folder = merge_to_folder(tiny_base_dir, tiny_adapters, spec, tmp_path / spec.fingerprint())
        with TransformersBackend(folder, batch_size=SETTINGS.batch_size, show_progress=False) as backend:
            by_hand[spec.fingerprint()] = score(questions, run_zero_shot(questions, backend, SETTINGS).predictions).track5
    for r in results:
        print(f"  {r.spec.label():<36} search {r.score:.4f}  by hand {by_hand[r.spec.fingerprint()]:.4f}"
              f"  {'cached' if r.cached else f'{r.seconds:.1f} s'}")
        assert r.score == pytest.approx(by_hand[r.spec.fingerprint()], abs=1e-9)
    best = max(by_hand.values())
    tied = [s for s in grid.candidates() if by_hand[s.fingerprint()] == best]
    expected = min(tied, key=lambda s: (s.change_from_base(), s.fingerprint()))
    assert choose(results).spec == expected
    assert sum(not r.cached for r in results) == len(results) - 1  # the two α=0 specs share the base's score
    plot = plot_alpha_curves(results, tmp_path / "alpha.png", "tiny", chosen=choose(results))
    assert plot.stat().st_size > 1000


def test_rerun_with_one_more_grid_point_evaluates_only_that_point(search_setup, tmp_path):
    _, workspace, _, context = search_setup
    calls = []

    def counting_scorer(model):  # cheap stand-in: the cache logic is what is under test
        calls.append(1)
        return CandidateScore(score=float(len(calls)), parse_failures=0, seconds=0.0, report={})

    cache_file = tmp_path / "cache.jsonl"
    grid = MergeGrid(adapters={"v7": [0.5, 1.0]}, alpha=[0.5, 1.0])
    first = run_search(workspace, grid.candidates(), counting_scorer, ScoreCache(cache_file), context, progress=False)
    assert len(calls) == 4 and not any(r.cached for r in first)
    bigger = MergeGrid(adapters={"v7": [0.5, 1.0]}, alpha=[0.5, 0.75, 1.0])
    start = time.perf_counter()
    second = run_search(workspace, bigger.candidates(), counting_scorer, ScoreCache(cache_file), context,
                        progress=False)
    print(f"\nre-run with 2 new points of 6: {len(calls) - 4} evaluated, {time.perf_counter() - start:.2f} s")
    assert len(calls) == 6 and sum(not r.cached for r in second) == 2
    assert {r.spec.fingerprint(): r.score for r in second if r.cached} == {r.spec.fingerprint(): r.score for r in first}
    other = run_search(workspace, grid.candidates(), counting_scorer, ScoreCache(cache_file), context + "x",
                       progress=False)
    assert not any(r.cached for r in other)  # another base/adapters/questions: nothing reused
