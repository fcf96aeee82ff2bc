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
``slowest setups`` lines name those tests, which is where the fixtures' cost shows.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

MARKED = ("cluster", "distributed", "vllm", "gpu")
_seconds: dict[str, float] = defaultdict(float)
_counts: dict[str, int] = defaultdict(int)
_category: dict[str, str] = {}
_setups: list[tuple[float, str]] = []


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        _category[item.nodeid] = category(item)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    kind = _category.get(report.nodeid, "unit")
    _seconds[kind] += report.duration
    if report.when == "call" or (report.when == "setup" and report.skipped):
        _counts[kind] += 1
    if report.when == "setup":
        _setups.append((report.duration, report.nodeid))


def pytest_terminal_summary(terminalreporter) -> None:
    if not _seconds:
        return
    total = sum(_seconds.values())
    write = terminalreporter.write_line
    terminalreporter.section("time by category (setup + call + teardown)")
    write(f"{'category':<12}{'tests':>7}{'seconds':>10}{'share':>8}")
    for kind, seconds in sorted(_seconds.items(), key=lambda item: -item[1]):
        write(f"{kind:<12}{_counts[kind]:>7}{seconds:>10.1f}{seconds / total:>8.0%}")
    write(f"{'all':<12}{sum(_counts.values()):>7}{total:>10.1f}")
    write("slowest setups (session fixtures are charged to the first test that needs them):")
    for seconds, nodeid in sorted(_setups, reverse=True)[:8]:
        if seconds >= 1.0:
            write(f"  {seconds:8.1f} s  {nodeid}")
