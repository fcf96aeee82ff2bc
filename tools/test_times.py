"""The slowest tests and setups of the last pytest run, by category (``make test-times``).

Reads ``.test-durations.json``, which every run writes (tests/plugins/durations.py): per category, its
total, then its slowest tests (setup + call + teardown) and its slowest setups, where a session or module
fixture's cost shows (it is charged to the first test that needs it). Use it to see what a change made
slower, and which tests belong outside ``make test-fast``.

    python -m tools.test_times [--top N] [--file PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

RECORD = Path(__file__).resolve().parents[1] / ".test-durations.json"


def report(data: dict, top: int) -> str:
    tests = data["tests"]
    by_category: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for nodeid, phases in tests.items():
        by_category[phases["category"]].append((nodeid, phases))

    def total(phases: dict) -> float:
        return sum(phases.get(when, 0.0) for when in ("setup", "call", "teardown"))

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.test_times", description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=8, help="tests listed per category (default 8)")
    parser.add_argument("--file", type=Path, default=RECORD, help=f"the record to read (default {RECORD.name})")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"error: {args.file}: no record; run the tests first (make test or make test-fast)", file=sys.stderr)
        return 2
    print(report(json.loads(args.file.read_text()), args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
