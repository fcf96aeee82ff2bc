"""Bootstrap intervals for arena scores: one model's validation log loss (or accuracy), and the paired
difference of two models on the same battles.

The ideas of shoplm.shopbench.evidence, for a metric that is a mean over battles (the arena package
does not import the ShopBench one: editing it must not rerun the arena DAG):
- the resample unit is the validation battle, drawn with replacement, as many as there are; every
  resample is scored exactly as the full set is (log loss: the mean of -log p(true class) after Kaggle's
  normalisation and clipping, ``arena.metrics.log_loss``);
- the point estimate is the full set's score, so it equals ``log_loss(labels, probs)``; low and high are
  percentile bounds of the resampled scores;
- paired: both models' per-battle losses are resampled with the same index draws, and the interval is
  that of the per-resample difference a - b, so how hard a battle is cancels out;
- seeded with numpy's default_rng: a seed gives the same intervals on any machine.

Battles of one prompt are not independent (ten per prompt in the sample), so these intervals are on
the narrow side; they compare models on these battles, they do not promise a leaderboard score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arena.metrics import KAGGLE_EPS, normalise

METRICS = ("log_loss", "accuracy")


@dataclass(frozen=True)
class Estimate:
    point: float
    low: float
    high: float
    se: float  # bootstrap standard deviation (ddof=1)
    n: int
    metric: str

    def __str__(self) -> str:
        return f"{self.point:.4f} [{self.low:.4f}, {self.high:.4f}]"


@dataclass(frozen=True)
class Difference:
    point: float
    low: float
    high: float
    se: float  # bootstrap standard deviation of the paired difference
    n: int
    metric: str

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def __str__(self) -> str:
        return f"{self.point:+.4f} [{self.low:+.4f}, {self.high:+.4f}]"


def per_battle(labels: np.ndarray, probs: np.ndarray, metric: str = "log_loss") -> np.ndarray:
    """Each battle's share of ``metric``: its mean over battles is the metric of the set."""
    labels = np.asarray(labels)
    probs = np.asarray(probs, dtype=float)
    if len(probs) != len(labels):
        raise ValueError(f"{len(probs)} predictions for {len(labels)} battles")
    if metric == "log_loss":
        clipped = np.clip(normalise(probs), KAGGLE_EPS, 1 - KAGGLE_EPS)
        return -np.log(clipped[np.arange(len(labels)), labels])
    if metric == "accuracy":
        return (np.argmax(probs, axis=1) == labels).astype(float)
    raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")


def bootstrap_indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """[n_resamples, n] battle indices, drawn with replacement; depends on (n, n_resamples, seed) only."""
    if n_resamples < 2:
        raise ValueError(f"n_resamples must be at least 2, got {n_resamples}")
    if n < 1:
        raise ValueError("no battles to resample")
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def _bounds(values: np.ndarray, level: float) -> tuple[float, float]:
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}")
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def interval(labels: np.ndarray, probs: np.ndarray, metric: str = "log_loss", n_resamples: int = 2000,
             seed: int = 0, level: float = 0.95) -> Estimate:
    """``metric`` of one model's predictions with its percentile bootstrap interval."""
    values = per_battle(labels, probs, metric)
    resampled = values[bootstrap_indices(len(values), n_resamples, seed)].mean(axis=1)
    return Estimate(float(values.mean()), *_bounds(resampled, level), float(resampled.std(ddof=1)),
                    len(values), metric)


def paired_difference(labels: np.ndarray, a: np.ndarray, b: np.ndarray, metric: str = "log_loss",
                      n_resamples: int = 2000, seed: int = 0, level: float = 0.95) -> Difference:
    """``metric`` of a minus that of b on the same battles, with the interval of the paired resamples."""
    diff = per_battle(labels, a, metric) - per_battle(labels, b, metric)
    resampled = diff[bootstrap_indices(len(diff), n_resamples, seed)].mean(axis=1)
    return Difference(float(diff.mean()), *_bounds(resampled, level), float(resampled.std(ddof=1)),
                      len(diff), metric)
