"""Zero-shot evaluation: questions → predictions, with timing and task-type diagnostics.

Scoring is deliberately not done here: the caller passes ``result.predictions`` to
``shoplm.shopbench.scoring.score(questions, predictions)``. Keeping generation and scoring apart means
predictions can be saved, re-scored after a scorer fix, or produced on a GPU machine and scored on a
laptop, and that this module needs no metric dependencies.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shoplm.inference.backends import GenerationBackend
from shoplm.inference.budget import TimeBudget
from shoplm.inference.generation import build_requests, postprocess_prediction, question_field
from shoplm.params.generation import GenerationSettings
from shoplm.shopbench.prompting.strategies import PromptPlan


@dataclass(frozen=True)
class EvaluationResult:
    """What one zero-shot run produced, aligned with the input questions."""

    predictions: list[str]  # post-processed text, the thing to score and save
    raw_outputs: list[str]  # the backend's text before post-processing
    task_types: list[str]  # predicted by the classifier (what the prompts and limits used)
    rules: list[str]  # the classifier rule that fired for each question
    gold_task_types: list[str | None]  # from the records when present (never on a hidden test set)
    runtime_s: float
    budget_cut: list[int] = field(default_factory=list)  # indices left unanswered when time ran out
    budget_metrics: dict[str, float] = field(default_factory=dict)  # budget/* (empty without a budget)

    @property
    def n_questions(self) -> int:
        return len(self.predictions)

    @property
    def questions_per_s(self) -> float:
        return self.n_questions / self.runtime_s if self.runtime_s > 0 else float("inf")

    @property
    def classification_accuracy(self) -> float | None:
        """Share of questions whose predicted task type equals the gold one; None without gold."""
        pairs = [(p, g) for p, g in zip(self.task_types, self.gold_task_types) if g is not None]
        if not pairs:
            return None
        return sum(p == g for p, g in pairs) / len(pairs)

    @property
    def misclassified(self) -> list[int]:
        """Indices of questions whose predicted task type differs from a known gold one."""
        return [
            i for i, (p, g) in enumerate(zip(self.task_types, self.gold_task_types)) if g is not None and p != g
        ]

    def metrics(self) -> dict[str, float]:
        """Flat numbers for MLflow: runtime, throughput, task-type accuracy, counts per predicted type."""
        out: dict[str, float] = {
            "n_questions": float(self.n_questions),
            "runtime_s": self.runtime_s,
            "questions_per_s": self.questions_per_s,
        }
        if self.classification_accuracy is not None:
            out["task_type_accuracy"] = self.classification_accuracy
        for task_type, count in sorted(Counter(self.task_types).items()):
            out[f"n_predicted_{task_type}"] = float(count)
        return {**out, **self.budget_metrics}

    def prediction_records(self) -> list[dict[str, str]]:
        """The predictions file's rows: ``{"prediction": text}``, one per question, in order."""
        return [{"prediction": p} for p in self.predictions]


def run_zero_shot(
    questions: Iterable[Any],
    backend: GenerationBackend,
    settings: GenerationSettings | None = None,
    *,
    prompts: PromptPlan | None = None,
    budget: TimeBudget | None = None,
    adapter: str | None = None,
) -> EvaluationResult:
    """Classify, prompt and generate for every question; no scoring (see module docstring).

    ``questions`` are ``shoplm.shopbench.records.Question`` objects or dicts with at least
    ``input_field`` and ``is_multiple_choice``; a ``task_type`` is used only to report how well the
    classifier guessed it. Backend batch size is the backend's own setting: build it with
    ``batch_size=settings.batch_size``. ``prompts`` defaults to ``settings.prompts``; each completion is
    first cut to the prompt strategy's final answer (chain-of-thought: the text after "Answer:"). With a
    ``budget`` the backend is called chunk by chunk and questions the time limit leaves no room for get
    an empty answer (``result.budget_cut``). ``adapter`` (a LoRA adapter folder) goes on every request
    (``GenerationRequest.adapter``): one vLLM engine then answers for several adapters, one call each.
    """
    settings = settings or GenerationSettings()
    questions = list(questions)
    prompts = prompts or PromptPlan.from_settings(settings.prompts, evaluated=questions)
    start = time.perf_counter()
    requests = build_requests(questions, settings, classify=True, adapter=adapter, prompts=prompts)
    cut: list[int] = []
    budget_metrics: dict[str, float] = {}
    if budget is None:
        raw: Sequence[str] = backend.generate(requests)
    else:
        outcome = budget.run(backend, requests)
        raw, cut, budget_metrics = outcome.outputs, outcome.cut, outcome.metrics()
    runtime = time.perf_counter() - start
    if len(raw) != len(requests):
        raise RuntimeError(f"backend {backend.name!r} returned {len(raw)} outputs for {len(requests)} requests")
    return result_from_outputs(questions, requests, raw, settings, prompts, runtime, cut, budget_metrics)


def result_from_outputs(
    questions: Sequence[Any],
    requests: Sequence[Any],
    raw: Sequence[str],
    settings: GenerationSettings,
    prompts: PromptPlan,
    runtime_s: float,
    budget_cut: Sequence[int] = (),
    budget_metrics: dict[str, float] | None = None,
) -> EvaluationResult:
    """An ``EvaluationResult`` from a backend's raw completions of ``build_requests(questions, ...)``:
    each cut to the prompt strategy's final answer, then post-processed (what ``run_zero_shot`` does;
    also used where one engine call answers several models' requests at once)."""
    answers = [prompts.final_answer(text, request.task_type) for text, request in zip(raw, requests)]
    predictions = [
        postprocess_prediction(text, request.task_type, settings) if settings.postprocess else text
        for text, request in zip(answers, requests)
    ]
    return EvaluationResult(
        predictions=predictions,
        raw_outputs=list(raw),
        task_types=[r.task_type for r in requests],
        rules=[r.metadata["rule"] for r in requests],
        gold_task_types=[question_field(q, "task_type") for q in questions],
        runtime_s=runtime_s,
        budget_cut=list(budget_cut),
        budget_metrics=dict(budget_metrics or {}),
    )
