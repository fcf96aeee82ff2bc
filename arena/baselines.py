"""The published non-neural baselines, each a model with ``fit(frame)`` and ``predict_proba(frame)``.

    prior    always the training set's class frequencies (Kaggle ≈1.097)
    bucket   "difference bucket mean": quantile buckets of len(a) - len(b), mean outcome per bucket (≈1.051)
    gbdt     gradient boosting on length and overlap features (≈1.03); ``features: length`` keeps the
             length features only
    length_gbdt  the same on the length features only (``gbdt`` with ``features: length``)

Registered in ``arena.registry.ARENA_MODELS`` next to the LoRA classifiers (``arena.classifier``), so params
name them and an unknown name fails with the known ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from arena.data import swap_sides
from arena.features import battle_features, length_columns, length_difference
from arena.registry import ARENA_MODELS


def _one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(3)[np.asarray(labels)]


@ARENA_MODELS.register("prior")
class PriorModel:
    """Always the class frequencies of the training labels."""

    def fit(self, frame: pd.DataFrame) -> PriorModel:
        self.prior_ = _one_hot(frame["label"]).mean(axis=0)
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return np.tile(self.prior_, (len(frame), 1))


@ARENA_MODELS.register("bucket")
class BucketMeanModel:
    """Quantile buckets of the response-length difference → mean one-hot outcome per bucket.

    Each bucket's mean is smoothed toward the overall prior with ``smoothing`` pseudo-battles, so a
    small bucket never predicts 0 or 1.
    """

    def __init__(self, quantiles: int = 250, smoothing: float = 5.0) -> None:
        self.quantiles, self.smoothing = quantiles, smoothing

    def _bucket(self, frame: pd.DataFrame) -> np.ndarray:
        return np.searchsorted(self.edges_, length_difference(frame), side="right")

    def fit(self, frame: pd.DataFrame) -> BucketMeanModel:
        diff = length_difference(frame)
        # Inner edges only; repeated quantiles (many equal differences) collapse into one edge.
        self.edges_ = np.unique(np.quantile(diff, np.linspace(0, 1, self.quantiles + 1)[1:-1]))
        onehot = _one_hot(frame["label"])
        prior = onehot.mean(axis=0)
        buckets = self._bucket(frame)
        self.table_ = np.tile(prior, (len(self.edges_) + 1, 1))
        for bucket in np.unique(buckets):
            rows = onehot[buckets == bucket]
            self.table_[bucket] = (rows.sum(axis=0) + self.smoothing * prior) / (len(rows) + self.smoothing)
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.table_[self._bucket(frame)]


@ARENA_MODELS.register("gbdt")
class GBDTModel:
    """scikit-learn's HistGradientBoostingClassifier on ``battle_features``, trained on both A/B orders.

    ``features``: ``all`` (lengths, digits, punctuation, overlap with the prompt, empty answers) or
    ``length`` (characters, words and lines of each side and their differences only).
    """

    FEATURE_SETS = ("all", "length")

    def __init__(self, max_iter: int = 200, learning_rate: float = 0.05, max_leaf_nodes: int = 15,
                 min_samples_leaf: int = 20, l2_regularization: float = 1.0, seed: int = 0,
                 features: str = "all") -> None:
        from sklearn.ensemble import HistGradientBoostingClassifier

        if features not in self.FEATURE_SETS:
            raise TypeError(f"features must be one of {', '.join(self.FEATURE_SETS)}, got {features!r}")
        self.features = features

        self.model = HistGradientBoostingClassifier(
            max_iter=max_iter, learning_rate=learning_rate, max_leaf_nodes=max_leaf_nodes,
            min_samples_leaf=min_samples_leaf, l2_regularization=l2_regularization, random_state=seed)

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        features = battle_features(frame)
        return features[length_columns(features)] if self.features == "length" else features

    def fit(self, frame: pd.DataFrame) -> GBDTModel:
        both = pd.concat([frame, swap_sides(frame)], ignore_index=True)
        self.model.fit(self._features(both), both["label"].to_numpy())
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        probs = np.zeros((len(frame), 3))
        probs[:, self.model.classes_] = self.model.predict_proba(self._features(frame))
        return probs


@ARENA_MODELS.register("length_gbdt")
class LengthGBDTModel(GBDTModel):
    """The GBDT on the length features alone: how far size by itself predicts the winner."""

    def __init__(self, **options: object) -> None:
        super().__init__(**{**options, "features": "length"})


def out_of_fold(make_model, train: pd.DataFrame, folds: np.ndarray, test: pd.DataFrame | None = None
                ) -> tuple[np.ndarray, np.ndarray | None]:
    """Out-of-fold probabilities on ``train`` and, when given, ``test`` from a model fitted on all of train."""
    oof = np.zeros((len(train), 3))
    for fold in np.unique(folds):
        valid = folds == fold
        oof[valid] = make_model().fit(train[~valid]).predict_proba(train[valid])
    test_probs = make_model().fit(train).predict_proba(test) if test is not None else None
    return oof, test_probs
