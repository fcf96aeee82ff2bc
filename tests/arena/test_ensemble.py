"""The ensemble stage chooses among every trained model and never ships one worse than the best it holds.

The baselines are trained for real (seconds) on battles where length decides; a "classifier" is a file
of random probabilities, as a badly trained one would write, so no model is trained here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from arena.evidence import interval, paired_difference
from arena.metrics import log_loss
from arena.outputs import write_probabilities
from arena.runs import load_split
from arena.settings import load_arena_section
from arena.stacking import ENSEMBLE, choose

RNG = np.random.default_rng(0)


def _params(train: Path, test: Path, members) -> dict:
    return {
        "data": {"train": str(train), "test": str(test), "folds": 3, "valid_fold": 0, "seed": 0},
        "baselines": {"models": {"prior": {}, "bucket": {"quantiles": 10},
                                 "gbdt": {"max_iter": 20, "min_samples_leaf": 2}}},
        "classifiers": {"models": {"noisy": {"backbone": "unused"}}},
        "ensemble": {"members": members, "calibrations": ["temperature"], "calibration_folds": 2,
                     "clip_eps": 0.001, "bootstrap_resamples": 500, "bootstrap_seed": 0},
    }


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A work folder where the baselines stage ran and a noisy classifier wrote its prediction files."""
    from tests.arena.conftest import length_battles, write_csv
    from tasks import arena_baselines

    root = tmp_path_factory.mktemp("ensemble")
    rows = length_battles(24)
    train = write_csv(root / "train.csv", rows)
    test_rows = [{k: r[k] for k in ("id", "prompt", "response_a", "response_b")} for r in rows[:8]]
    test = write_csv(root / "test.csv", test_rows, columns=list(test_rows[0]))
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        mp.delenv("SHOPLM_MLFLOW_PARENT_RUN_ID", raising=False)
        mp.delenv("SHOPLM_MLFLOW_EXPERIMENT", raising=False)
        params = root / "all.yaml"
        params.write_text(yaml.safe_dump(_params(train, test, "all")))
        assert arena_baselines.main(["--params", str(params)]) == 0
        split = load_split(load_arena_section("data", params))
        folder = root / "reports/arena/classifiers/noisy"
        for name, frame in (("valid_plain", split.valid), ("valid_tta", split.valid), ("test_tta", split.test)):
            write_probabilities(folder / f"{name}.csv", frame["id"], RNG.dirichlet(np.ones(3), size=len(frame)))
    return root, train, test


def _run_stage(trained, monkeypatch, members):
    from tasks import arena_ensemble

    root, train, test = trained
    monkeypatch.chdir(root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    monkeypatch.delenv("SHOPLM_MLFLOW_PARENT_RUN_ID", raising=False)
    monkeypatch.delenv("SHOPLM_MLFLOW_EXPERIMENT", raising=False)
    params = root / "params.yaml"
    params.write_text(yaml.safe_dump(_params(train, test, members)))
    return arena_ensemble, params


def test_every_trained_model_is_a_candidate_and_the_best_is_not_lost(trained, monkeypatch, capsys):
    stage, params = _run_stage(trained, monkeypatch, "all")
    (Path("reports/arena/submission.csv")).unlink(missing_ok=True)
    assert stage.main(["--params", str(params)]) == 0
    details = json.loads(Path("reports/arena/ensemble/metrics.json").read_text())
    assert set(details["weights"]) == {"prior", "bucket", "gbdt", "noisy+tta"}  # the baselines are members
    summary = json.loads(Path("reports/arena/metrics.json").read_text())
    best = min(("prior", "bucket", "gbdt", "noisy+tta"), key=lambda n: summary[n]["valid_log_loss"])
    assert best in ("bucket", "gbdt") and details["best_trained_model"] == best
    submitted = summary["submission"]
    # no worse than the best trained model beyond the interval (here: not worse at all, by more than noise)
    assert submitted["valid_log_loss"] <= summary[best]["valid_log_loss_high"]
    assert submitted["valid_log_loss"] < summary["prior"]["valid_log_loss_low"]
    for row in summary.values():
        assert row["valid_log_loss_low"] <= row["valid_log_loss"] <= row["valid_log_loss_high"]
    report = Path("reports/arena/report.md").read_text()
    assert f"Submitted: **{details['submitted']}**. Why: " in report
    assert f"| best trained model: {best} |" in report and "| prior |" in report
    assert report in capsys.readouterr().out  # the stage prints the table it writes
    submission = pd.read_csv("reports/arena/submission.csv")
    assert len(submission) == 8 and np.allclose(submission.iloc[:, 1:].sum(axis=1), 1, atol=1e-5)


def test_a_submission_worse_than_the_best_model_fails_naming_both(trained, monkeypatch, capsys):
    """Issue 25: members fixed to a weak classifier shipped 0.905 while the DAG held 0.531. Now it stops."""
    from tasks._runner import run

    stage, params = _run_stage(trained, monkeypatch, ["noisy"])
    Path("reports/arena/submission.csv").write_text("stale\n")
    with pytest.raises(SystemExit) as exit_:
        run(lambda argv: stage.main(["--params", str(params)]))
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: the submission (noisy+tta")
    best = json.loads(Path("reports/arena/ensemble/metrics.json").read_text())["best_trained_model"]
    assert f"worse than the best trained model ({best}, " in err[0] and "95% CI [" in err[0]
    assert not Path("reports/arena/submission.csv").exists()  # no stale submission left behind


def test_an_unknown_member_is_named(trained, monkeypatch):
    from shoplm.params.loader import ParamsError

    stage, params = _run_stage(trained, monkeypatch, ["gbdt", "decoder"])
    with pytest.raises(ParamsError, match="ensemble.members: not in baselines.models or classifiers.models: decoder"):
        stage.main(["--params", str(params)])


def _informative(labels: np.ndarray, right: float, rng: np.random.Generator) -> np.ndarray:
    guess = np.where(rng.random(len(labels)) < right, labels, rng.integers(0, 3, len(labels)))
    probs = np.full((len(labels), 3), 0.2)
    probs[np.arange(len(labels)), guess] = 0.6
    return probs


def test_blend_is_chosen_only_when_it_beats_the_best_member_by_a_standard_error():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 600)
    folds = np.arange(600) % 5
    good, noise = _informative(labels, 0.7, rng), rng.dirichlet(np.ones(3) * 5, size=600)
    alone = choose({"good": good, "noise": noise}, labels, folds, eps=1e-3, n_resamples=300)
    assert alone.model == "good" and alone.best_member == "good" and "simpler model is kept" in alone.reason
    other = _informative(labels, 0.7, rng)  # as good, errors independent: the blend is clearly better
    both = choose({"good": good, "other": other}, labels, folds, eps=1e-3, n_resamples=300)
    assert both.model == ENSEMBLE and both.losses[ENSEMBLE] < min(both.losses["good"], both.losses["other"])
    assert both.ensemble_vs_best.point < -both.ensemble_vs_best.se


def test_intervals_are_seeded_contain_the_score_and_pair_the_battles():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 3, 300)
    a = _informative(labels, 0.6, rng)
    b = 0.9 * a + 0.1 / 3  # b is a, softened: highly correlated losses
    est = interval(labels, a, seed=3)
    assert est.point == pytest.approx(log_loss(labels, a)) and est.low < est.point < est.high
    assert interval(labels, a, seed=3) == est and interval(labels, a, seed=4) != est
    diff = paired_difference(labels, a, b, seed=3)
    assert diff.point == pytest.approx(log_loss(labels, a) - log_loss(labels, b))
    unpaired = np.hypot(est.se, interval(labels, b, seed=5).se)
    assert diff.se < unpaired / 3  # pairing cancels what the battles share
