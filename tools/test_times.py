"""The slowest tests and setups of the last pytest run, by category (``make test-times``).

Reads ``.test-durations.json``, which every run writes (tests/plugins/durations.py): per category, its
total, then its slowest tests (setup + call + teardown) and its slowest setups, where a session or module
fixture's cost shows (it is charged to the first test that needs it). Use it to see what a change made
slower, and which tests belong outside ``make test-fast``.

    python -m tools.test_times [--top N] [--file PATH] [--timeline]

``--timeline`` lists instead, per xdist worker, its tests of 5 s or more in the order they ran, with the
second each started and the seconds the worker spent between tests (collection, waiting on a lock):
what to move when one worker finishes long after the other.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

RECORD = Path(__file__).resolve().parents[1] / ".test-durations.json"


def total(phases: dict) -> float:
    """A test's seconds: setup + call + teardown."""
    return sum(phases.get(when, 0.0) for when in ("setup", "call", "teardown"))


def report(data: dict, top: int) -> str:
    tests = data["tests"]
    by_category: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for nodeid, phases in tests.items():
        by_category[phases["category"]].append((nodeid, phases))

    grand = sum(total(p) for p in tests.values())
    lines = [f"{len(tests)} tests, {grand:.0f} s of test time in {data.get('wall_s', 0):.0f} s wall clock"]
    for category, items in sorted(by_category.items(), key=lambda kv: -sum(total(p) for _, p in kv[1])):
        seconds = sum(total(p) for _, p in items)
        lines.append(f"\n{category}: {len(items)} tests, {seconds:.1f} s ({seconds / grand:.0%})")
        lines.append("  slowest tests (setup + call + teardown):")
        for nodeid, phases in sorted(items, key=lambda kv: -total(kv[1]))[:top]:
            lines.append(f"    {total(phases):7.1f} s  {nodeid}")
        setups = sorted(items, key=lambda kv: -kv[1].get("setup", 0.0))[:top]
        lines.append("  slowest setups (fixtures):")
        lines.extend(f"    {phases.get('setup', 0.0):7.1f} s  {nodeid}" for nodeid, phases in setups
                     if phases.get("setup", 0.0) >= 0.5)
    return "\n".join(lines)


def timeline(data: dict, at_least: float = 5.0) -> str:
    by_worker: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for nodeid, phases in data["tests"].items():
        if phases.get("start") is not None:
            by_worker[phases.get("worker", "main")].append((phases["start"], total(phases), nodeid))
    if not by_worker:
        return "no start times in this record (written before they were recorded): run the tests again"
    lines = []
    for worker, tests in sorted(by_worker.items()):
        tests.sort()
        busy = sum(seconds for _, seconds, _ in tests)
        end = max(start + seconds for start, seconds, _ in tests)
        lines.append(f"{worker}: {len(tests)} tests, busy {busy:.0f} s, last test ended at {end:.0f} s")
        shown = 0.0
        for start, seconds, nodeid in tests:
            if seconds >= at_least:
                lines.append(f"  {start:7.1f}  {seconds:6.1f} s  {nodeid}")
                shown += seconds
        lines.append(f"  (tests under {at_least:g} s: {busy - shown:.0f} s; between tests: {end - busy:.0f} s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.test_times", description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=8, help="tests listed per category (default 8)")
    parser.add_argument("--file", type=Path, default=RECORD, help=f"the record to read (default {RECORD.name})")
    parser.add_argument("--timeline", action="store_true",
                        help="each worker's tests of 5 s or more in the order they ran, with start times")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"error: {args.file}: no record; run the tests first (make test or make test-fast)", file=sys.stderr)
        return 2
    data = json.loads(args.file.read_text())
    print(timeline(data) if args.timeline else report(data, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
