"""Stages ``arena_minilm``, ``arena_decoder`` (one per classifier): a LoRA sequence classifier (3 labels).

    python -m tasks.arena_classifier minilm [--params arena/params.yaml]

NAME is a key of ``classifiers.models`` in arena/params.yaml (its backbone and training settings).
Trains on the training folds (each battle in both A/B orders), then predicts the validation fold
plainly and with swap-TTA, and the test file with swap-TTA. Writes
``reports/arena/classifiers/<name>/{valid_plain,valid_tta,test_tta}.csv`` and ``metrics.json``; two
MLflow runs, ``<name>`` (one pass) and ``<name>+tta``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from arena.outputs import write_probabilities
from arena.registry import ARENA_MODELS
from arena.runs import OUT_DIR, arena_run, load_split, log_scores, write_metrics
from arena.settings import ARENA_PARAMS, load_arena_section
from shoplm.params.loader import ParamsError
from tasks._runner import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.arena_classifier", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="a classifier name: a key of classifiers.models in arena/params.yaml")
    parser.add_argument("--params", type=Path, default=ARENA_PARAMS)
    args = parser.parse_args(argv)
    data = load_arena_section("data", args.params)
    models = load_arena_section("classifiers", args.params).models
    if args.name not in models:
        raise ParamsError(f"{args.params}: classifiers.models: no classifier {args.name!r}; "
                          f"known: {', '.join(models)}")
    settings = models[args.name]
    split = load_split(data)
    out = OUT_DIR / "classifiers" / args.name
    params = {"classifier": args.name, **settings.model_dump(), **data.model_dump()}

    with arena_run(args.name, params, tags={"arena.backbone": settings.backbone}):
        import mlflow

        started = time.perf_counter()
        model = ARENA_MODELS.get("lora")(**settings.model_dump()).fit(split.train)
        train_s = time.perf_counter() - started
        plain = model.predict_proba(split.valid)
        metrics = log_scores(split.valid_labels, plain)
        mlflow.log_metrics({"train_s": train_s, "final_train_loss": model.losses_[-1]})
        for step, loss in enumerate(model.losses_):
            mlflow.log_metric("train_loss", loss, step=step)
    with arena_run(f"{args.name}+tta", params, tags={"arena.backbone": settings.backbone, "arena.tta": "swap"}):
        tta = model.predict_proba(split.valid, tta=True)
        metrics_tta = log_scores(split.valid_labels, tta)
        test = model.predict_proba(split.test, tta=True)

    write_probabilities(out / "valid_plain.csv", split.valid["id"], plain)
    write_probabilities(out / "valid_tta.csv", split.valid["id"], tta)
    write_probabilities(out / "test_tta.csv", split.test["id"], test)
    summary = {"plain": metrics, "tta": metrics_tta, "train_s": round(train_s, 1)}
    write_metrics(out / "metrics.json", summary)
    print(f"{args.name}: validation log loss {metrics['valid_log_loss']:.4f} plain, "
          f"{metrics_tta['valid_log_loss']:.4f} with swap-TTA (trained in {train_s:.0f} s)")
    return 0


if __name__ == "__main__":
    run(main)
