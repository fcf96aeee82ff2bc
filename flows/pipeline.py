"""Prefect flow: run the DVC DAG stage by stage, one Prefect task per stage, under one MLflow parent run.

The stage order is read from DVC (topological order of ``dvc.yaml``), so a new stage needs no change
here. Each task runs ``dvc repro --single-item <stage>``: DVC decides whether the stage is stale, the
stage writes its own nested MLflow run, and its output is streamed line by line into the Prefect log.

    python -m flows.pipeline                        # params.yaml as it is
    python -m flows.pipeline --profile kddcup-qwen2-72b
    python -m flows.pipeline --force evaluate --eval-set dev=../shared/data/shopbench/development.json

A run's arguments are checked before anything runs (``flows.plan``): a typo in a stage name, a profile,
a params key or an evaluation set's name or path fails at once, in one line, with exit code 2 (a
malformed ``--eval-set`` before Prefect is even imported).

A run's ``profile`` and ``eval_sets`` hold for that run only: they are written to ``params.yaml`` (the
file DVC reads) while its stages run, and the user's file is given back byte-identical on every exit
path, success or failure. Runs take a lock on ``params.yaml`` for their whole duration, so concurrent
runs (a served deployment triggered twice) queue instead of racing (``shoplm.params.lock``); a run plans
its stages only once it holds the lock, from the params as they stand then (while another run holds it,
``params.yaml`` holds that run's params). To switch the params for good: ``shoplm profile use NAME``.

When a stage fails, the parent run is tagged with every stage's outcome, ``failed_stage`` and ``error``
(the stage's one-line error), and the run stops. A stage that exits with code 2 (the user's input is
wrong: the same input fails the same way) is not retried; any other failure (a crash, a kill, a busy
DVC lock) may be transient and is retried once.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from shoplm.params.loader import PARAMS_FILE, ParamsError, validate_eval_sets

EXIT_USER_ERROR = 2  # tasks/_runner.py: a user's mistake, reported in one line


def _refuse(message: str) -> None:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(EXIT_USER_ERROR)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m flows.pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", help="profile in profiles/ for this run only (default: params.yaml as it is)")
    parser.add_argument("--force", nargs="*", default=[], metavar="STAGE", help="stages to re-run regardless")
    parser.add_argument("--stages", nargs="*", metavar="STAGE", help="run only these stages")
    parser.add_argument("--skip", nargs="*", default=[], metavar="STAGE",
                        help="leave these stages out (a name without @ means all its items)")
    parser.add_argument("--eval-set", action="append", default=[], metavar="NAME=PATH",
                        help="an evaluation set for this run, added to the params' own (repeatable)")
    args = parser.parse_args(argv)
    eval_sets: dict[str, str] = {}
    for item in args.eval_set:
        name, sep, path = item.partition("=")
        try:
            if not sep:
                raise ValueError("takes NAME=PATH")
            validate_eval_sets({name: path})  # the rules of params.yaml's sets: a name DVC and reports/ can use
        except ValueError as exc:
            _refuse(f"--eval-set {item}: {exc}")
        eval_sets[name] = path
    args.eval_sets = eval_sets or None
    return args


if __name__ == "__main__":  # a malformed command line fails here, in a second, before Prefect and MLflow load
    _parse_args(sys.argv[1:])
    from shoplm.startup import pause_gc_while_starting

    pause_gc_while_starting()  # Prefect's and MLflow's imports below

from flows import quiet  # noqa: E402  (before Prefect and MLflow: they read their settings at import)

quiet.quiet_libraries()

from prefect import flow, get_run_logger, task  # noqa: E402

from flows.plan import plan_run  # noqa: E402
from flows.summary import (  # noqa: E402
    EVAL_DIR,
    comparison_metrics,
    eval_set_dirs,
    print_summary,
    search_grids,
    search_table,
    set_evidence,
    side_by_side,
)
from shoplm import tracking  # noqa: E402
from shoplm.errors import UserError  # noqa: E402
from shoplm.params.lock import ParamsBusy, params_lock, run_params  # noqa: E402
from shoplm.registry import UnknownNameError  # noqa: E402
from shoplm.shopbench.records import load_questions  # noqa: E402

_EXIT_CODE = re.compile(r"exited with (-?\d+)")  # DVC: "failed to run: <cmd>, exited with 2"
_MAX_TAG_CHARS = 500


class StageFailed(RuntimeError):
    """A DVC stage failed; ``error`` is its one-line reason, ``exit_code`` its command's exit status."""

    def __init__(self, stage: str, exit_code: int | None, error: str) -> None:
        self.stage, self.exit_code, self.error = stage, exit_code, error
        super().__init__(f"stage {stage} failed (exit code {exit_code}): {error}")

    def __reduce__(self):  # Prefect may pickle a task's exception: keep the fields
        return (StageFailed, (self.stage, self.exit_code, self.error))

    @property
    def transient(self) -> bool:
        """Exit 2 is the user's input (the same input fails again); anything else may pass on a retry."""
        return self.exit_code != EXIT_USER_ERROR


def restore_hint(stage: str) -> str:
    """What to tell a user whose stage failed: DVC deleted its outputs before running it, so every later
    stage is now stale; the last good outputs (the ones dvc.lock records) are still in DVC's cache."""
    return (f"note: DVC deleted the outputs of {stage} before running it; `.venv/bin/dvc checkout {stage}` "
            "brings back its last good ones from the cache (if it ever succeeded here)")


def _retry_if_transient(task, task_run, state) -> bool:
    error = getattr(state, "data", None)
    return not isinstance(error, StageFailed) or error.transient


def _stage_env() -> dict[str, str]:
    env = dict(os.environ)
    # `python` in dvc.yaml commands must be this interpreter (the project's .venv), whatever PATH says.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def reproduce(stage: str, force: bool, log, cwd: Path | None = None) -> str:
    """``dvc repro --single-item STAGE``, its output line by line to ``log``; "ran", "cached" or ``StageFailed``."""
    cmd = [sys.executable, "-m", "dvc", "repro", "--single-item", stage, *(["--force"] if force else [])]
    log(f"$ dvc {' '.join(cmd[3:])}")
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_stage_env(),
                            cwd=cwd)
    assert proc.stdout is not None
    skipped, stage_error, dvc_error, exit_code = False, "", "", None
    for line in proc.stdout:
        line = line.rstrip()
        if line:
            log(line)
        skipped |= "didn't change, skipping" in line
        if line.startswith("error: "):  # the stage's own one-line error (tasks/_runner.py)
            stage_error = line.removeprefix("error: ")
        elif line.startswith("ERROR: "):  # DVC's
            dvc_error = line.removeprefix("ERROR: ")
            if match := _EXIT_CODE.search(line):
                exit_code = int(match.group(1))
    if (code := proc.wait()) != 0:
        error = stage_error or dvc_error or f"dvc repro exited with {code}"
        raise StageFailed(stage, exit_code if exit_code is not None else code, error)
    outcome = "cached" if skipped and not force else "ran"
    log(f"{stage}: {outcome} in {time.perf_counter() - started:.1f} s")
    return outcome


@task(task_run_name="{stage}", retries=1, retry_delay_seconds=5, retry_condition_fn=_retry_if_transient)
def run_stage(stage: str, force: bool = False) -> str:
    """Reproduce one DVC stage as a Prefect task (its output in the task's log)."""
    return reproduce(stage, force, get_run_logger().info)


def _git_commit(root: Path) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown"


def _stage_hashes(root: Path) -> dict[str, str]:
    """DVC's record of each stage's inputs (dvc.lock), as short md5s for MLflow tags."""
    import hashlib

    import yaml

    lock = root / "dvc.lock"
    if not lock.exists():
        return {}
    stages = (yaml.safe_load(lock.read_text()) or {}).get("stages", {})
    return {tracking.metric_name(f"dvc.stage.{name}"): hashlib.md5(json.dumps(entry, sort_keys=True).encode()).hexdigest()[:12]
            for name, entry in stages.items()}


def _outcome_tags(outcomes: dict[str, str]) -> dict[str, str]:
    return {tracking.metric_name(f"outcome.{stage}"): outcome for stage, outcome in outcomes.items()}


@flow(name="shoplm-pipeline", log_prints=True)
def pipeline(
    profile: str | None = None,
    force: list[str] | None = None,
    eval_sets: dict[str, str] | None = None,
    stages: list[str] | None = None,
    skip: list[str] | None = None,
) -> dict[str, str]:
    """Run the shoplm DAG.

    Args:
        profile: a profile in ``profiles/`` for this run only (None: params.yaml as it is).
        force: stage names to re-run even if DVC finds them up to date ("evaluate" = all its items).
        eval_sets: evaluation sets for this run (name → ShopBench JSONL path), added to the params' own.
        stages: run only these stages (and nothing else); None runs the whole DAG.
        skip: leave these stages out (``make run`` leaves out the studies that ``make study`` runs).
    """
    logger = get_run_logger()
    root = tracking.repo_root()
    outcomes: dict[str, str] = {}
    # The lock first: while another run holds it, params.yaml holds that run's params, not the user's.
    with params_lock(root / PARAMS_FILE):
        plan = plan_run(root, profile=profile, eval_sets=eval_sets, stages=stages, force=force, skip=skip)
        logger.info("stages to run, in DAG order: %s", ", ".join(plan.selected))
        tags = {"git.commit": _git_commit(root), "profile": plan.label}
        with run_params(plan.params_text, root / PARAMS_FILE), \
                tracking.parent_run("pipeline", tags=tags) as run:
            import mlflow

            mlflow.log_text(plan.params_text, "params.yaml")  # exactly what the stages read
            current = None
            try:
                for current in plan.selected:
                    outcomes[current] = run_stage(current, force=current in plan.forced)
            except BaseException as exc:
                error = exc.error if isinstance(exc, StageFailed) else f"{type(exc).__name__}: {exc}"
                outcomes[current] = "failed"
                outcomes.update({s: "not run" for s in plan.selected if s not in outcomes})
                mlflow.set_tags({**_stage_hashes(root), **_outcome_tags(outcomes), "failed_stage": current,
                                 "error": " ".join(error.split())[:_MAX_TAG_CHARS]})
                raise
            mlflow.set_tags({**_stage_hashes(root), **_outcome_tags(outcomes)})
            # Zero-shot and fine-tuned scores side by side on the parent run (metrics + a table per set).
            mlflow.log_metrics(comparison_metrics(root))
            for set_dir in eval_set_dirs(root):
                mlflow.log_text(side_by_side(set_dir), f"comparison/{set_dir.name}.txt")
                if (evidence := set_evidence(root, set_dir)) is not None:
                    mlflow.log_text(evidence.table(), f"comparison/{set_dir.name}-intervals.txt")
                if (questions := root / EVAL_DIR / f"{set_dir.name}.jsonl").is_file():  # the Dataset column
                    tracking.log_question_set(set_dir.name, questions.relative_to(root), load_questions(questions))
            for grid in search_grids(root):  # the held-out questions of a search: merge, adapters, 4-bit
                mlflow.log_text(search_table(root, grid), f"comparison/search-{grid}.txt")
            logger.info("MLflow parent run %s (%s)", run.info.run_id, tracking.tracking_uri(root))
    return outcomes


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    root = tracking.repo_root()
    try:
        # The flow checks its arguments too (a deployment run has no CLI); checking here first answers a
        # typo in a second, before Prefect starts. With the lock only, as in the flow: while another run
        # holds it, params.yaml holds that run's params; the flow checks once it holds the lock itself.
        try:
            with params_lock(root / PARAMS_FILE, wait=False):
                plan_run(root, profile=args.profile, eval_sets=args.eval_sets, stages=args.stages,
                         force=args.force, skip=args.skip)
        except ParamsBusy:
            pass
        tracking.check_store(root)  # a bad MLFLOW_TRACKING_URI: one line now, not tracebacks in a stage
        outcomes = pipeline(profile=args.profile, force=args.force, eval_sets=args.eval_sets, stages=args.stages,
                            skip=args.skip)
    except (ParamsError, UnknownNameError, UserError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_USER_ERROR
    except StageFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(restore_hint(exc.stage), file=sys.stderr)
        return 1
    print_summary(tracking.repo_root(), outcomes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
