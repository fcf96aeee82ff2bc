"""Stages ``eval_sets@NAME`` and ``heldout_sets@NAME``: validate one evaluation set and copy it to
``data/eval/NAME.jsonl``, where every stage that evaluates reads it.

- A set of ``eval_sets`` is a file. Its copy is also written to ``data/decontam/NAME.jsonl``: the
  ``build`` and ``synth`` stages decontaminate training questions against every file there, so any set
  named in params.yaml is both scored and kept out of training.
- A set of ``heldout_sets`` is a held-out slice of a built mixture (``{mixture: v7, slice: validation}``),
  read from ``data/processed/<mixture>/heldout/<slice>.jsonl``. The build already kept it apart from the
  mixture's training rows and decontaminated it against ``data/decontam/``; it is not copied there
  (the build depends on that folder, and this stage on the build).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from shoplm import tracking
from shoplm.params.loader import PARAMS_FILE, ParamsError, load_eval_sets, load_heldout_sets
from shoplm.registry import UnknownNameError
from shoplm.shopbench.records import TRACK_SHORT_NAMES, RecordError, load_questions, write_questions
from tasks._runner import run

EVAL_DIR = Path("data/eval")
DECONTAM_DIR = Path("data/decontam")
PROCESSED_DIR = Path("data/processed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.eval_sets", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="a key of eval_sets or of heldout_sets in params.yaml")
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    args = parser.parse_args(argv)

    sets = load_eval_sets(args.params)
    heldout = load_heldout_sets(args.params)
    if args.name in sets and args.name in heldout:
        raise ParamsError(f"{args.params}: {args.name!r} is both an eval_sets and a heldout_sets name")
    if args.name in sets:
        source, kind = Path(sets[args.name]), "file"
    elif args.name in heldout:
        source, kind = heldout[args.name].source(PROCESSED_DIR), "heldout"
        if not source.is_file():
            entry = heldout[args.name]
            raise ParamsError(f"heldout_sets.{args.name}: {source} not found; run `dvc repro build@{entry.mixture}` "
                              f"(build.mixtures.{entry.mixture}.heldout must list {entry.slice!r})")
    else:
        raise UnknownNameError(f"{args.params} eval_sets or heldout_sets entry", args.name, [*sets, *heldout])
    questions = load_questions(source)  # strict: a bad line stops here, naming file, line and field
    if not questions:  # else `evaluate` fails later, far from the cause, and decontamination checks nothing
        raise RecordError(source, None, None, "no questions; an evaluation set needs at least one")
    out = EVAL_DIR / f"{args.name}.jsonl"
    write_questions(out, questions)
    if kind == "file":
        write_questions(DECONTAM_DIR / f"{args.name}.jsonl", questions)

    per_track = Counter(TRACK_SHORT_NAMES[q.track] for q in questions)
    stage = "eval_sets" if kind == "file" else "heldout_sets"
    with tracking.stage_run(f"{stage}@{args.name}", {"name": args.name, "path": str(source), "kind": kind}):
        import mlflow

        mlflow.log_metrics({"questions": len(questions), "tasks": len({q.task_name for q in questions}),
                            **{f"questions/{track}": n for track, n in per_track.items()}})
    print(f"{source}: {len(questions)} questions, {len({q.task_name for q in questions})} tasks → {out}")
    return 0


if __name__ == "__main__":
    run(main)
