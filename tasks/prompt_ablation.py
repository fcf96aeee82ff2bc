"""Stage ``prompt_ablation``: every prompt strategy on one evaluation set, with one model, side by side.

    python -m tasks.prompt_ablation                 # params: prompt_ablation (+ evaluate: backend, generation)

Each strategy in ``prompt_ablation.strategies`` is applied to every task type in turn (plain, task-type,
k-shot, cot: see shoplm/shopbench/prompting), through ``evaluate.backend`` on the base model (or
``prompt_ablation.adapter``), loaded once. One nested MLflow run per strategy under the stage's run
(the best one tagged ``shoplm.best``); compare them in the MLflow UI by selecting the child runs.

Writes ``reports/prompt_ablation/<set>/``: comparison.md (strategy x task type: score and parse
failures), comparison.json, comparison.png, metrics.json (a DVC metrics file) and answers/<strategy>.jsonl
(raw completion, final answer, parsed answer and score per question).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from shoplm import tracking
from shoplm.inference.backends import BACKENDS, open_backend
from shoplm.modeling import resolve_stage_model
from shoplm.params.evaluate import EvaluateSection
from shoplm.params.loader import PARAMS_FILE, load_section
from shoplm.params.studies import PromptAblationSection
from shoplm.shopbench.prompting.strategies import STRATEGIES, PromptPlan
from shoplm.shopbench.records import load_questions
from shoplm.study.compare import comparison_chart, comparison_metrics, format_comparison
from shoplm.study.run import answers_evidence, evaluate_variant, tag_best
from tasks._runner import run

EVAL_DIR = Path("data/eval")
BASE_DIR = Path("models/base")
ADAPTERS_DIR = Path("models/adapters")
REPORTS_DIR = Path("reports/prompt_ablation")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.prompt_ablation", description=__doc__,
                                     epilog="prompt strategies (prompt_ablation.strategies):\n" + STRATEGIES.help()
                                     + "\n\ninference backends (evaluate.backend):\n" + BACKENDS.help(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    args = parser.parse_args(argv)

    section: PromptAblationSection = load_section(PromptAblationSection, args.params)
    evaluate: EvaluateSection = load_section(EvaluateSection, args.params)
    questions = load_questions(EVAL_DIR / f"{section.eval_set}.jsonl")[: section.limit]
    adapter = ADAPTERS_DIR / section.adapter if section.adapter else None
    if adapter is not None and not adapter.is_dir():
        raise FileNotFoundError(f"{adapter}: no such adapter (train it with `dvc repro train@{section.adapter}`)")
    # Every plan before the model loads: a missing or overlapping k-shot example set fails in a second.
    plans = {name: PromptPlan.from_settings(evaluate.generation.prompts.uniform(name), evaluated=questions)
             for name in section.strategies}
    model = section.adapter or "zero-shot"
    out = REPORTS_DIR / section.eval_set

    params = {**section.model_dump(mode="json"), "model": model, "n_questions": len(questions),
              "backend": evaluate.backend, "generation": evaluate.generation.model_dump(mode="json")}
    with tracking.stage_run(f"prompt_ablation@{section.eval_set}", params,
                            tags={"eval_set": section.eval_set, "model": model}):
        import mlflow

        results = []
        with open_backend(evaluate, lambda: resolve_stage_model(BASE_DIR), adapter) as backend:
            for position, (name, plan) in enumerate(plans.items(), start=1):
                print(f"[{position}/{len(plans)}] strategy {name}: {STRATEGIES.describe()[name]}", flush=True)
                settings = evaluate.generation.model_copy(update={"prompts": plan.settings})
                results.append(evaluate_variant(
                    name, questions, backend, settings, plan, out / "answers",
                    params={"strategy": name, "description": STRATEGIES.describe()[name], "model": model,
                            "eval_set": section.eval_set, "prompts": plan.settings.model_dump(mode="json")},
                    tags={"shoplm.strategy": name}))
        best = tag_best(results)
        rows = {r.label: r.row for r in results}
        table = format_comparison(rows, "strategy")
        # How sure: each strategy's interval and its paired change to the first one named (the reference).
        if (evidence := answers_evidence(questions, out / "answers", list(plans), next(iter(plans)))) is not None:
            table += "\n\nTrack 5 with 95% intervals, changes paired on the same questions:\n" + evidence.table()
        title = f"prompt strategies · {section.eval_set} ({len(questions)} questions) · {model}"
        (out / "comparison.md").write_text(f"# {title}\n\n{table}\n\nBest Track 5: {best.label}\n", encoding="utf-8")
        (out / "comparison.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
        metrics = comparison_metrics(rows)
        if evidence is not None:
            metrics.update({tracking.metric_name(k): v for k, v in evidence.metrics("evidence").items()})
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        comparison_chart(rows, out / "comparison.png", title)
        mlflow.log_metrics(metrics)
        mlflow.log_artifacts(str(out), artifact_path=f"prompt_ablation/{section.eval_set}")

    print(f"\n{title}\n\n{table}\n\nbest Track 5: {best.label} ({best.report.track5:.4f}) → {out}/")
    return 0


if __name__ == "__main__":
    run(main)
