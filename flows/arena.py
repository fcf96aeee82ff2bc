"""Prefect flow: the arena pipeline (arena/dvc.yaml), stage by stage, under one MLflow parent run.

Mirrors flows/pipeline.py: the order comes from DVC, each Prefect task runs ``dvc repro --single-item``
on one stage, and the stages' MLflow runs nest under the flow's parent run, here in the
``shoplm-arena`` experiment. Stages of the ShopBench DAG that an arena stage needs (``base``, whose
``models/base`` the decoder classifier trains on) run first, when DVC finds them stale.

    python -m flows.arena                   # make arena
    python -m flows.arena --force arena_minilm arena_decoder
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from flows import quiet

quiet.quiet_libraries()  # before Prefect and MLflow: they read their settings at import

from prefect import flow, get_run_logger  # noqa: E402

from arena.runs import EXPERIMENT, OUT_DIR  # noqa: E402
from flows.pipeline import StageFailed, _git_commit, restore_hint, run_stage  # noqa: E402
from flows.plan import check_stage_names, matches  # noqa: E402
from shoplm import tracking  # noqa: E402
from shoplm.errors import UserError  # noqa: E402
from shoplm.params.loader import PARAMS_FILE  # noqa: E402
from shoplm.params.lock import params_lock  # noqa: E402
from shoplm.registry import UnknownNameError  # noqa: E402

ARENA_DVCFILE = "arena/dvc.yaml"


def arena_stage_order(root: Path, dvcfile: str = ARENA_DVCFILE) -> list[str]:
    """The stages of ``dvcfile`` and every stage they depend on, in an order that respects dependencies."""
    import networkx as nx
    from dvc.repo import Repo

    own = (root / dvcfile).resolve()
    with Repo(str(root)) as repo:
        graph = repo.index.graph  # edges point from a stage to the stages it depends on
        arena = [s for s in graph.nodes if Path(s.dvcfile.path).resolve() == own]
        needed = set(arena).union(*(nx.descendants(graph, s) for s in arena))
        order = nx.lexicographical_topological_sort(graph.subgraph(needed).reverse(copy=True),
                                                    key=lambda s: s.addressing)
        return [stage.addressing for stage in order if getattr(stage, "cmd", None)]


def _short(stage: str) -> str:
    return stage.split(":", 1)[-1]


@flow(name="shoplm-arena", log_prints=True)
def arena(force: list[str] | None = None) -> dict[str, str]:
    """Run the arena pipeline.

    Args:
        force: arena stage names to re-run even if DVC finds them up to date.
    """
    logger = get_run_logger()
    root = tracking.repo_root()
    order = arena_stage_order(root)
    logger.info("stage order: %s", ", ".join(order))
    outcomes: dict[str, str] = {}
    # Stage base reads params.yaml, which a ShopBench run holds its own params in while it runs: queue
    # behind such a run (as a second ShopBench run does) rather than read them.
    with params_lock(root / PARAMS_FILE), tracking.in_experiment(EXPERIMENT), \
            tracking.parent_run("arena", tags={"git.commit": _git_commit(root)}) as run:  # stages inherit both
        import mlflow

        for stage in order:
            outcomes[stage] = run_stage(stage, force=matches(_short(stage), force or []))
        summary = root / OUT_DIR / "metrics.json"
        if summary.exists():
            rows = json.loads(summary.read_text())
            mlflow.log_metrics({tracking.metric_name(f"{name}/valid_log_loss"): row["valid_log_loss"]
                                for name, row in rows.items()})
            mlflow.log_artifact(str(summary))
        logger.info("MLflow parent run %s (%s)", run.info.run_id, tracking.tracking_uri(root))
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.arena", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", nargs="*", default=[], metavar="STAGE", help="arena stages to re-run regardless")
    args = parser.parse_args(argv)
    try:  # a typo in --force fails here, before the flow starts, listing the stage names
        check_stage_names(args.force, [_short(stage) for stage in arena_stage_order(tracking.repo_root())])
        with tracking.in_experiment(EXPERIMENT):
            tracking.check_store()
    except (UnknownNameError, UserError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        outcomes = arena(force=args.force)
    except StageFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(restore_hint(exc.stage), file=sys.stderr)
        return 1
    print("\n".join(f"{stage:<42} {outcome}" for stage, outcome in outcomes.items()))
    report = tracking.repo_root() / OUT_DIR / "report.md"  # the ensemble stage's table, with intervals
    if report.exists():
        print("\n" + report.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
