"""Stage ``package@<track>``: the track's model as a KDD Cup 2024 submission repository, checked end to end.

    python -m tasks.package track5      # package.tracks.track5 of params.yaml → dist/submission-track5/

Writes ``dist/submission-<track>/`` in the starter kit's format (``shoplm.submission.writer``), then runs
the harness on it (``shoplm check-submission``: a fresh process in the package folder, batches of one
task type of sizes 1, 7 and 16, every call checked and timed) on the questions of
``package.tracks.<track>.eval_set``. The package's answers must equal, one by one, the evaluate stage's
for the same model and questions: ``reports/<set>/<label>/predictions.jsonl`` for the base (zero-shot) and
for adapters; a merged or quantized model, which that stage does not score, is scored here by the same
code (``shoplm.evaluation.run_zero_shot``, the evaluate section's backend and settings) into
``reports/package/<track>/evaluate_predictions.jsonl`` (where the report's answers are copied too). A difference, a failed call or a batch over the
time limit fails the stage (exit 1) naming the batch or the first question that differs. The package's
README gets the scores; ``reports/package/<track>/`` the report and metrics; MLflow all of it.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
from pathlib import Path

from shoplm import tracking
from shoplm.inference.backends import backend_options, get_backend_class, open_backend
from shoplm.modeling import resolve_stage_model
from shoplm.params.evaluate import EvaluateSection
from shoplm.params.loader import PARAMS_FILE, load_eval_sets, load_section
from shoplm.params.release import PackageSection
from shoplm.registry import UnknownNameError
from shoplm.shopbench.predictions import load_predictions, write_predictions
from shoplm.shopbench.records import load_questions
from shoplm.shopbench.report import format_table
from shoplm.submission.check import check_submission
from shoplm.submission.predictor import FALLBACK_BACKEND
from shoplm.submission.report import check_metrics, decoding_summary, format_check
from shoplm.submission.tracks import SUBMISSION_TRACKS
from shoplm.submission.writer import (
    BASE_DIR,
    ModelSource,
    PackageSpec,
    package_size_mb,
    resolve_model,
    write_package,
    write_readme,
)
from tasks._runner import run

EVAL_DIR = Path("data/eval")
REPORTS_DIR = Path("reports")
DIST_DIR = Path("dist")


def evaluate_predictions(source: ModelSource, eval_set: str, questions: list, evaluate: EvaluateSection) -> list[str]:
    """The evaluate stage's answers for this model: its report, or the same code run here (see docstring)."""
    if source.evaluate_label is not None:
        path = REPORTS_DIR / eval_set / source.evaluate_label / "predictions.jsonl"
        if not path.is_file():
            stage = f"evaluate@{eval_set}" if source.adapter is None else f"evaluate_adapter@{eval_set}-{source.evaluate_label}"
            raise FileNotFoundError(f"{path}: no evaluate report for {source.folder}; run `dvc repro {stage}`")
        return load_predictions(path)[: len(questions)]
    from shoplm.evaluation import run_zero_shot

    with open_backend(evaluate, lambda: source.weights) as backend:
        return run_zero_shot(questions, backend, evaluate.generation).predictions


def _git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.package", description=__doc__,
                                     epilog="tracks (package.tracks keys):\n" + SUBMISSION_TRACKS.help(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("track", help="a key of package.tracks (track1 … track5)")
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    args = parser.parse_args(argv)

    section: PackageSection = load_section(PackageSection, args.params)
    evaluate: EvaluateSection = load_section(EvaluateSection, args.params)
    if args.track not in section.tracks:
        raise UnknownNameError("package.tracks entry", args.track, section.tracks)
    entry = section.tracks[args.track]
    if entry.eval_set not in (sets := load_eval_sets(args.params)):
        raise UnknownNameError(f"eval_sets entry (package.tracks.{args.track}.eval_set)", entry.eval_set, sets)
    source = resolve_model(Path(entry.model), base=resolve_stage_model(BASE_DIR))
    questions = load_questions(EVAL_DIR / f"{entry.eval_set}.jsonl")[: evaluate.limit]
    reports = REPORTS_DIR / "package" / args.track
    reports.mkdir(parents=True, exist_ok=True)
    out = DIST_DIR / f"submission-{args.track}"

    run_params = {"track": args.track, "backend": evaluate.backend, **section.model_dump(mode="json", exclude={"tracks"}),
                  **entry.model_dump(mode="json")}
    with tracking.stage_run(f"package@{args.track}", run_params, tags={"model": entry.model}):
        import mlflow

        reference = evaluate_predictions(source, entry.eval_set, questions, evaluate)
        write_predictions(reports / "evaluate_predictions.jsonl", reference)  # what the package must reproduce
        spec = PackageSpec(track=SUBMISSION_TRACKS.get(args.track), backend=evaluate.backend,
                           generation=evaluate.generation, batch_size=section.batch_size,
                           source=source if get_backend_class(evaluate.backend).needs_model else None,
                           backend_options=backend_options(evaluate),
                           fallback_options=backend_options(evaluate, FALLBACK_BACKEND)
                           if get_backend_class(evaluate.backend).requires else None, authors=section.authors,
                           description=entry.description or "", pins=section.pins, commit=_git_commit())
        write_package(out, spec)
        result = check_submission(out, questions, reference=reference, sizes=section.check_batch_sizes,
                                  seconds_per_sample=section.seconds_per_sample)
        report = format_check(result, section.seconds_per_sample)
        same = "identical, one by one, to the evaluate stage's" if result.differing == 0 else \
            f"different from the evaluate stage's in {result.differing} questions"
        write_readme(out, spec, n_questions=len(questions), eval_set=entry.eval_set,
                     batch_sizes=", ".join(map(str, section.check_batch_sizes)), parity=same,
                     verdict="Every check passed." if result.ok else f"The check FAILED ({len(result.failures)} "
                     f"problems, listed in reports/package/{args.track}/check.txt of the pipeline).",
                     score_table=format_table(result.report) if result.report else result.fatal,
                     decoding=decoding_summary(result), import_s=f"{result.import_s or 0:.1f}",
                     init_s=f"{result.init_s or 0:.1f}", max_s_per_sample=f"{result.max_seconds_per_sample():.2f}",
                     limit_s=f"{section.seconds_per_sample:g}", machine=_machine())
        metrics = {**check_metrics(result), "package_mb": package_size_mb(out)}
        (reports / "check.txt").write_text(report + "\n", encoding="utf-8")
        (reports / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        mlflow.log_metrics({tracking.metric_name(k): v for k, v in metrics.items()})
        mlflow.log_artifacts(str(reports), artifact_path=f"package/{args.track}")

    print(report)
    print(f"\n{out}/: {metrics['package_mb']:.1f} MB, import {result.import_s or 0:.1f} s, UserModel() "
          f"{result.init_s or 0:.1f} s → {reports}/")
    return 0 if result.ok else 1


def _machine() -> str:
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.device_count()}x {torch.cuda.get_device_name(0)}"
    return f"{platform.machine()} CPU only, {torch.get_num_threads()} threads"


if __name__ == "__main__":
    run(main)
