"""The arena stages' shared plumbing: the data split they all use, and their MLflow runs."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shoplm import tracking
from arena.data import read_arena_csv
from arena.folds import validation_mask
from arena.metrics import scores

EXPERIMENT = "shoplm-arena"
OUT_DIR = Path("reports/arena")


@dataclass
class Split:
    """The training battles, the validation battles (a grouped fold) and the test battles."""

    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame

    @property
    def valid_labels(self) -> np.ndarray:
        return self.valid["label"].to_numpy()


def load_split(data: Any) -> Split:
    """``data``: the validated ``data`` section of arena/params.yaml."""
    frame = read_arena_csv(data.train, "train")
    valid = validation_mask(frame, data.folds, data.valid_fold, data.seed)
    return Split(frame[~valid].reset_index(drop=True), frame[valid].reset_index(drop=True),
                 read_arena_csv(data.test, "test"))


@contextmanager
def arena_run(name: str, params: Mapping[str, Any], tags: Mapping[str, str] | None = None) -> Iterator[Any]:
    """An MLflow run in the ``shoplm-arena`` experiment (nested under the arena flow's parent run)."""
    with tracking.in_experiment(os.environ.get(tracking.EXPERIMENT_ENV) or EXPERIMENT), \
            tracking.stage_run(f"arena/{name}", params, tags={"arena.model": name, **(tags or {})}) as run:
        yield run


def log_scores(labels: np.ndarray, probs: np.ndarray, prefix: str = "valid") -> dict[str, float]:
    """Log loss and accuracy on ``labels`` into the active run; returns them."""
    import mlflow

    values = {f"{prefix}_{k}": v for k, v in scores(labels, probs).items()}
    mlflow.log_metrics(values)
    return values


def write_metrics(path: Path, metrics: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
