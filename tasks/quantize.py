"""Stage ``quantize``: weight-only W4A16 quantization of a merged model, scored before and after.

    python -m tasks.quantize           # quantize.model of params.yaml: models/merged/<model>/

Loads the merged model, zero-pads its MLP width to a multiple of group_size × tensor_parallel_size
(proving on real prompts that no logit moves), quantizes it with ``quantize.method`` (rtn, awq or gptq,
through llm-compressor; awq and gptq calibrate on questions of ``quantize.calibration.set`` rendered
with the project's chat prompt) and writes ``models/quantized/<model>/`` (compressed-tensors; loads in
transformers and vLLM). Scores the model before and after on ``quantize.eval_set`` with the official
scorer, and each method of ``quantize.compare`` as well (scored, not kept), so the quality each scheme
costs sits side by side. ``eval_set: search:<grid>`` scores on the test questions that search held
out, so "before" is the search's test score of the merge and the 4-bit model joins its side-by-side;
when the model is that search's choice and the search decoded as this stage does, "before" is read from
the search's per-question scores instead of decoded again (``before/from_search``; ``--decode-before``
decodes it anyway).
Writes ``reports/quantize/<model>/metrics.json``; MLflow logs sizes, times, padding proof, scores (per
track too) and parse failures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from shoplm import tracking
from shoplm.merging.reports import MERGED_LABEL, SEARCH_REPORTS_DIR, TEST_QUESTIONS, TEST_SAMPLES, TEST_SIDE_BY_SIDE
from shoplm.params.evaluate import EvaluateSection
from shoplm.params.loader import PARAMS_FILE, load_section
from shoplm.params.merging import SearchSection
from shoplm.params.quantization import QuantizeSection
from shoplm.quantization import QUANTIZERS
from shoplm.quantization.run import quantize_folder
from shoplm.shopbench.evidence import paired_difference
from shoplm.shopbench.records import TRACK_SHORT_NAMES, load_questions
from tasks._runner import run

EVAL_DIR = Path("data/eval")
MERGED_DIR = Path("models/merged")
QUANTIZED_DIR = Path("models/quantized")
REPORTS_DIR = Path("reports/quantize")


def eval_questions_path(section: QuantizeSection) -> Path:
    """data/eval/<set>.jsonl, or for ``search:<grid>`` the questions that search held out for its test."""
    grid = section.eval_search_grid
    if grid is None:
        return EVAL_DIR / f"{section.eval_set}.jsonl"
    path = SEARCH_REPORTS_DIR / grid / TEST_QUESTIONS
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no held-out questions of search@{grid} (quantize.eval_set "
                                f"{section.eval_set!r}); run `dvc repro search@{grid}` first")
    return path


def score_folder(model_dir: Path, questions: list, evaluate: EvaluateSection) -> tuple[dict[str, float], Any]:
    """Track 5, mean over tasks and parse failures of the saved model in ``model_dir``, and its score report.

    Decoded as the evaluate stages decode (``evaluate.constraints`` on), so before and after are scored
    the way the shipped model answers, and the 4-bit cost is not mixed with a change of decoding.
    """
    from shoplm.evaluation import run_zero_shot
    from shoplm.inference.transformers_backend import TransformersBackend
    from shoplm.shopbench.scoring import score

    with TransformersBackend(model_dir, batch_size=evaluate.generation.batch_size,
                             max_input_tokens=evaluate.generation.max_input_tokens,
                             constraints=evaluate.constraints) as backend:
        result = run_zero_shot(questions, backend, evaluate.generation)
    report = score(questions, result.predictions)
    return {**{f"tracks/{TRACK_SHORT_NAMES.get(t, t)}": v for t, v in report.tracks.items()},
            "track5": report.track5, "mean_over_tasks": report.mean_over_tasks,
            "parse_failures": float(report.parse_failures), "n": float(report.n),
            "eval_seconds": result.runtime_s}, report


def before_from_search(section: QuantizeSection, search: SearchSection, n_questions: int
                       ) -> tuple[dict[str, float], list] | None:
    """The merge's score and per-question scores on the search's test questions, as the search measured
    them, when decoding the saved merge again would only repeat that: the model is the search's choice
    (``search-<grid>``), the questions its whole test set, and the search decoded as this stage does
    (transformers, float32, ``evaluate.constraints``). None otherwise, or when the search's files lack them.
    """
    grid = section.eval_search_grid
    if (grid is None or section.model != f"search-{grid}" or search.backend != "transformers"
            or search.dtype != "float32"):
        return None
    out = SEARCH_REPORTS_DIR / grid
    try:
        row = json.loads((out / TEST_SIDE_BY_SIDE).read_text(encoding="utf-8"))[MERGED_LABEL]
        samples = json.loads((out / TEST_SAMPLES).read_text(encoding="utf-8"))[MERGED_LABEL]
    except (OSError, KeyError, json.JSONDecodeError):
        return None
    if len(samples) != n_questions or int(row["n"]) != n_questions:
        return None  # eval_limit cut the questions: score the ones kept
    before = {**{f"tracks/{track}": float(v) for track, v in row["tracks"].items()},
              "track5": float(row["track5"]), "mean_over_tasks": float(row["mean_over_tasks"]),
              "parse_failures": float(row["parse_failures"]), "n": float(row["n"]), "from_search": 1.0}
    return before, samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.quantize", description=__doc__,
                                     epilog="quantizers:\n" + QUANTIZERS.help(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    parser.add_argument("--decode-before", action="store_true", help="decode the merge before quantization "
                        "again even where the search already scored it on the same questions")
    args = parser.parse_args(argv)

    section: QuantizeSection = load_section(QuantizeSection, args.params)
    evaluate: EvaluateSection = load_section(EvaluateSection, args.params)
    source = MERGED_DIR / section.model
    if not (source / "config.json").is_file():
        raise FileNotFoundError(f"{source}: no merged model {section.model!r} (quantize.model); run "
                                f"`dvc repro merge@{section.model}` or a search first")
    calibration = load_questions(EVAL_DIR / f"{section.calibration.set}.jsonl")
    questions = load_questions(eval_questions_path(section))[: section.eval_limit] if section.eval_set else None
    out = QUANTIZED_DIR / section.model
    reports = REPORTS_DIR / section.model
    reports.mkdir(parents=True, exist_ok=True)

    params = {"source": str(source), **section.model_dump(mode="json")}
    with tracking.stage_run("quantize", params, tags={"model": section.model, "method": section.method}):
        import mlflow

        metrics: dict[str, float] = {}
        if questions is not None:
            # The search scored this merge on these questions already, decoded the same way: reuse it.
            reused = None if args.decode_before else before_from_search(
                section, load_section(SearchSection, args.params), len(questions))
            before, before_report = reused or score_folder(source, questions, evaluate)
            metrics.update({f"before/{k}": v for k, v in before.items()})
        methods = [section.method] + [m for m in section.compare if m != section.method]
        for method in methods:
            with tempfile.TemporaryDirectory(prefix=f"quantize-{method}-") as scratch:
                target = out if method == section.method else Path(scratch) / method
                result = quantize_folder(source, target, section, calibration, method=method)
                metrics.update(result.as_metrics(prefix=f"{method}/"))
                metrics[f"{method}/bits"] = float(section.bits)
                if questions is not None:
                    after, after_report = score_folder(target, questions, evaluate)
                    metrics.update({f"{method}/after/{k}": v for k, v in after.items()})
                    # The cost with its paired interval: the same questions, before - after.
                    cost = paired_difference(questions, before_report, after_report)
                    metrics.update({f"{method}/track5_cost": cost.point, f"{method}/track5_cost_low": cost.low,
                                    f"{method}/track5_cost_high": cost.high})
        mlflow.log_metrics({tracking.metric_name(k): v for k, v in metrics.items()})
        (reports / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        mlflow.log_artifacts(str(reports), artifact_path=f"quantize/{section.model}")
        mlflow.log_artifact(str(out / "quantize_summary.json"), artifact_path=f"quantize/{section.model}")

    for method in methods:
        line = (f"{method}: {metrics[f'{method}/quantize_seconds']:.1f} s, {metrics[f'{method}/source_mb']:.1f} MB → "
                f"{metrics[f'{method}/output_mb']:.1f} MB, padding max |Δ logit| "
                f"{metrics[f'{method}/padding/max_abs_logit_diff']:.1e} "
                f"({metrics[f'{method}/padding/relative_logit_diff']:.1e} of the largest)")
        if questions is not None:
            low, high = metrics[f"{method}/track5_cost_low"], metrics[f"{method}/track5_cost_high"]
            line += (f", track5 {metrics['before/track5']:.4f} → {metrics[f'{method}/after/track5']:.4f} (cost "
                     f"{metrics[f'{method}/track5_cost']:+.4f}, 95% CI [{low:+.4f}, {high:+.4f}]"
                     f"{'' if low > 0 or high < 0 else ': inside the noise'} on {len(questions)} questions), parse "
                     f"failures {metrics['before/parse_failures']:.0f} → "
                     f"{metrics[f'{method}/after/parse_failures']:.0f}")
        print(line)
    print(f"quantized model ({section.method}) → {out}/")
    return 0


if __name__ == "__main__":
    run(main)
