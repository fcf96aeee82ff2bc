"""Two adapters one after the other vs side by side (``flows.parallel``), on the tiny profile.

    python benchmarks/bench_parallel_stages.py [--threads 1] [--keep DIR]

Builds a scratch copy of the project (its files, a fresh git repository, DVC cache of its own), selects
the tiny profile and reproduces what train@v7 and train@v8 need. Then, from the same state:

* parallel: ``python -m flows.parallel train@v7 train@v8 --jobs 2`` (working copies, run-cache, lock);
* sequential: ``dvc repro --force --single-item train@v7 train@v8`` (forced: the run-cache already
  holds both, and a cached stage is not a run).

Both with OMP_NUM_THREADS=--threads per process. It prints both wall times and their ratio; it asserts
nothing about them. Two processes on two cores pay only when one process leaves a core idle: with one
thread each they can, with two threads each they compete (and other load on the machine counts too).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from flows.parallel import plan, project_files  # noqa: E402

TARGETS = ["train@v7", "train@v8"]


def sh(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"$ {' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def scratch_project(dest: Path, env: dict[str, str]) -> None:
    for name in project_files(REPO_ROOT):
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, dest / name)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", "scratch"]):
        sh(cmd, dest, env)
    sh([sys.executable, "-m", "shoplm.cli", "profile", "use", "tiny"], dest, env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS of every process (default 1)")
    parser.add_argument("--keep", type=Path, help="build the scratch project here and keep it")
    args = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "DVC_NO_ANALYTICS": "1", "HF_HUB_OFFLINE": "1",
           "MLFLOW_DISABLE_TELEMETRY": "true", "TOKENIZERS_PARALLELISM": "false",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("MLFLOW_TRACKING_URI", None)  # the scratch project's own store
    env.pop("PYTHONPATH", None)  # the scratch copy's modules, not this checkout's
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-parallel-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        scratch_project(root, env)
        env["PYTHONPATH"] = str(root)
        upstream = plan(root, TARGETS)  # base, eval sets, ingest, both mixtures: built once, outside the timing
        setup = sh([sys.executable, "-m", "dvc", "repro", *upstream], root, env)
        print(f"setup ({', '.join(upstream)}): {setup:.1f} s, {os.cpu_count()} cores, OMP_NUM_THREADS={args.threads}")
        parallel = sh([sys.executable, "-m", "flows.parallel", *TARGETS, "--jobs", "2"], root, env)
        sequential = sh([sys.executable, "-m", "dvc", "repro", "--force", "--single-item", *TARGETS], root, env)
        status = subprocess.run([sys.executable, "-m", "dvc", "status", *TARGETS], cwd=root, env=env,
                                capture_output=True, text=True).stdout.strip()
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(f"sequential ({' then '.join(TARGETS)}): {sequential:.1f} s")
    print(f"parallel   (flows.parallel --jobs 2):  {parallel:.1f} s")
    print(f"sequential / parallel: {sequential / parallel:.2f}x")
    print(f"dvc status afterwards: {status or '(no output)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
