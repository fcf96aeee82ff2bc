"""After the models: clipping, a weighted ensemble, and calibration (temperature or seed 004's rule).

Everything here is fitted on validation predictions only. A calibrator is judged by cross-fitting
(fit on the other validation folds, score on the held-out one), so the validation log loss it reports
is not the loss it was fitted to; the pipeline keeps it only when that loss is lower than without it.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from arena.metrics import log_loss, normalise
from shoplm.registry import Registry

CALIBRATORS: Registry[type] = Registry("arena calibrator")


def clip(probs: np.ndarray, eps: float) -> np.ndarray:
    """Rows that sum to 1 with every probability at least ``eps``: never a certain 0 or 1.

    One confident mistake costs log(1/p) under log loss; a floor caps that cost. The floor is a mix with
    the uniform distribution, ``(1 - 3·eps)·p + eps``, which keeps each row's sum at exactly 1 (clipping
    then renormalising would push values back under the floor).
    """
    if not 0 < eps < 1 / 3:
        raise ValueError(f"clip eps must be in (0, 1/3), got {eps}")
    return (1 - 3 * eps) * normalise(probs) + eps


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max())
    return e / e.sum()


def blend(members: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
    return normalise(sum(w * p for w, p in zip(weights, members)))


def fit_ensemble_weights(members: list[np.ndarray], labels: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to 1 that minimise the log loss of the blend on ``labels``."""
    if len(members) == 1:
        return np.ones(1)
    loss = lambda z: log_loss(labels, blend(members, _softmax(z)))  # noqa: E731
    best = minimize(loss, np.zeros(len(members)), method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6})
    return _softmax(best.x)


@CALIBRATORS.register("none")
class Identity:
    """No calibration."""

    def fit(self, probs: np.ndarray, labels: np.ndarray) -> Identity:
        return self

    def transform(self, probs: np.ndarray) -> np.ndarray:
        return normalise(probs)

    def params(self) -> dict[str, float]:
        return {}


@CALIBRATORS.register("temperature")
class Temperature:
    """Temperature scaling: p ∝ p^(1/T), one T fitted by log loss (T > 1 softens, T < 1 sharpens)."""

    def fit(self, probs: np.ndarray, labels: np.ndarray) -> Temperature:
        result = minimize_scalar(lambda t: log_loss(labels, self._apply(probs, t)), bounds=(0.05, 20),
                                 method="bounded")
        self.temperature = float(result.x)
        return self

    @staticmethod
    def _apply(probs: np.ndarray, temperature: float) -> np.ndarray:
        logp = np.log(np.clip(normalise(probs), 1e-15, 1)) / temperature
        return normalise(np.exp(logp - logp.max(axis=1, keepdims=True)))

    def transform(self, probs: np.ndarray) -> np.ndarray:
        return self._apply(probs, self.temperature)

    def params(self) -> dict[str, float]:
        return {"temperature": self.temperature}


@CALIBRATORS.register("threshold")
class ThresholdMultiplier:
    """Seed 004's rule: a probability above the threshold is multiplied (a, b and tie each), then renormalised.

    The published values were threshold 0.75 with multipliers 1.125 (a, b) and 1.325 (tie); here the
    threshold and the two multipliers are chosen on a grid by validation log loss (the published
    values are on it).
    """

    THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.9)
    MULTIPLIERS = (0.8, 0.9, 1.0, 1.125, 1.25, 1.325, 1.5)

    def fit(self, probs: np.ndarray, labels: np.ndarray) -> ThresholdMultiplier:
        grid = itertools.product(self.THRESHOLDS, self.MULTIPLIERS, self.MULTIPLIERS)
        self.threshold, self.ab, self.tie = min(
            grid, key=lambda g: (log_loss(labels, self._apply(probs, *g)), abs(g[1] - 1) + abs(g[2] - 1)))
        return self

    @staticmethod
    def _apply(probs: np.ndarray, threshold: float, ab: float, tie: float) -> np.ndarray:
        probs = normalise(probs)
        factors = np.where(probs > threshold, np.array([ab, ab, tie]), 1.0)
        return normalise(probs * factors)

    def transform(self, probs: np.ndarray) -> np.ndarray:
        return self._apply(probs, self.threshold, self.ab, self.tie)

    def params(self) -> dict[str, float]:
        return {"threshold": self.threshold, "multiplier_ab": self.ab, "multiplier_tie": self.tie}


def cross_fitted(name: str, probs: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Calibrated validation probabilities, each fold calibrated by a calibrator fitted on the others."""
    out = np.zeros_like(probs, dtype=float)
    for fold in np.unique(folds):
        held = folds == fold
        out[held] = CALIBRATORS.get(name)().fit(probs[~held], labels[~held]).transform(probs[held])
    return out
