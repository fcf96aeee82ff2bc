"""tools/test_times.py: the slowest tests by category, and each worker's timeline."""

from __future__ import annotations

import json

from tools.test_times import main

RECORD = {"wall_s": 100.0, "tests": {
    "tests/a.py::dag": {"category": "pipeline", "setup": 60.0, "call": 1.0, "teardown": 0.0, "worker": "gw1",
                        "start": 20.0},
    "tests/b.py::engine": {"category": "vllm", "setup": 30.0, "call": 10.0, "teardown": 0.0, "worker": "gw0",
                           "start": 50.0},
    "tests/b.py::first": {"category": "unit", "setup": 0.0, "call": 6.0, "teardown": 0.0, "worker": "gw0",
                          "start": 20.0},
    "tests/c.py::tiny": {"category": "unit", "setup": 0.0, "call": 0.5, "teardown": 0.0, "worker": "gw0",
                         "start": 95.0},
}}


def test_the_timeline_lists_each_workers_long_tests_in_the_order_they_ran(tmp_path, capsys):
    record = tmp_path / "record.json"
    record.write_text(json.dumps(RECORD))
    assert main(["--file", str(record), "--timeline"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "gw0: 3 tests, busy 46 s, last test ended at 96 s"
    assert [line.split()[-1] for line in out[1:3]] == ["tests/b.py::first", "tests/b.py::engine"]
    assert out[1].split()[:2] == ["20.0", "6.0"]
    assert out[3] == "  (tests under 5 s: 0 s; between tests: 49 s)"  # ended at 95.5 s, busy 46.5 s
    assert out[4].startswith("gw1: 1 tests, busy 61 s")


def test_the_category_report_still_reads_a_record_with_workers(tmp_path, capsys):
    record = tmp_path / "record.json"
    record.write_text(json.dumps(RECORD))
    assert main(["--file", str(record)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("4 tests, 108 s of test time in 100 s wall clock")
    assert "pipeline: 1 tests, 61.0 s (57%)" in out  # 61 of 107.5 s
