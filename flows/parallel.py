"""Independent DVC stages side by side, each in its own working copy, without corrupting DVC state.

    python -m flows.parallel train@v7 train@v8 --jobs 2      # two adapters at once
    python -m flows.parallel merge@a merge@b search@g --jobs 3

Why separate working copies: one DVC repository runs one ``dvc repro`` at a time (it holds the repo
lock for the whole command, and both runs would rewrite ``dvc.lock``). So:

1. the stages upstream of the targets are brought up to date here, once, with ``dvc repro``;
2. each target gets a copy of the project's files (``git ls-files``: tracked and untracked, not
   ignored; no data, no models) in a temporary folder, with this repository's DVC cache as its cache
   and no git (``core.no_scm``). ``dvc checkout`` puts the upstream outputs there from the shared
   cache (links where the filesystem allows), and ``dvc repro --single-item TARGET`` runs the target;
   copies do not share a lock or a dvc.lock;
3. back here, ``dvc repro TARGETS`` finds every target in the run-cache ("Stage ... is cached -
   skipping run"): it checks the outputs out and records them in ``dvc.lock`` like any other run.

Stages with ``persist: true`` outputs (evaluate, search's score cache) cannot go through the
run-cache, so they are refused here: run them with ``dvc repro`` as usual. MLflow runs go to this
repository's store (its ``MLFLOW_TRACKING_URI``, else its ``mlflow.db``), so they are not lost with the
copies. Whether running side by side pays depends on cores: see ``benchmarks/bench_parallel_stages.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flows.pipeline import StageFailed, reproduce
from shoplm import tracking
from shoplm.errors import UserError


class NotParallelizable(UserError):
    """The targets cannot run side by side (unknown, dependent on each other, or not run-cacheable)."""


def plan(root: Path, targets: list[str]) -> list[str]:
    """The stages upstream of ``targets`` (none of them a target); checks the targets are independent."""
    import networkx as nx
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        graph = repo.index.graph
        upstream: set[str] = set()
        for target in targets:
            try:
                # Addressed through root's dvc.yaml: DVC reads a bare stage name relative to the cwd.
                (stage,) = repo.stage.collect(target if ":" in target else f"{root / 'dvc.yaml'}:{target}")
            except (DvcException, ValueError) as exc:
                raise NotParallelizable(f"dvc.yaml: {target!r} is not one stage ({exc})") from exc
            if any(out.persist for out in stage.outs):
                raise NotParallelizable(f"dvc.yaml: stage {target!r} has persist outputs, which DVC's run-cache "
                                        "cannot restore; run it with dvc repro")
            upstream |= {_address(s) for s in nx.descendants(graph, stage)}  # edges point to dependencies
    if clash := sorted(upstream & set(targets)):
        raise NotParallelizable(f"dvc.yaml: {', '.join(clash)} is upstream of another target: not independent")
    return sorted(upstream)


def _address(stage) -> str:
    """How ``dvc repro`` run in the repository root names ``stage`` (``addressing`` is relative to the cwd)."""
    name = getattr(stage, "name", None)
    if not name:
        return stage.path_in_repo
    return name if stage.path_in_repo == "dvc.yaml" else f"{stage.path_in_repo}:{name}"


def project_files(root: Path) -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                            check=True, capture_output=True).stdout
    return [name for name in listed.decode().split("\0") if name and (root / name).is_file()]


def working_copy(root: Path, dest: Path) -> Path:
    """The project's files in ``dest``, sharing ``root``'s DVC cache (and so its run-cache)."""
    for name in project_files(root):
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, dest / name)
    cache = subprocess.run([sys.executable, "-m", "dvc", "cache", "dir"], cwd=root, check=True,
                           capture_output=True, text=True).stdout.strip()
    # links, not copies, of the cached inputs (a 70B base model), where the filesystem allows them
    (dest / ".dvc" / "config.local").write_text(f"[core]\n    no_scm = true\n[cache]\n    dir = {cache}\n"
                                                "    type = reflink,hardlink,symlink,copy\n")
    return dest


def run_parallel(root: Path, targets: list[str], jobs: int, log=print) -> dict[str, float]:
    """Run ``targets`` side by side (at most ``jobs`` at once); returns each target's wall seconds."""
    upstream = plan(root, targets)
    for stage in upstream:
        reproduce(stage, False, log, cwd=root)
    os.environ.setdefault("MLFLOW_TRACKING_URI", tracking.tracking_uri(root))  # not the copies' own stores
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="shoplm-parallel-") as scratch:
        def one(target: str) -> None:
            started = time.perf_counter()
            copy = working_copy(root, Path(scratch) / target.replace("@", "-"))
            # the upstream outputs as dvc.lock records them, from the shared cache (nothing re-runs)
            subprocess.run([sys.executable, "-m", "dvc", "checkout", "--quiet", *upstream], cwd=copy, check=True)
            reproduce(target, False, lambda line: log(f"[{target}] {line}"), cwd=copy)
            seconds[target] = time.perf_counter() - started

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for future in [pool.submit(one, target) for target in targets]:
                future.result()  # the first failure raises here
    for target in targets:  # each is in the run-cache now: checked out and locked, not run again
        reproduce(target, False, log, cwd=root)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.parallel", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="+", help="independent stages of dvc.yaml (e.g. train@v7 train@v8)")
    parser.add_argument("--jobs", type=int, default=2, help="stages at once (default 2; at most the cores)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        seconds = run_parallel(Path.cwd(), args.targets, max(1, args.jobs))
    except NotParallelizable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except StageFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code or 1
    for target, took in seconds.items():
        print(f"{target}: {took:.1f} s")
    print(f"all {len(seconds)} stages, {args.jobs} at once: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
