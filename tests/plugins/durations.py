"""Where the suite's time goes, by category: a table at the end of every run (CI's log included).

pytest's ``--durations`` lists the slowest single phases; this sums every test's setup, call and
teardown into the category it belongs to, so a landing that adds minutes shows which kind of test added
them. The categories, first match wins:

- ``pipeline``: tests/pipeline (the whole tiny DAG under the Prefect flow, the flow processes);
- ``cluster``, ``distributed``, ``vllm``, ``gpu``: the markers of that name (real servers, 2-process
  accelerate, a vLLM engine, CUDA);
- ``smol``: tests that use the converted SmolLM2 (fixture ``smol_base_dir``);
- ``slow``: other tests marked slow (a stage, a training run);
- ``unit``: the rest.

A session fixture's first setup is charged to the test that first needs it, as pytest reports it; the
``slowest setups`` lines name those tests, which is where the fixtures' cost shows. Under pytest-xdist
the workers tag each report with its category (the controller collects nothing), and the table adds the
run's wall-clock time beside the summed test time, with the seconds each worker was busy.

Every run also writes each test's phases, worker and start to ``.test-durations.json`` at the repository
root (git ignores it): ``make test-times`` (tools/test_times.py) lists the slowest tests and setups of each
category from it, and with ``--timeline`` each worker's tests in the order they ran.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from pathlib import Path

import pytest

MARKED = ("cluster", "distributed", "vllm", "gpu")
_seconds: dict[str, float] = defaultdict(float)
_counts: dict[str, int] = defaultdict(int)
_category: dict[str, str] = {}
_setups: list[tuple[float, str]] = []
_workers: dict[str, float] = defaultdict(float)
# The session's start in the clock of a report's start (seconds since the epoch): the wall clock and each
# test's start offset are both read against it.
_session_start: list[float] = []
_tests: dict[str, dict] = {}  # node id → {"category", "setup", "call", "teardown", "outcome", "worker", "start"}
RECORD = ".test-durations.json"


def category(item: pytest.Item) -> str:
    path = str(item.path).replace("\\", "/")
    if "/tests/pipeline/" in path:
        return "pipeline"
    for marker in MARKED:
        if item.get_closest_marker(marker) is not None:
            return marker
    if "smol_base_dir" in getattr(item, "fixturenames", ()):
        return "smol"
    return "slow" if item.get_closest_marker("slow") is not None else "unit"


def pytest_sessionstart() -> None:
    _session_start.append(time.time())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        _category[item.nodeid] = category(item)
        item.user_properties.append(("category", _category[item.nodeid]))  # travels to xdist's controller


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    kind = dict(report.user_properties).get("category") or _category.get(report.nodeid, "unit")
    _seconds[kind] += report.duration
    worker = getattr(report, "node", None) and report.node.gateway.id or "main"
    _workers[worker] += report.duration
    if report.when == "call" or (report.when == "setup" and report.skipped):
        _counts[kind] += 1
    test = _tests.setdefault(re.sub(r"@[\w-]+$", "", report.nodeid), {"category": kind})  # xdist adds @<group>
    test[report.when] = round(report.duration, 3)
    if report.when == "setup":  # where and when it ran: a worker's timeline shows what waited on what
        _setups.append((report.duration, report.nodeid))
        test.update(worker=worker, start=round(report.start - _session_start[0], 1) if _session_start else None)
    if report.when == "call" or report.outcome != "passed":
        test["outcome"] = report.outcome


def _wall() -> float:
    return time.time() - _session_start[0] if _session_start else 0.0


def pytest_terminal_summary(terminalreporter) -> None:
    if not _seconds:
        return
    if not hasattr(terminalreporter.config, "workerinput"):  # the controller (or a run without xdist)
        record = Path(terminalreporter.config.rootpath) / RECORD
        record.write_text(json.dumps({"wall_s": round(_wall(), 1), "tests": _tests}, indent=1) + "\n")
    total = sum(_seconds.values())
    write = terminalreporter.write_line
    terminalreporter.section("time by category (setup + call + teardown)")
    write(f"{'category':<12}{'tests':>7}{'seconds':>10}{'share':>8}")
    for kind, seconds in sorted(_seconds.items(), key=lambda item: -item[1]):
        write(f"{kind:<12}{_counts[kind]:>7}{seconds:>10.1f}{seconds / total:>8.0%}")
    write(f"{'all':<12}{sum(_counts.values()):>7}{total:>10.1f}")
    wall = _wall()
    busy = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in sorted(_workers.items()))
    write(f"wall clock {wall:.0f} s for {total:.0f} s of tests (busy: {busy})")
    write("slowest setups (session fixtures are charged to the first test that needs them):")
    for seconds, nodeid in sorted(_setups, reverse=True)[:8]:
        if seconds >= 1.0:
            write(f"  {seconds:8.1f} s  {nodeid}")
