"""Stage ``build@<mixture>``: build one named training mixture from the ingested frames.

``python -m tasks.build v7`` runs every builder listed under ``build.mixtures.v7`` in params.yaml on
``data/interim/frames/``, drops questions that overlap any evaluation set in ``data/decontam/*.jsonl``
(the ``eval_sets`` stage's copies of the sets read from files), shuffles with the mixture's seed and writes
``data/processed/<mixture>/train.jsonl``, ``manifest.json`` (counts per builder, task type, track and
language; decontamination drops), ``examples.md`` (two questions per builder, with their gold answers),
``tasktype.md`` (the task-type classifier's accuracy per builder and its confusion table, on questions
whose gold type is known) and ``metrics.json`` (that accuracy, and rows per second per builder: the
only wall-clock figures, kept out of the outputs later stages depend on). All go to MLflow.

With held-out slices (``build.mixtures.v7.heldout``) it also writes ``heldout/<slice>.jsonl``: questions
of the same builders that the training rows never include, decontaminated against the same evaluation
sets and against the training rows (``shoplm.builders.mixtures``). ``heldout_sets`` in params.yaml make
them evaluation sets; their copies in ``data/eval/`` are not in ``data/decontam/``, which is what lets
this stage depend on the one and feed the other.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shoplm import tracking
from shoplm.builders.frames import load_frames
from shoplm.builders.mixtures import build_mixture, write_mixture
from shoplm.builders.registry import BUILDERS, SYNTHETIC_FRAME, get_builder
from shoplm.params.build import BuildSettings
from shoplm.params.loader import PARAMS_FILE, load_section
from shoplm.registry import UnknownNameError
from shoplm.shopbench.records import Question, load_questions
from shoplm.synthesis.outputs import synthetic_frame
from tasks._runner import run

FRAMES_DIR = Path("data/interim/frames")
EVAL_DIR = Path("data/decontam")
OUT_DIR = Path("data/processed")
SYNTHETIC_DIR = Path("data/synthetic")


def load_settings(path: Path) -> BuildSettings:
    return load_section(BuildSettings, path)


def load_eval_questions(folder: Path) -> tuple[list[Question], list[Path]]:
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if not files:
        print(f"warning: no evaluation sets in {folder}/ (run the eval_sets stages first); "
              "decontaminating against nothing", file=sys.stderr)
    return [q for path in files for q in load_questions(path)], files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.build", description=__doc__,
                                     epilog="builders (build.mixtures.*.builders):\n" + BUILDERS.help(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mixture", help="a key of build.mixtures in params.yaml (e.g. v7)")
    parser.add_argument("--params", type=Path, default=PARAMS_FILE, help="params file (default: %(default)s)")
    parser.add_argument("--frames", type=Path, default=FRAMES_DIR, help="frames folder (default: %(default)s)")
    parser.add_argument("--eval-dir", type=Path, default=EVAL_DIR, help="evaluation sets (default: %(default)s)")
    parser.add_argument("--synthetic", type=Path, default=SYNTHETIC_DIR,
                        help="the synth stage's output, read for LLM rows (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="writes OUT/<mixture>/ (default: %(default)s)")
    args = parser.parse_args(argv)

    settings = load_settings(args.params)
    if args.mixture not in settings.mixtures:
        raise UnknownNameError(f"{args.params} build.mixtures entry", args.mixture, settings.mixtures)
    spec = settings.mixtures[args.mixture]
    needed = sorted({frame for name in spec.builders for frame in get_builder(name).input_frames})
    frames = load_frames(args.frames, [f for f in needed if f != SYNTHETIC_FRAME])
    if SYNTHETIC_FRAME in needed:  # LLM rows: the synth stage's accepted questions
        frames[SYNTHETIC_FRAME] = synthetic_frame(args.synthetic)
    eval_questions, eval_files = load_eval_questions(args.eval_dir)

    result = build_mixture(spec, frames, eval_questions, settings.decontamination, name=args.mixture,
                           progress=True)
    paths = write_mixture(result, args.out / args.mixture)
    manifest = result.manifest

    params = {"mixture": args.mixture, **spec.model_dump(),
              "decontamination": settings.decontamination.model_dump(), "eval_sets": [str(p) for p in eval_files]}
    with tracking.stage_run(f"build@{args.mixture}", params):
        import mlflow

        name = tracking.metric_name
        metrics = {"rows": manifest["rows"], "decontamination/dropped": manifest["decontamination"]["dropped"],
                   "decontamination/eval_questions": manifest["decontamination"]["eval_questions"]}
        for builder, row in manifest["builders"].items():
            for key in ("kept", "produced", "shortfall", "dropped_decontamination"):
                metrics[name("builders", builder, key)] = row[key]
            speed = result.timing[builder]["rows_per_second"]
            if speed is not None:
                metrics[name("builders", builder, "rows_per_second")] = speed
        for group in ("task_types", "tracks", "languages"):
            metrics.update({name(group, key): value for key, value in manifest[group].items()})
        for slice_name, row in manifest.get("heldout", {}).get("slices", {}).items():
            metrics[name("heldout", slice_name, "questions")] = row["questions"]
        for scope in ("overall", "without_flag"):
            if result.tasktype[scope]["accuracy"] is not None:
                metrics[name("tasktype", scope, "accuracy")] = result.tasktype[scope]["accuracy"]
        for builder, row in result.tasktype["per_group"].items():
            metrics[name("tasktype", "builders", builder, "accuracy")] = row["accuracy"]
        mlflow.log_metrics(metrics)
        for key in ("manifest", "examples", "tasktype", "metrics"):
            mlflow.log_artifact(str(paths[key]))

    short = {b: r["shortfall"] for b, r in manifest["builders"].items() if r["shortfall"]}
    print(f"{args.mixture}: {manifest['rows']} questions from {len(spec.builders)} builders, "
          f"{manifest['decontamination']['dropped']} dropped by decontamination "
          f"(against {len(eval_questions)} evaluation questions)")
    overall = result.tasktype["overall"]
    print(f"task-type classifier on these questions: {overall['correct']}/{overall['n']} correct "
          f"(per builder and confusion table: {paths['tasktype']})")
    if short:
        print(f"shortfall (source had fewer items than requested): {short}")
    if "heldout" in manifest:
        held = manifest["heldout"]
        print("held out: " + ", ".join(f"{slice_name} {row['questions']}/{row['requested']}"
                                       for slice_name, row in held["slices"].items())
              + f" questions (dropped: {held['decontamination']['evaluation_sets']['dropped']} overlapping evaluation "
              f"sets, {held['decontamination']['training_rows']['dropped']} overlapping training rows)")
        short = {b: r["shortfall"] for b, r in held["builders"].items() if r["shortfall"]}
        if short:
            print(f"held-out shortfall (the builders ran out of distinct questions): {short}")
    for key, path in paths.items():
        print(f"{key} → {path}")
    return 0


if __name__ == "__main__":
    run(main)
