"""Stage ``learning_curve@<adapter>``: the adapter's score against training steps, with intervals.

    python -m tasks.learning_curve v7        # `make curve` runs it for every adapter, through the flow

How many steps does this model need before the training shows? One run trains the adapter from scratch
to the largest of ``learning_curve.steps``, with the adapter's own ``train`` settings otherwise (its
mixture, seed, learning rate and schedule; a cosine schedule then spans that many steps, so the weights
at step 6 of a 60-step run are not those of a 6-step run), and keeps the LoRA weights at every listed
step (``models/learning_curve/<adapter>/step-<N>/``; the run's resumable checkpoints go to
``models/checkpoints/learning_curve/<adapter>/``). Each step's adapter and the base model (step 0) then
answer every set of ``learning_curve.sets``, decoded exactly as stage ``evaluate`` decodes
(``evaluate.generation`` and ``evaluate.constraints``, under ``evaluate.budget`` as that stage runs, so step 0
is stage evaluate's zero-shot answer for answer; a question the budget cuts is counted in the table):

* backend vllm: ONE engine on the base, LoRA on, each step's adapter named per request (the base first,
  before any adapter is loaded); where vllm is not installed, transformers instead (said in the log);
* backend transformers: the base, then each step's adapter, loaded one after another.

Writes ``reports/learning_curve/<adapter>/``: curve.txt (per set: Track 5 with its 95% interval per step,
and each step's change to step 0 with its paired interval), curve.json (the same numbers; a DVC metrics
file), curve.png (both against steps, one line per set, ★ at the first step whose change excludes 0),
answers/<set>/step-<N>.jsonl (each step's predictions). MLflow run ``learning_curve@<adapter>``: the
training loss per step, every point's numbers as metrics at its step (``<set>/track5``, ``…_low``,
``…_high``, ``<set>/change_vs_base…``), and the files as artifacts. One process (no ``accelerate launch``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from shoplm import tracking
from shoplm.evaluation import EvaluationResult, run_zero_shot
from shoplm.inference.backends import open_backend
from shoplm.inference.budget import TimeBudget
from shoplm.modeling import resolve_stage_model
from shoplm.params.evaluate import EvaluateSection
from shoplm.params.learning_curve import LearningCurveSection
from shoplm.params.loader import PARAMS_FILE, ParamsError, line_of, load_eval_sets, load_section, read_yaml
from shoplm.params.training import TrainSection, select_adapter
from shoplm.registry import UnknownNameError
from shoplm.shopbench.learning_curve import SetCurve, legend, plot_curves, set_curve
from shoplm.shopbench.predictions import write_predictions
from shoplm.shopbench.records import Question, load_questions
from shoplm.shopbench.scoring import ScoreReport, score
from shoplm.training.layout import BASE_DIR, CHECKPOINTS_DIR, mixture_questions
from shoplm.training.sft import AdapterRun, train_adapter
from shoplm.training.snapshots import SnapshotCallback, prepare_snapshots, saved_steps, snapshot_dir
from tasks._runner import run

EVAL_DIR = Path("data/eval")
SNAPSHOTS_DIR = Path("models/learning_curve")
REPORTS_DIR = Path("reports/learning_curve")

Scores = dict[str, dict[int, tuple[EvaluationResult, ScoreReport]]]  # set → step → (answers, report)


def question_sets(curve: LearningCurveSection, params: Path) -> dict[str, list[Question]]:
    """Each set's questions (the first ``limit``), read from data/eval/; an unknown name fails in one line."""
    eval_sets = load_eval_sets(params)
    names = curve.set_names(eval_sets)
    for index, name in enumerate(names):
        if name not in eval_sets:
            line = line_of(read_yaml(params)[1], ("learning_curve", "sets", index))
            raise ParamsError(f"{params}:{line}: learning_curve.sets.{index}: "
                              f"{UnknownNameError('eval_sets entry', name, eval_sets)}")
    out = {}
    for name in names:
        path = EVAL_DIR / f"{name}.jsonl"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: evaluation set {name!r} not validated yet (run `dvc repro "
                                    f"eval_sets@{name}`)")
        out[name] = load_questions(path)[: curve.limit]
    return out


def resolve_backend(name: str) -> str:
    if name == "vllm" and importlib.util.find_spec("vllm") is None:
        print("learning_curve: vllm is not installed; scoring with backend transformers (one model load per step)")
        return "transformers"
    return name


def score_steps(backend_name: str, evaluate: EvaluateSection, base_dir: Path, adapters: dict[int, Path | None],
                sets: dict[str, list[Question]], lora_rank: int) -> Scores:
    """Every step's answers and score report on every set, step 0 (the base, ``None``) first."""
    out: Scores = {name: {} for name in sets}

    def answer(backend: Any, step: int, adapter: str | None) -> None:
        for name, questions in sets.items():
            result = run_zero_shot(questions, backend, evaluate.generation, adapter=adapter,
                                   budget=TimeBudget.for_questions(evaluate.budget, questions))
            out[name][step] = (result, score(questions, result.predictions))
            cut = f", {len(result.budget_cut)} cut by the time budget" if result.budget_cut else ""
            print(f"step {step:>5} · {name}: track5 {out[name][step][1].track5:.4f} "
                  f"({len(questions)} questions in {result.runtime_s:.1f} s{cut})", flush=True)

    if backend_name == "vllm":
        n_adapters = sum(folder is not None for folder in adapters.values())
        # Every adapter resident at once and one slot to spare: vLLM's CPU LoRA ops give a request without an
        # adapter the last slot's, which then stays empty (and the base is answered before any adapter loads).
        # The steps' rank, not max_lora_rank's room for any adapter: the CPU LoRA cost grows with the engine's.
        engine = evaluate.vllm.model_copy(update={"enable_lora": True, "max_lora_rank": lora_rank,
                                                  "max_loras": max(evaluate.vllm.max_loras, n_adapters + 1)})
        section = evaluate.model_copy(update={"vllm": engine})
        with open_backend(section, lambda: base_dir, None, name="vllm") as backend:
            for step, folder in sorted(adapters.items()):
                answer(backend, step, None if folder is None else str(folder.resolve()))
        return out
    for step, folder in sorted(adapters.items()):
        with open_backend(evaluate, lambda: base_dir, folder, name=backend_name) as backend:
            answer(backend, step, None)
    return out


def write_report(out: Path, adapter: str, curves: list[SetCurve], scores: Scores, header: str) -> str:
    """curve.txt, curve.json, curve.png and answers/ into ``out`` (replacing the last report whole); the table."""
    cut = [f"{name} step {step}: {len(result.budget_cut)}" for name, steps in scores.items()
           for step, (result, _) in steps.items() if result.budget_cut]
    notes = [f"questions cut by evaluate.budget (answered empty): {', '.join(cut)}"] if cut else []
    table = "\n\n".join([header, *(curve.table() for curve in curves), legend(), *notes])
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{adapter}.") as scratch:
        staged = Path(scratch) / adapter
        staged.mkdir()
        (staged / "curve.txt").write_text(table + "\n", encoding="utf-8")
        data = {"adapter": adapter, "metric": "track5", "sets": {curve.name: curve.to_dict() for curve in curves}}
        (staged / "curve.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        plot_curves(curves, staged / "curve.png", title=f"learning curve · adapter {adapter}")
        for name, steps in scores.items():
            for step, (result, _) in steps.items():
                write_predictions(staged / "answers" / name / f"step-{step}.jsonl", result.predictions)
        shutil.rmtree(out, ignore_errors=True)
        staged.rename(out)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.learning_curve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("adapter", help="an adapter name of train.adapters in params.yaml (e.g. v7)")
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (logs only)")
    args = parser.parse_args(argv)

    curve: LearningCurveSection = load_section(LearningCurveSection, args.params)
    train: TrainSection = load_section(TrainSection, args.params)
    evaluate: EvaluateSection = load_section(EvaluateSection, args.params)
    spec = select_adapter(train.adapters, args.adapter, "train")
    sets = question_sets(curve, args.params)  # a bad set name fails here, before any training
    training_questions = mixture_questions(spec.mixture)
    base_dir = resolve_stage_model(BASE_DIR)
    hp = spec.hyperparameters(train.defaults).model_copy(update={"max_steps": max(curve.steps)})
    backend_name = resolve_backend(curve.backend)
    snapshots = SNAPSHOTS_DIR / args.adapter
    checkpoints = CHECKPOINTS_DIR / "learning_curve" / args.adapter
    trained_steps = [step for step in curve.points if step > 0]

    params = {"adapter": args.adapter, "mixture": spec.mixture, "seed": spec.seed, **curve.model_dump(mode="json"),
              "backend_used": backend_name, "sets_used": ",".join(sets), "train": hp.model_dump(mode="json"),
              "generation": evaluate.generation.model_dump(mode="json"),
              "constraints": evaluate.constraints.model_dump(mode="json")}
    with tracking.stage_run(f"learning_curve@{args.adapter}", params,
                            tags={"adapter": args.adapter, "mixture": spec.mixture}):
        import mlflow

        for name, questions in sets.items():
            tracking.log_question_set(name, EVAL_DIR / f"{name}.jsonl", questions)
        started = time.perf_counter()
        prepare_snapshots(snapshots, trained_steps, checkpoints)
        summary = train_adapter(
            AdapterRun(name=f"{args.adapter}-curve", questions=training_questions, base_dir=base_dir,
                       adapter_dir=snapshots / "final", checkpoint_dir=checkpoints, hyperparameters=hp,
                       seed=spec.seed),
            log_fn=tracking.log_step_metrics, callbacks=[SnapshotCallback(trained_steps, snapshots)],
            progress=not args.no_progress)
        train_seconds = time.perf_counter() - started
        if missing := sorted(set(trained_steps) - set(saved_steps(snapshots))):
            raise RuntimeError(f"{snapshots}: no adapter saved at steps {missing} (the run stopped at step "
                               f"{summary['global_step']})")
        adapters: dict[int, Path | None] = {0: None, **{step: snapshot_dir(snapshots, step) for step in trained_steps}}

        started = time.perf_counter()
        scores = score_steps(backend_name, evaluate, base_dir, adapters, sets, hp.lora.r)
        score_seconds = time.perf_counter() - started
        curves = [set_curve(name, sets[name], {step: report for step, (_, report) in scores[name].items()})
                  for name in sets]

        header = (f"learning curve of adapter {args.adapter} (mixture {spec.mixture}, seed {spec.seed}): one run of "
                  f"{hp.max_steps} steps, learning rate {hp.learning_rate:g} {hp.lr_scheduler} over them, warm-up "
                  f"{hp.warmup_steps}, rows per step {hp.micro_batch_size * hp.gradient_accumulation_steps}; "
                  f"scored with backend {backend_name}, evaluate.generation and evaluate.constraints.")
        out = REPORTS_DIR / args.adapter
        table = write_report(out, args.adapter, curves, scores, header)
        for step in curve.points:
            metrics = {}
            for set_curve_ in curves:
                point = next(p for p in set_curve_.points if p.step == step)
                metrics.update(set_curve_.metrics(point))
            mlflow.log_metrics({tracking.metric_name(k): v for k, v in metrics.items()}, step=step)
        first = {f"{c.name}/first_change_step": float(c.first_change.step) for c in curves if c.first_change}
        mlflow.log_metrics({**{tracking.metric_name(k): v for k, v in first.items()},
                            **{f"{c.name}/mde": c.mde for c in curves},
                            "train_seconds": train_seconds, "score_seconds": score_seconds})
        mlflow.log_artifacts(str(out), artifact_path=f"learning_curve/{args.adapter}")

    print(table)
    print(f"\ntrained {hp.max_steps} steps in {train_seconds:.0f} s; scored {len(curve.points)} points x "
          f"{len(sets)} sets in {score_seconds:.0f} s ({backend_name}) → {out}/")
    return 0


if __name__ == "__main__":
    run(main)
