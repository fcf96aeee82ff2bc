"""Serve the pipeline as a Prefect deployment: a cron schedule for periodic retraining, and runs triggered
from the Prefect UI or CLI with parameters.

    prefect server start --host 127.0.0.1                      # terminal 1: UI at http://127.0.0.1:4200
    export PREFECT_API_URL=http://127.0.0.1:4200/api           # terminal 2 (and 3)
    python -m flows.serve --cron "0 3 * * 1"                   # weekly retrain, Mondays 03:00
    prefect deployment run 'shoplm-pipeline/shoplm-retrain' \\
        -p profile=tiny -p 'force=["evaluate"]'                 # terminal 3, or "Run" in the UI

The served process runs each scheduled or triggered flow run in this working copy, so DVC's cache makes
an unchanged stage a no-op and only what changed (new data, new params) is recomputed. A run's
``profile`` and ``eval_sets`` hold for that run only (params.yaml is given back byte-identical when it
ends), and runs that overlap queue on the lock of params.yaml instead of racing on it: see
``flows.pipeline`` and ``shoplm.params.lock``.

This is the one-process way. To run on a work pool instead (a worker per machine, runs queued by the
pool's concurrency limit, the same deployments on Kubernetes or Docker), deploy ``prefect.yaml``:
see ``docs/scaling-out.md``.
"""

from __future__ import annotations

import argparse
import sys

from flows.pipeline import pipeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="shoplm-retrain", help="deployment name (default: %(default)s)")
    parser.add_argument("--cron", default="0 3 * * 1", help="cron schedule, server timezone (default: %(default)s)")
    parser.add_argument("--profile", default=None, help="profile for every scheduled run (default: params.yaml)")
    parser.add_argument("--no-schedule", action="store_true", help="serve for manual/UI runs only")
    args = parser.parse_args(argv)
    pipeline.serve(
        name=args.name,
        cron=None if args.no_schedule else args.cron,
        parameters={"profile": args.profile},
        tags=["shoplm"],
        description="shoplm DVC DAG, stage by stage, with one MLflow parent run per flow run.",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
