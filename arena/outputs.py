"""What the arena stages write: probability files, the Kaggle submission, a reliability diagram."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from arena.data import LABEL_COLUMNS

SUBMISSION_COLUMNS = ("id", *LABEL_COLUMNS)


def write_probabilities(path: Path, ids: pd.Series, probs: np.ndarray) -> Path:
    """``id`` and one column per class, in the competition's column names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(np.asarray(probs), columns=list(LABEL_COLUMNS))
    frame.insert(0, "id", ids.to_numpy())
    frame.to_csv(path, index=False, float_format="%.6f")
    return path


def read_probabilities(path: Path, ids: pd.Series) -> np.ndarray:
    """The probabilities of ``path`` in the order of ``ids``; a missing or extra id is an error."""
    frame = pd.read_csv(path, dtype={"id": str}).set_index("id")
    wanted = ids.astype(str)
    if set(frame.index) != set(wanted):
        raise ValueError(f"{path}: ids do not match the data ({len(frame)} rows, expected {len(wanted)})")
    return frame.loc[wanted, list(LABEL_COLUMNS)].to_numpy(dtype=float)


def write_submission(path: Path, test: pd.DataFrame, probs: np.ndarray) -> Path:
    """Kaggle's ``submission.csv``: ``id,winner_model_a,winner_model_b,winner_tie``, one row per test id."""
    if len(probs) != len(test):
        raise ValueError(f"{len(probs)} predictions for {len(test)} test rows")
    return write_probabilities(path, test["id"], probs)


def reliability_diagram(labels: np.ndarray, runs: dict[str, np.ndarray], path: Path, bins: int = 10) -> Path:
    """Predicted probability against observed frequency, every class pooled, one line per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    onehot = np.eye(3)[np.asarray(labels)].ravel()
    edges = np.linspace(0, 1, bins + 1)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfectly calibrated")
    for name, probs in runs.items():
        flat = np.asarray(probs).ravel()
        which = np.clip(np.digitize(flat, edges) - 1, 0, bins - 1)
        filled = [b for b in range(bins) if (which == b).any()]
        ax.plot([flat[which == b].mean() for b in filled], [onehot[which == b].mean() for b in filled],
                marker="o", label=name)
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed frequency")
    ax.set_xlim(0, 1), ax.set_ylim(0, 1)
    ax.set_title("reliability (validation, all classes)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
