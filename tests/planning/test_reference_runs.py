"""The planner against published runtimes: the efficiency factor is calibrated on ONE case (the
organisers' Llama-3-8B baseline, Track 1) and every other case is a validation. Each case's error is
stated here, with the reason where it misses the ±25% goal; a change to the model that moves any of
them fails this test until the stated figures (and the README's table) are updated."""

from __future__ import annotations

import pytest

from shoplm.planning.reference import calibrate, load_references, validate

# (run, track) → (stated error of the prediction, why). Measured runs: relative error. Runs only known
# to finish "within" a limit: the prediction as a fraction of the limit, minus 1 (must be < 0).
STATED = {
    ("organisers-llama3-8b", "track1-concepts"): (0.0, "the calibration case: exact by construction"),
    ("organisers-llama3-8b", "track2-reasoning"): (
        -0.896, "MISS: Track 2's development questions are all multiple-choice (1 token each), so the "
        "planner sees 1896 one-token answers; the published 397 s (0.21 s a question, like the other "
        "tracks) says the hidden Track 2 holds long-answer tasks the development set does not show"),
    ("organisers-llama3-8b", "track3-behavior"): (-0.231, "within the ±25% goal"),
    ("organisers-llama3-8b", "track4-multilingual"): (
        -0.330, "MISS: Track 4's development set has no ranking questions, which the hidden set has "
        "(seed 002's leaderboard reports a Track 4 ranking score), and 4 characters per token "
        "undercounts its Japanese prompts"),
    ("winners-qwen2-72b-awq", "track1-concepts"): (-0.317, "under the 70-minute limit it met"),
    ("winners-qwen2-72b-awq", "track2-reasoning"): (-0.707, "under the 20-minute limit it met"),
    ("winners-qwen2-72b-awq", "track3-behavior"): (-0.249, "under the 30-minute limit it met"),
    ("winners-qwen2-72b-awq", "track4-multilingual"): (-0.194, "under the 20-minute limit it met"),
    ("winners-qwen2-72b-awq", "track5-all-around"): (-0.340, "under the 140-minute limit it met"),
}


def test_the_stored_efficiency_is_the_calibration_of_its_case():
    stored = load_references().calibration.efficiency
    assert calibrate() == pytest.approx(stored, abs=5e-5)
    assert 0.1 < stored < 0.6  # a real engine reaches a fraction of the datasheet peak, not all of it


def test_every_published_case_has_its_stated_error():
    checks = {(c.run, c.track): c for c in validate()}
    assert set(checks) == set(STATED)
    for case, (error, why) in STATED.items():
        assert checks[case].error == pytest.approx(error, abs=0.005), f"{case}: {why}"


def test_the_validation_cases_meet_the_goal_or_have_a_stated_reason():
    for check in validate():
        why = STATED[(check.run, check.track)][1]
        if check.kind == "measured":
            assert check.passed == (abs(check.error) <= 0.25)
            assert check.passed or why.startswith("MISS"), f"{check.run} {check.track}: {check.error:+.1%}"
        else:  # the winners finished every track in time; a prediction over a limit would contradict that
            assert check.passed, f"{check.run} {check.track}: predicted {check.predicted_s:.0f}s"
    measured = [c for c in validate() if c.kind == "measured" and not c.calibration]
    assert sum(c.passed for c in measured) == 1  # Track 3; Tracks 2 and 4 miss for the reasons stated


def test_the_winning_model_fits_the_t4s_memory():
    run = load_references().runs["winners-qwen2-72b-awq"]
    plans = run.plans(load_references().calibration.efficiency)
    assert all(p.fits_memory for p in plans)
    # 41.6 GB of 4-bit weights over 4 GPUs, about 10.4 GB each, under 0.95 x 16 GB with the KV cache
    assert plans[0].memory["weights"] / 1e9 == pytest.approx(10.4, abs=0.05)
