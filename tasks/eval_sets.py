"""Stage ``eval_sets@NAME``: validate one evaluation set and copy it to ``data/eval/NAME.jsonl``.

Evaluation reads the validated copy, and the ``build`` stage decontaminates training questions against
every file in ``data/eval/``, so any set named in params.yaml is both scored and kept out of training.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from shoplm import tracking
from shoplm.params.loader import PARAMS_FILE, load_eval_sets
from shoplm.registry import UnknownNameError
from shoplm.shopbench.records import TRACK_SHORT_NAMES, RecordError, load_questions, write_questions
from tasks._runner import run

EVAL_DIR = Path("data/eval")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.eval_sets", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="a key of eval_sets in params.yaml")
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    args = parser.parse_args(argv)

    sets = load_eval_sets(args.params)
    if args.name not in sets:
        raise UnknownNameError(f"{args.params} eval_sets entry", args.name, sets)
    source = Path(sets[args.name])
    questions = load_questions(source)  # strict: a bad line stops here, naming file, line and field
    if not questions:  # else `evaluate` fails later, far from the cause, and decontamination checks nothing
        raise RecordError(source, None, None, "no questions; an evaluation set needs at least one")
    out = EVAL_DIR / f"{args.name}.jsonl"
    write_questions(out, questions)

    per_track = Counter(TRACK_SHORT_NAMES[q.track] for q in questions)
    with tracking.stage_run(f"eval_sets@{args.name}", {"name": args.name, "path": str(source)}):
        import mlflow

        mlflow.log_metrics({"questions": len(questions), "tasks": len({q.task_name for q in questions}),
                            **{f"questions/{track}": n for track, n in per_track.items()}})
    print(f"{source}: {len(questions)} questions, {len({q.task_name for q in questions})} tasks → {out}")
    return 0


if __name__ == "__main__":
    run(main)
