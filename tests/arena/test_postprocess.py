"""Clipping, blending and calibration: never 0 or 1, and only what lowers validation log loss."""

from __future__ import annotations

import numpy as np
import pytest

from arena.metrics import log_loss
from arena.postprocess import (
    CALIBRATORS, Temperature, ThresholdMultiplier, blend, clip, cross_fitted, fit_ensemble_weights,
)

RNG = np.random.default_rng(0)


def _confident_and_right(n: int = 600, right: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Predictions that put 0.98 on a class that is right only ``right`` of the time: overconfident."""
    labels = RNG.integers(0, 3, n)
    guess = np.where(RNG.random(n) < right, labels, (labels + 1) % 3)
    probs = np.full((n, 3), 0.01)
    probs[np.arange(n), guess] = 0.98
    return probs, labels


@pytest.mark.parametrize("eps", [1e-15, 1e-3, 0.05])
def test_clipped_probabilities_are_never_0_or_1(eps):
    raw = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0], [1e-30, 1 - 1e-30, 0]])
    out = clip(raw, eps)
    assert (out > 0).all() and (out < 1).all() and (out >= eps).all()
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    with pytest.raises(ValueError):
        clip(raw, 0.5)


def test_temperature_softens_overconfident_predictions():
    probs, labels = _confident_and_right()
    calibrator = Temperature().fit(probs, labels)
    assert calibrator.temperature > 1
    assert log_loss(labels, calibrator.transform(probs)) < log_loss(labels, probs) - 0.1


def test_threshold_rule_is_seed_004s_with_published_values_on_its_grid():
    rule = ThresholdMultiplier()
    assert 0.75 in rule.THRESHOLDS and {1.125, 1.325} <= set(rule.MULTIPLIERS)
    rule.threshold, rule.ab, rule.tie = 0.75, 1.125, 1.325
    out = rule.transform(np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.5, 0.3, 0.2]]))
    np.testing.assert_allclose(out.sum(axis=1), 1)
    assert out[0, 0] == pytest.approx(0.9 / 1.1) and out[1, 2] == pytest.approx(1.06 / 1.26)
    np.testing.assert_allclose(out[2], [0.5, 0.3, 0.2])  # nothing above the threshold: unchanged


def test_cross_fitted_calibration_is_scored_on_held_out_folds():
    probs, labels = _confident_and_right()
    folds = np.arange(len(labels)) % 5
    calibrated = cross_fitted("temperature", probs, labels, folds)
    assert log_loss(labels, calibrated) < log_loss(labels, probs)
    np.testing.assert_allclose(cross_fitted("none", probs, labels, folds), probs)
    assert set(CALIBRATORS.names()) == {"none", "temperature", "threshold"}


def test_ensemble_weights_favour_the_informative_member():
    good, labels = _confident_and_right(right=0.9)
    good = Temperature().fit(good, labels).transform(good)
    noise = RNG.dirichlet(np.ones(3), size=len(labels))
    weights = fit_ensemble_weights([good, noise], labels)
    assert weights.sum() == pytest.approx(1) and weights[0] > 0.8
    assert log_loss(labels, blend([good, noise], weights)) <= log_loss(labels, good) + 1e-6
