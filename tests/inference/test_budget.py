"""Time budgets: limits per track from params, and a slow run cut before it passes its limit.

The backend double advances a fake clock instead of sleeping, so the cut is exact and the test fast.
"""

from __future__ import annotations

import pytest

from shoplm.evaluation import run_zero_shot
from shoplm.inference.backends import EchoBackend
from shoplm.inference.budget import COMPETITION_LIMITS_S, TimeBudget, plan_chunks
from shoplm.inference.generation import build_requests
from shoplm.params.serving import BudgetSettings
from shoplm.shopbench.records import TRACKS, load_questions

SAMPLE_QUESTIONS = "data/sample/shopbench/questions.jsonl"


@pytest.fixture(scope="module")
def questions():
    return load_questions(SAMPLE_QUESTIONS)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SlowEcho(EchoBackend):
    """Echo that 'takes' a fixed number of seconds per question on the fake clock."""

    def __init__(self, clock: FakeClock, seconds_per_question: float) -> None:
        super().__init__()
        self.clock, self.seconds_per_question = clock, seconds_per_question

    def generate(self, requests):
        self.clock.now += self.seconds_per_question * len(requests)
        return super().generate(requests)


def test_a_one_track_set_gets_its_track_limit_and_a_mixed_set_track5s():
    settings = BudgetSettings()
    assert settings.limit_s([TRACKS[1]] * 500) == COMPETITION_LIMITS_S["track2"] == 1200
    assert settings.limit_s([TRACKS[0], TRACKS[2]] * 1000) == 140 * 60
    assert settings.limit_s([TRACKS[0]] * 3) == 30  # the 10 s per question cap is the tighter one


def test_limits_scale_to_the_set_size_for_the_tracks_given_a_question_count():
    settings = BudgetSettings(questions_per_track={"track5": 11700})
    assert settings.limit_s([TRACKS[0], TRACKS[1]] * 18) == pytest.approx(8400 * 36 / 11700)
    assert settings.limit_s([TRACKS[3]] * 36) == 360  # track4 unscaled: 1200 s, capped at 10 s x 36


def test_an_unknown_track_key_in_params_is_named():
    with pytest.raises(ValueError, match="track6"):
        BudgetSettings(seconds_per_track={"track6": 10})


def test_chunks_run_the_cheapest_task_type_first(questions):
    requests = build_requests(questions)
    chunks = plan_chunks(requests, chunk_size=4)
    limits = [requests[c[0]].max_new_tokens for c in chunks]
    assert limits == sorted(limits)
    assert all(len({requests[i].task_type for i in c}) == 1 and len(c) <= 4 for c in chunks)
    assert sorted(i for c in chunks for i in c) == list(range(len(requests)))


def test_a_slow_run_is_cut_before_its_limit_and_the_cut_questions_are_recorded(questions):
    clock = FakeClock()
    backend = SlowEcho(clock, seconds_per_question=1.0)
    budget = TimeBudget(limit_s=20.0, per_question_s=10, chunk_size=4, show_progress=False, clock=clock)
    result = run_zero_shot(questions, backend, budget=budget)

    answered = [i for i in range(len(questions)) if i not in result.budget_cut]
    print(f"\n{len(questions)} questions at 1 s each, limit 20 s: {len(answered)} answered, "
          f"{len(result.budget_cut)} cut, used {result.budget_metrics['budget/used_s']:.0f} s")
    assert 0 < len(result.budget_cut) < len(questions)
    assert clock.now <= 20.0  # the limit was never passed
    assert len(answered) == clock.now  # 1 s per answered question: nothing ran after the cut
    assert all(result.raw_outputs[i] == "" for i in result.budget_cut)
    assert all(result.raw_outputs[i] for i in answered)
    assert result.metrics()["budget/cut_questions"] == len(result.budget_cut)
    # cheapest first: every multiple-choice question (2 tokens) was answered before anything was cut
    assert not any(result.task_types[i] == "multiple-choice" for i in result.budget_cut)


def test_a_generous_budget_changes_nothing(questions):
    clock = FakeClock()
    budget = TimeBudget(limit_s=1e6, per_question_s=10, chunk_size=5, show_progress=False, clock=clock)
    budgeted = run_zero_shot(questions, SlowEcho(clock, 0.1), budget=budget)
    plain = run_zero_shot(questions, EchoBackend())
    assert budgeted.predictions == plain.predictions and budgeted.budget_cut == []
    assert budgeted.metrics()["budget/over_cap_chunks"] == 0


def test_chunks_slower_than_the_per_question_cap_are_counted(questions):
    clock = FakeClock()
    budget = TimeBudget(limit_s=1e6, per_question_s=0.5, chunk_size=8, show_progress=False, clock=clock)
    outcome = budget.run(SlowEcho(clock, 1.0), build_requests(questions))
    assert outcome.cut == [] and outcome.over_cap_chunks == len(plan_chunks(build_requests(questions), 8))


def test_budgets_off_in_params_mean_no_budget(questions):
    assert TimeBudget.for_questions(BudgetSettings(enabled=False), questions) is None
    budget = TimeBudget.for_questions(BudgetSettings(), questions)
    assert budget.limit_s == min(8400, 10 * len(questions))
