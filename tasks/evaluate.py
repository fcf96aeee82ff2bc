"""Stage ``evaluate``: generate answers for one evaluation set, score them with the official rules.

    python -m tasks.evaluate sample                 # zero-shot: the base model as built by stage `base`
    python -m tasks.evaluate sample --adapter v7    # the base model + models/adapters/v7
    python -m tasks.evaluate sample --model quantized/search-ensemble --backend vllm   # any models/ folder

Generation runs under ``evaluate.budget``: the competition's per-track time limits (and its 10 s per
question cap); questions the limit leaves no room for get an empty answer, are counted
(``budget/cut_questions``) and flagged in samples.jsonl (``budget_cut``).

Writes ``reports/<set>/<label>/`` (zero-shot, the adapter's name, the ``--model`` path or ``--label``):
predictions.jsonl (aligned with the questions), samples.jsonl (parsed answer and score per question),
metrics.json (the score report plus runtime; a DVC metrics file), score.txt (the table) and tracks.png;
and logs all of it to MLflow.

A report replaces the last good one only when it is complete: every file is written into a scratch
folder beside it and moved into place at the very end, so a run that fails at any point (generation,
scoring, the chart, MLflow) leaves the previous report as it was. DVC itself would delete the old
files before running the stage; the report outs are declared ``persist: true`` in dvc.yaml to stop that.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from shoplm import tracking
from shoplm.evaluation import run_zero_shot
from shoplm.inference.backends import BACKENDS, open_backend
from shoplm.inference.budget import TimeBudget
from shoplm.modeling import resolve_stage_model
from shoplm.params.evaluate import EvaluateSection
from shoplm.params.loader import PARAMS_FILE, load_section
from shoplm.params.serving import ConstraintSettings
from shoplm.shopbench.constraint_ablation import compare_reports
from shoplm.shopbench.predictions import write_predictions
from shoplm.shopbench.records import load_questions
from shoplm.shopbench.report import format_table
from shoplm.shopbench.scoring import score
from tasks._runner import run

EVAL_DIR = Path("data/eval")
MODELS_DIR = Path("models")
BASE_DIR = MODELS_DIR / "base"
ADAPTERS_DIR = MODELS_DIR / "adapters"
REPORTS_DIR = Path("reports")
ZERO_SHOT = "zero-shot"


def _backend(section: EvaluateSection, name: str, model: str | None, adapter: Path | None):
    return open_backend(section, lambda: _model_dir(model), adapter, name=name)


def _model_dir(model: str | None) -> Path:
    if model is None:
        return resolve_stage_model(BASE_DIR)
    path = MODELS_DIR / model
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path}: no model folder (config.json) for --model {model!r}; run the stage "
                                "that writes it first (`dvc repro quantize` for quantized/<model>)")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.evaluate", description=__doc__,
                                     epilog="inference backends (evaluate.backend):\n" + BACKENDS.help(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("set", help="an evaluation set name (a key of eval_sets or heldout_sets; read from data/eval/)")
    parser.add_argument("--adapter", help="name of a trained adapter in models/adapters/ (default: zero-shot)")
    parser.add_argument("--model", help="a model folder under models/ instead of models/base, e.g. "
                        "quantized/search-ensemble")
    parser.add_argument("--label", help="report folder name, reports/<set>/<label>/ (default: the adapter, the "
                        "--model path with '/' as '-', or zero-shot)")
    parser.add_argument("--backend", choices=BACKENDS.names(), help="override evaluate.backend for this run")
    parser.add_argument("--ablation", action="store_true", help="when evaluate.constraints.ablation is on, "
                        "evaluate a second time with every constraint off (stage evaluate_final passes it: "
                        "once per run, on the model that ships, since it doubles the evaluation's time)")
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    args = parser.parse_args(argv)

    section: EvaluateSection = load_section(EvaluateSection, args.params)  # an unknown backend fails here
    questions = load_questions(EVAL_DIR / f"{args.set}.jsonl")[: section.limit]
    if args.adapter and args.model:
        parser.error("give --adapter or --model, not both")
    backend_name = args.backend or section.backend
    label = args.label or args.adapter or (args.model.replace("/", "-") if args.model else ZERO_SHOT)
    adapter = ADAPTERS_DIR / args.adapter if args.adapter else None
    if adapter is not None and not adapter.is_dir():
        raise FileNotFoundError(f"{adapter}: no such adapter (train it with `dvc repro train@{args.adapter}`)")
    out = REPORTS_DIR / args.set / label
    out.mkdir(parents=True, exist_ok=True)

    run_params = {"set": args.set, "model": label, "model_folder": f"models/{args.model}" if args.model else None,
                  **section.model_dump(mode="json"), "backend": backend_name,
                  "backend_description": BACKENDS.describe()[backend_name]}
    with tracking.stage_run(f"evaluate@{args.set}-{label}", run_params, tags={"eval_set": args.set,
                                                                               "model": label}), \
            tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{label}.") as scratch:
        import mlflow

        tracking.log_question_set(args.set, EVAL_DIR / f"{args.set}.jsonl", questions)
        budget = TimeBudget.for_questions(section.budget, questions)
        with _backend(section, backend_name, args.model, adapter) as backend:
            # A backend that cannot constrain refused constraints that are on: one that holds some applies them.
            ablate = args.ablation and backend.constraints is not None and section.constraints.ablation
            result = run_zero_shot(questions, backend, section.generation, budget=budget)
            if ablate:  # the same engine again with every constraint off: what the constraints bought
                backend.constrain(ConstraintSettings.off())
                unconstrained = run_zero_shot(questions, backend, section.generation,
                                              budget=TimeBudget.for_questions(section.budget, questions))
        report = score(questions, result.predictions)
        metrics = {**report.to_dict(), **result.metrics()}
        ablation = compare_reports(score(questions, unconstrained.predictions), report, questions) if ablate else None

        staged = Path(scratch)
        write_predictions(staged / "predictions.jsonl", result.predictions)
        with (staged / "samples.jsonl").open("w", encoding="utf-8") as fh:
            cut = set(result.budget_cut)
            for index, (sample, task_type) in enumerate(zip(report.samples, result.task_types)):
                row = {**sample, "predicted_task_type": task_type, "budget_cut": index in cut}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        (staged / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        table = format_table(report)
        (staged / "score.txt").write_text(table + "\n", encoding="utf-8")
        tracking.track_bar_chart(metrics, staged / "tracks.png", title=f"{args.set} · {label}")
        # Always written (stage evaluate_final declares them): the table, or why there is none.
        (staged / "constraints_ablation.txt").write_text(
            (ablation.table() if ablation else "no ablation: not asked for (--ablation), or "
             "evaluate.constraints has ablation or every constraint off") + "\n", encoding="utf-8")
        (staged / "constraints_ablation.json").write_text(
            json.dumps(ablation.to_dict() if ablation else {}, indent=2) + "\n", encoding="utf-8")
        if ablation is not None:
            mlflow.log_metrics({tracking.metric_name(k): v for k, v in ablation.metrics().items()})

        mlflow.log_metrics({**tracking.report_metrics(metrics), **result.metrics()})
        mlflow.log_artifacts(str(staged), artifact_path=f"{args.set}/{label}")
        for path in staged.iterdir():  # the complete report replaces the last good one, file by file
            os.replace(path, out / path.name)

    print(table)
    print(f"\n{len(questions)} questions in {result.runtime_s:.1f} s ({result.questions_per_s:.1f}/s) → {out}/")
    if ablation is not None:
        print(f"\nconstrained decoding, on vs off (the second pass unconstrained):\n{ablation.table()}")
    if result.budget_cut:
        print(f"time budget: {len(result.budget_cut)} questions cut (empty answers), indices {result.budget_cut}")
    return 0


if __name__ == "__main__":
    run(main)
