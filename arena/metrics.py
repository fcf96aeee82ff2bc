"""The competition's score (multi-class log loss) and the figures reported beside it."""

from __future__ import annotations

import numpy as np

#: Kaggle clips submitted probabilities to [1e-15, 1 - 1e-15] before the log; so do we.
KAGGLE_EPS = 1e-15


def normalise(probs: np.ndarray) -> np.ndarray:
    probs = np.asarray(probs, dtype=float)
    return probs / probs.sum(axis=1, keepdims=True)


def log_loss(labels: np.ndarray, probs: np.ndarray) -> float:
    """Mean negative log probability of the true class, after Kaggle's row normalisation and clipping."""
    probs = np.clip(normalise(probs), KAGGLE_EPS, 1 - KAGGLE_EPS)
    return float(-np.mean(np.log(probs[np.arange(len(labels)), np.asarray(labels)])))


def accuracy(labels: np.ndarray, probs: np.ndarray) -> float:
    return float(np.mean(np.argmax(probs, axis=1) == np.asarray(labels)))


def label_entropy(labels: np.ndarray, n_classes: int = 3) -> float:
    """Entropy (nats) of the label distribution: the log loss of always predicting the class prior."""
    freq = np.bincount(np.asarray(labels), minlength=n_classes) / len(labels)
    freq = freq[freq > 0]
    return float(-(freq * np.log(freq)).sum())


def scores(labels: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    return {"log_loss": log_loss(labels, probs), "accuracy": accuracy(labels, probs)}
