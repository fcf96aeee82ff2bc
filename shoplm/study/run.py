"""One variant of a study (a prompt strategy, a base model): generate, score, record.

Both studies evaluate exactly as stage ``evaluate`` does (``run_zero_shot`` then the official
``score``) through the backend ``evaluate.backend`` names, so their numbers are comparable with the
pipeline's reports. Each variant is one nested MLflow run under the stage's run, with the same
metric names as ``evaluate`` runs, so the MLflow UI compares them side by side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shoplm import tracking
from shoplm.evaluation import EvaluationResult, run_zero_shot
from shoplm.inference.backends import GenerationBackend
from shoplm.params.generation import GenerationSettings
from shoplm.shopbench.comparison import Comparison, compare
from shoplm.shopbench.prompting.strategies import PromptPlan
from shoplm.shopbench.records import Question
from shoplm.shopbench.scoring import ScoreReport, score
from shoplm.study.compare import comparison_row


@dataclass(frozen=True)
class VariantResult:
    label: str
    evaluation: EvaluationResult
    report: ScoreReport
    run_id: str

    @property
    def row(self) -> dict[str, Any]:
        return comparison_row(self.report, self.evaluation.runtime_s)


def evaluate_variant(label: str, questions: list[Question], backend: GenerationBackend,
                     settings: GenerationSettings, prompts: PromptPlan | None, out_dir: Path,
                     params: dict[str, Any], tags: dict[str, str] | None = None) -> VariantResult:
    """Generate and score one variant in its own nested MLflow run; its raw and parsed answers go to
    ``out_dir/<label>.jsonl`` (and the run's artifacts)."""
    import mlflow

    evaluation = run_zero_shot(questions, backend, settings, prompts=prompts)
    report = score(questions, evaluation.predictions)
    out_dir.mkdir(parents=True, exist_ok=True)
    answers = out_dir / f"{label}.jsonl"
    with answers.open("w", encoding="utf-8") as fh:
        for raw, prediction, sample in zip(evaluation.raw_outputs, evaluation.predictions, report.samples):
            fh.write(json.dumps({"task_name": sample["task_name"], "raw": raw, "prediction": prediction,
                                 "parsed": sample["parsed"], "score": sample["score"]}, ensure_ascii=False,
                                default=str) + "\n")
    with mlflow.start_run(run_name=label, nested=True, tags={"shoplm.variant": label, **(tags or {})}) as run:
        mlflow.log_params(tracking.flatten_params(params))
        mlflow.log_metrics({**tracking.report_metrics(report.to_dict()), **evaluation.metrics()})
        mlflow.log_artifact(str(answers))
    return VariantResult(label, evaluation, report, run.info.run_id)


def answers_evidence(questions: list[Question], answers_dir: Path, labels: list[str],
                     reference: str) -> Comparison | None:
    """The variants' Track 5 intervals and paired changes to ``reference``, from the per-question scores
    in ``answers_dir/<label>.jsonl`` (this run's and earlier units'); a file of other questions is left
    out. None when the reference has no answers file."""
    scored: dict[str, list[dict[str, Any]]] = {}
    for label in [reference, *(name for name in labels if name != reference)]:
        path = answers_dir / f"{label}.jsonl"
        if not path.is_file():
            continue
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if len(rows) == len(questions) and all(r["task_name"] == q.task_name for r, q in zip(rows, questions)):
            scored[label] = [{**row, "metric": q.metric} for row, q in zip(rows, questions)]
    return compare(questions, scored, reference) if reference in scored else None


def tag_best(results: list[VariantResult], key: str = "track5") -> VariantResult:
    """Tag the best variant's run ``shoplm.best`` (ties: the first listed), as the merge search does."""
    import mlflow

    best = max(results, key=lambda r: getattr(r.report, key))
    mlflow.MlflowClient().set_tag(best.run_id, "shoplm.best", "true")
    mlflow.set_tag("shoplm.best_variant", best.label)
    return best
