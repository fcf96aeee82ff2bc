"""Grouped folds: every battle on one prompt lands in the same fold, so no prompt leaks into validation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from arena.data import joined


def prompt_groups(frame: pd.DataFrame) -> np.ndarray:
    """One group id per distinct prompt text (all turns)."""
    return pd.factorize(frame["prompt"].map(joined))[0]


def grouped_folds(frame: pd.DataFrame, n_folds: int, seed: int = 0) -> np.ndarray:
    """Fold number (0..n_folds-1) of each row; groups are shuffled with ``seed``, then balanced by size."""
    from sklearn.model_selection import GroupKFold

    groups = prompt_groups(frame)
    if len(set(groups)) < n_folds:
        raise ValueError(f"{n_folds} folds need at least {n_folds} distinct prompts, got {len(set(groups))}")
    fold = np.empty(len(frame), dtype=int)
    splitter = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for number, (_, valid) in enumerate(splitter.split(np.zeros(len(frame)), groups=groups)):
        fold[valid] = number
    return fold


def validation_mask(frame: pd.DataFrame, n_folds: int, valid_fold: int, seed: int = 0) -> np.ndarray:
    """True for the battles of the validation fold; the other folds train."""
    return grouped_folds(frame, n_folds, seed) == valid_fold
