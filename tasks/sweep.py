"""Stage ``sweep``: N base models zero-shot on one evaluation set, side by side (seed 000's comparison).

    python -m tasks.sweep                    # every model in params (sweep.models)
    python -m tasks.sweep --only tiny smol   # some of them (a unit each: run them in parallel if you like)

Each model is its own unit: built into ``models/sweep/<name>/`` when it is ``tiny`` or a GGUF file
(reused while its entry is unchanged), evaluated through ``evaluate.backend`` with ``evaluate.generation``
(the default prompt strategies), scored, and recorded as one nested MLflow run; its row is written to
``reports/sweep/<set>/models/<name>.json``. The report then gathers every model of params that has a
row: comparison.md (model x task type: score and parse failures), comparison.png, and, where
``sweep.models.<name>.benchmarks`` give public scores, their Pearson and Spearman correlation with the
ShopBench score (``sweep.score``), with n and a warning below ``sweep.min_n`` models
(correlations.md/.json); metrics.json is the DVC metrics file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from shoplm import tracking
from shoplm.inference.backends import BACKENDS, open_backend
from shoplm.params.evaluate import EvaluateSection
from shoplm.params.loader import PARAMS_FILE, ParamsError, load_section
from shoplm.params.studies import SweepSection
from shoplm.shopbench.prompting.strategies import PromptPlan
from shoplm.shopbench.records import load_questions
from shoplm.study.compare import comparison_chart, comparison_metrics, format_comparison
from shoplm.study.correlation import correlate, format_correlations
from shoplm.study.models import model_folder
from shoplm.study.run import answers_evidence, evaluate_variant, tag_best
from tasks._runner import run

EVAL_DIR = Path("data/eval")
MODELS_DIR = Path("models/sweep")
REPORTS_DIR = Path("reports/sweep")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.sweep", description=__doc__,
                                     epilog="inference backends (evaluate.backend):\n" + BACKENDS.help(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="evaluate only these models of sweep.models")
    parser.add_argument("--rebuild", action="store_true", help="rebuild models/sweep/<name>/ even if unchanged")
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    args = parser.parse_args(argv)

    section: SweepSection = load_section(SweepSection, args.params)
    evaluate: EvaluateSection = load_section(EvaluateSection, args.params)
    if not section.models:
        raise ParamsError(f"{args.params}: sweep.models: no model to sweep")
    names = args.only or list(section.models)
    if unknown := [n for n in names if n not in section.models]:
        raise ParamsError(f"{args.params}: sweep.models has no {', '.join(map(repr, unknown))} "
                          f"(defined: {', '.join(section.models)})")
    questions = load_questions(EVAL_DIR / f"{section.eval_set}.jsonl")[: section.limit]
    prompts = PromptPlan.from_settings(evaluate.generation.prompts, evaluated=questions)
    out = REPORTS_DIR / section.eval_set
    rows_dir = out / "models"
    rows_dir.mkdir(parents=True, exist_ok=True)

    params = {**section.model_dump(mode="json", exclude={"models"}), "models": ",".join(names),
              "n_questions": len(questions), "backend": evaluate.backend}
    with tracking.stage_run(f"sweep@{section.eval_set}", params, tags={"eval_set": section.eval_set}):
        import mlflow

        results = []
        for position, name in enumerate(names, start=1):  # one unit per model: build, evaluate, record
            entry = section.models[name]
            print(f"[{position}/{len(names)}] {name}: {entry.model}", flush=True)
            folder = model_folder(entry, MODELS_DIR / name, rebuild=args.rebuild)
            with open_backend(evaluate, lambda: folder) as backend:
                result = evaluate_variant(name, questions, backend, evaluate.generation, prompts, out / "answers",
                                          params={"model": entry.model, "folder": str(folder),
                                                  **entry.model_dump(mode="json", exclude={"model"})},
                                          tags={"shoplm.sweep_model": name})
            results.append(result)
            row = {**result.row, "model": entry.model, "benchmarks": entry.benchmarks}
            (rows_dir / f"{name}.json").write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")
        tag_best(results, key=section.score)

        # The report: every model of params with a row on disk (this run's and earlier units').
        rows = {n: json.loads((rows_dir / f"{n}.json").read_text(encoding="utf-8"))
                for n in section.models if (rows_dir / f"{n}.json").is_file()}
        table = format_comparison(rows, "model")
        # How sure: each model's interval and its paired change to the first model of params.
        evidence = answers_evidence(questions, out / "answers", list(rows), next(iter(section.models)))
        if evidence is not None:
            table += "\n\nTrack 5 with 95% intervals, changes paired on the same questions:\n" + evidence.table()
        correlations = correlate({n: r[section.score] for n, r in rows.items()},
                                 {n: section.models[n].benchmarks for n in rows}, min_n=section.min_n)
        corr_text = format_correlations(correlations, section.score)
        title = f"zero-shot sweep · {section.eval_set} ({len(questions)} questions)"
        (out / "comparison.md").write_text(f"# {title}\n\n{table}\n\n{corr_text}\n", encoding="utf-8")
        (out / "correlations.json").write_text(json.dumps([c.as_dict() for c in correlations], indent=2) + "\n",
                                               encoding="utf-8")
        metrics = comparison_metrics(rows)
        if evidence is not None:
            metrics.update(evidence.metrics("evidence"))
        metrics.update({f"correlation/{c.benchmark}/{kind}": value for c in correlations
                        for kind, value in (("pearson", c.pearson), ("spearman", c.spearman), ("n", c.n))
                        if value is not None})
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        comparison_chart(rows, out / "comparison.png", title)
        mlflow.log_metrics({tracking.metric_name(k): float(v) for k, v in metrics.items()})
        mlflow.log_artifacts(str(out), artifact_path=f"sweep/{section.eval_set}")

    print(f"\n{title}\n\n{table}\n\n{corr_text}\n→ {out}/")
    return 0


if __name__ == "__main__":
    run(main)
