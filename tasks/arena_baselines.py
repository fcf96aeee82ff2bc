"""Stage ``arena_baselines``: the class prior, the difference-bucket mean and the GBDT on the arena data.

    python -m tasks.arena_baselines [--params arena/params.yaml]

Each model is fitted on the training folds and scored on the validation fold (grouped by prompt).
Writes ``reports/arena/baselines/<name>/{valid,test}.csv`` (probabilities) and ``metrics.json``; one
MLflow run per model in the ``shoplm-arena`` experiment, with validation log loss and accuracy.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from arena.outputs import write_probabilities
from arena.registry import ARENA_MODELS
from arena.runs import OUT_DIR, arena_run, load_split, log_scores, write_metrics
from arena.settings import ARENA_PARAMS, load_arena_section
from tasks._runner import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.arena_baselines", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="arena models:\n" + ARENA_MODELS.help())
    parser.add_argument("--params", type=Path, default=ARENA_PARAMS)
    args = parser.parse_args(argv)
    data = load_arena_section("data", args.params)
    section = load_arena_section("baselines", args.params)
    split = load_split(data)

    summary = {}
    for name, options in section.models.items():
        out = OUT_DIR / "baselines" / name
        with arena_run(name, {"model": name, **options, **data.model_dump()}):
            model = ARENA_MODELS.get(name)(**options).fit(split.train)
            valid = model.predict_proba(split.valid)
            write_probabilities(out / "valid.csv", split.valid["id"], valid)
            write_probabilities(out / "test.csv", split.test["id"], model.predict_proba(split.test))
            summary[name] = log_scores(split.valid_labels, valid)
            write_metrics(out / "metrics.json", summary[name])
        print(f"{name:<8} validation log loss {summary[name]['valid_log_loss']:.4f}  "
              f"accuracy {summary[name]['valid_accuracy']:.3f}")
    write_metrics(OUT_DIR / "baselines" / "metrics.json", summary)
    return 0


if __name__ == "__main__":
    run(main)
