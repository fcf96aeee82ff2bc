"""A stage's start-up with CPython's cyclic garbage collector on, and paused (shoplm/startup.py).

Starts ``--runs`` fresh interpreters of each kind, alternating so that a busy machine slows both alike,
each importing what a scoring stage imports (torch, transformers' model classes, peft,
sentence-transformers, MLflow with its SQLite store) and reporting its CPU seconds and the collector's
passes. Prints the medians side by side and their ratio; asserts nothing.

    .venv/bin/python benchmarks/bench_startup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = """
import gc, json, sys, time
if sys.argv[1] == "paused":
    gc.disable()
cpu = time.process_time()
import torch, transformers, peft, sentence_transformers, mlflow
from transformers import AutoModelForCausalLM
from mlflow.store.tracking import sqlalchemy_store
print(json.dumps({"cpu_s": time.process_time() - cpu, "passes": [s["collections"] for s in gc.get_stats()]}))
"""


def one(kind: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, kind], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="interpreters of each kind (default 3)")
    args = parser.parse_args()
    results: dict[str, list[dict]] = {"on": [], "paused": []}
    for _ in range(args.runs):
        for kind in results:
            results[kind].append(one(kind))
    medians = {kind: statistics.median(r["cpu_s"] for r in runs) for kind, runs in results.items()}
    print(f"{'collector':<10}{'CPU s (median)':>16}  runs{'':<18}passes gen0/gen1/gen2 (last run)")
    for kind, runs in results.items():
        cpu = ", ".join(f"{r['cpu_s']:.2f}" for r in runs)
        print(f"{kind:<10}{medians[kind]:>16.2f}  {cpu:<22}{'/'.join(map(str, runs[-1]['passes']))}")
    print(f"on / paused: {medians['on'] / medians['paused']:.2f}x")


if __name__ == "__main__":
    main()
