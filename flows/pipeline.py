"""Prefect flow: run the DVC DAG stage by stage, one Prefect task per stage, under one MLflow parent run.

The stage order is read from DVC (topological order of ``dvc.yaml``), so a new stage needs no change
here. Each task runs ``dvc repro --single-item <stage>``: DVC decides whether the stage is stale, the
stage writes its own nested MLflow run, and its output is streamed line by line into the Prefect log.

    python -m flows.pipeline                        # params.yaml as it is (tiny profile by default)
    python -m flows.pipeline --profile kddcup-qwen2-72b
    python -m flows.pipeline --force evaluate --eval-set dev=../shared/data/shopbench/development.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from prefect import flow, get_run_logger, task

from flows.summary import comparison_metrics, print_summary, side_by_side
from shoplm import tracking
from shoplm.profiles import PARAMS_FILE, use_profile, write_params


def dvc_stage_order(root: Path, dvcfile: str = "dvc.yaml") -> list[str]:
    """Every stage of ``dvcfile`` (foreach/matrix items expanded) in an order that respects dependencies.

    Other DVC files in the repository (arena/dvc.yaml, run by flows/arena.py) are left out.
    """
    import networkx as nx
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        graph = repo.index.graph
        # Edges point from a stage to the stages it depends on; reverse for execution order, and sort
        # ties by name so the order is stable from one run to the next.
        order = nx.lexicographical_topological_sort(graph.reverse(copy=True), key=lambda s: s.addressing)
        # Data tracked with `dvc add` shows up as command-less stages: nothing to run.
        own = (root / dvcfile).resolve()
        return [stage.addressing for stage in order
                if getattr(stage, "cmd", None) and Path(stage.dvcfile.path).resolve() == own]


def _stage_env() -> dict[str, str]:
    env = dict(os.environ)
    # `python` in dvc.yaml commands must be this interpreter (the project's .venv), whatever PATH says.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@task(task_run_name="{stage}", retries=1, retry_delay_seconds=5)
def run_stage(stage: str, force: bool = False) -> str:
    """Reproduce one DVC stage; return "ran" or "cached"."""
    logger = get_run_logger()
    cmd = [sys.executable, "-m", "dvc", "repro", "--single-item", stage, *(["--force"] if force else [])]
    logger.info("$ dvc %s", " ".join(cmd[3:]))
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_stage_env())
    assert proc.stdout is not None
    skipped = False
    for line in proc.stdout:
        line = line.rstrip()
        if line:
            logger.info(line)
        skipped |= "didn't change, skipping" in line
    if (code := proc.wait()) != 0:
        raise RuntimeError(f"dvc repro {stage} failed with exit code {code}; see the log above")
    outcome = "cached" if skipped and not force else "ran"
    logger.info("%s: %s in %.1f s", stage, outcome, time.perf_counter() - started)
    return outcome


def _wanted(stage: str, names: list[str]) -> bool:
    """'evaluate' matches 'evaluate' and every 'evaluate@…' item."""
    return any(stage == n or stage.startswith(f"{n}@") for n in names)


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


@flow(name="shoplm-pipeline", log_prints=True)
def pipeline(
    profile: str | None = None,
    force: list[str] | None = None,
    eval_sets: dict[str, str] | None = None,
    stages: list[str] | None = None,
) -> dict[str, str]:
    """Run the shoplm DAG.

    Args:
        profile: a profile in ``profiles/`` to copy over params.yaml first (None: params.yaml as it is).
        force: stage names to re-run even if DVC finds them up to date ("evaluate" = all its items).
        eval_sets: replace params.yaml's ``eval_sets`` (name → ShopBench JSONL path).
        stages: run only these stages (and nothing else); None runs the whole DAG.
    """
    logger = get_run_logger()
    root = tracking.repo_root()
    overrides = {"eval_sets": eval_sets} if eval_sets else {}
    if profile:
        changed = use_profile(profile, overrides)
        logger.info("profile %s %s", profile, "applied to params.yaml" if changed else "already in params.yaml")
    elif overrides:
        changed = write_params(PARAMS_FILE, overrides)
        logger.info("eval_sets %s", "written to params.yaml" if changed else "unchanged")
    order = dvc_stage_order(root)
    selected = [s for s in order if _wanted(s, stages)] if stages else order
    logger.info("stage order from dvc.yaml: %s", ", ".join(selected))
    outcomes: dict[str, str] = {}
    tags = {"git.commit": _git_commit(root), "profile": profile or "params.yaml"}
    with tracking.parent_run("pipeline", tags=tags) as run:
        for stage in selected:
            outcomes[stage] = run_stage(stage, force=_wanted(stage, force or []))
        import mlflow

        mlflow.set_tags({**_stage_hashes(root), **{tracking.metric_name(f"outcome.{k}"): v for k, v in outcomes.items()}})
        # Zero-shot and fine-tuned scores side by side on the parent run (metrics + a table per set).
        mlflow.log_metrics(comparison_metrics(root))
        for set_dir in sorted(p for p in (root / "reports").glob("*") if p.is_dir()):
            mlflow.log_text(side_by_side(set_dir), f"comparison/{set_dir.name}.txt")
        logger.info("MLflow parent run %s (%s)", run.info.run_id, tracking.tracking_uri(root))
    return outcomes


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m flows.pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", help="profile name in profiles/ (default: params.yaml as it is)")
    parser.add_argument("--force", nargs="*", default=[], metavar="STAGE", help="stages to re-run regardless")
    parser.add_argument("--stages", nargs="*", metavar="STAGE", help="run only these stages")
    parser.add_argument("--eval-set", action="append", default=[], metavar="NAME=PATH",
                        help="evaluation set(s) replacing params.yaml's eval_sets (repeatable)")
    args = parser.parse_args(argv)
    try:
        args.eval_sets = dict(item.split("=", 1) for item in args.eval_set) or None
    except ValueError:
        parser.error("--eval-set takes NAME=PATH")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    outcomes = pipeline(profile=args.profile, force=args.force, eval_sets=args.eval_sets, stages=args.stages)
    print_summary(tracking.repo_root(), outcomes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
