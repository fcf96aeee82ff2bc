"""Where the training stages read and write, and the mixture loader they share.

``tasks/train.py`` and ``tasks/dpo.py`` both read a mixture built by stage ``build`` and the base model
of stage ``base``, and write adapters and resumable checkpoints; the paths live here so that neither
stage module imports the other (tasks import only ``shoplm``).
"""

from __future__ import annotations

import json
from pathlib import Path

from shoplm.shopbench.records import Question, load_questions

PROCESSED_DIR = Path("data/processed")
BASE_DIR = Path("models/base")
ADAPTERS_DIR = Path("models/adapters")
CHECKPOINTS_DIR = Path("models/checkpoints")
#: Run figures (wall clock, tokens/s, peak memory) per stage run: DVC metrics, never a dependency.
RUN_METRICS_DIR = Path("metrics")
DPO_SUFFIX = "-dpo"


def mixture_file(mixture: str) -> Path:
    return PROCESSED_DIR / mixture / "train.jsonl"


def mixture_questions(mixture: str) -> list[Question]:
    """The training questions the build stage wrote for ``mixture``."""
    data_file = mixture_file(mixture)
    if not data_file.is_file():
        raise FileNotFoundError(f"{data_file}: mixture {mixture!r} not built (run `dvc repro build@{mixture}`)")
    return load_questions(data_file)


def run_metrics_file(stage: str, adapter: str) -> Path:
    """``metrics/<stage>/<adapter>.json``: what one run of a training stage measured."""
    return RUN_METRICS_DIR / stage / f"{adapter}.json"


def write_run_metrics(stage: str, adapter: str, metrics: dict[str, float]) -> Path:
    """Write :func:`run_metrics_file` (sorted keys, so only changed figures show in a diff)."""
    path = run_metrics_file(stage, adapter)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
