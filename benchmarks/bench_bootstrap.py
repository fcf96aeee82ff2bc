"""Time the stratified, paired bootstrap of shoplm.shopbench.evidence on synthetic scored sets.

Builds N questions spread over 40 tasks in the four tracks (accuracy, micro f1, ndcg and hit rate
tasks), fakes two models' per-sample scores (no scorer run), and times `interval` (one model) and
`paired_difference` (two) with 2,000 resamples, best of --repeats. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_bootstrap.py [--sizes 1000 10000] [--resamples 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

from shoplm.shopbench.evidence import interval, paired_difference
from shoplm.shopbench.records import TRACKS, Question

_KINDS = [  # (task type, metric, gold)
    ("multiple-choice", "accuracy", 1),
    ("named_entity_recognition", "micro f1", ["nike"]),
    ("ranking", "ndcg", [1, 0.5, 0.2, 0.1, 0]),
    ("retrieval", "hit rate@3", [1, 3, 5]),
]


def synthetic(n: int, rng: np.random.Generator) -> tuple[list[Question], list[list[dict]]]:
    questions = []
    for i in range(n):
        task = i % 40
        task_type, metric, gold = _KINDS[task % len(_KINDS)]
        questions.append(Question(
            input_field="Q?", output_field=gold, task_name=f"task{task}", task_type=task_type, metric=metric,
            is_multiple_choice=task_type == "multiple-choice", track=TRACKS[task % len(TRACKS)]))
    models = []
    for skill in (0.6, 0.55):
        samples = []
        for q in questions:
            if q.metric == "micro f1":
                value = [int(x) for x in rng.integers(0, 3, size=3)]
            else:
                value = float(rng.random() < skill) if q.metric == "accuracy" else float(rng.random())
            samples.append({"task_name": q.task_name, "metric": q.metric, "parsed": None, "score": value})
        models.append(samples)
    return questions, models


def best_of(repeats: int, call) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="question counts")
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"stratified bootstrap, {args.resamples} resamples, 40 tasks, best of {args.repeats}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs")
    print()
    print(f"{'questions':>10}{'interval s':>14}{'paired s':>14}   track5 [95% CI]; a - b [95% CI]")
    for n in args.sizes:
        questions, (a, b) = synthetic(n, rng)
        single = best_of(args.repeats, lambda: interval(questions, a, n_resamples=args.resamples))
        paired = best_of(args.repeats, lambda: paired_difference(questions, a, b, n_resamples=args.resamples))
        est = interval(questions, a, n_resamples=args.resamples)
        diff = paired_difference(questions, a, b, n_resamples=args.resamples)
        print(f"{n:>10}{single:>14.3f}{paired:>14.3f}   {est.point:.4f} [{est.low:.4f}, {est.high:.4f}]; "
              f"{diff.point:+.4f} [{diff.low:+.4f}, {diff.high:+.4f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
