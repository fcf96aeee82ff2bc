"""Scoring a model that is already in memory with the project's evaluation (prompts, generation, scorer).

The search merges each candidate into the same loaded model; re-reading it from disk per candidate
would cost the load each time. ``LoadedModelBackend`` is the transformers backend around that live
model (same batching, stop tokens and greedy settings), and ``QuestionScorer`` runs the evaluation
``run_zero_shot`` + the official ``score`` on it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shoplm.evaluation import run_zero_shot
from shoplm.inference.transformers_backend import TransformersBackend
from shoplm.params.generation import GenerationSettings
from shoplm.params.serving import ConstraintSettings
from shoplm.shopbench.scoring import score

OBJECTIVES = ("track5", "mean_over_tasks")


class LoadedModelBackend(TransformersBackend):
    """``TransformersBackend`` over a model and tokenizer the caller already holds (and keeps owning)."""

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 16, max_input_tokens: int = 3072,
                 constraints: ConstraintSettings | None = None, show_progress: bool = False) -> None:
        import torch

        self._grammars = None

        parameter = next(model.parameters())
        self.device, self.dtype = str(parameter.device), parameter.dtype
        self.batch_size, self.max_input_tokens, self.show_progress = batch_size, max_input_tokens, show_progress
        self.adapter_dir = None
        self.tokenizer, self.model, self._torch = tokenizer, model.eval(), torch
        self.eos_token_ids = self._stop_token_ids()
        self.pad_token_id = self._pad_token_id()
        self.constrain(constraints or ConstraintSettings.off())

    def close(self) -> None:  # the model belongs to the caller (a MergeWorkspace): nothing to free
        pass


def compact_samples(samples: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-question scores as the bootstrap reads them (``shoplm.shopbench.evidence``): task, metric, score
    (a float, or [tp, fp, fn] for micro f1). The parsed answers are left out: the search caches these."""
    return [{"task_name": s["task_name"], "metric": s["metric"], "score": s["score"]} for s in samples]


@dataclass(frozen=True)
class CandidateScore:
    """One evaluation: the objective, parse failures, seconds, the whole score report (``to_dict``, no
    per-question rows) and the per-question scores (``compact_samples``), which intervals need."""

    score: float
    parse_failures: int
    seconds: float
    report: dict[str, Any] = field(repr=False)
    samples: list[dict[str, Any]] = field(default_factory=list, repr=False)


@dataclass
class QuestionScorer:
    """Scores a live model on fixed questions: the objective is Track 5 or the mean over tasks."""

    questions: Sequence[Any]
    tokenizer: Any
    settings: GenerationSettings
    objective: str = "track5"
    constraints: ConstraintSettings | None = None  # evaluate.constraints: candidates decode as the final model

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective {self.objective!r}: choose one of {', '.join(OBJECTIVES)}")

    def __call__(self, model: Any) -> CandidateScore:
        start = time.perf_counter()
        backend = LoadedModelBackend(model, self.tokenizer, batch_size=self.settings.batch_size,
                                     max_input_tokens=self.settings.max_input_tokens, constraints=self.constraints)
        result = run_zero_shot(self.questions, backend, self.settings)
        scored = score(self.questions, result.predictions)
        report = scored.to_dict()
        return CandidateScore(float(report[self.objective]), int(report["parse_failures"]),
                              time.perf_counter() - start, report, compact_samples(scored.samples))
