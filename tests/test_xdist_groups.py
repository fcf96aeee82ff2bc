"""make test's parallel run (pytest-xdist, --dist loadgroup): every test that uses one of the expensive
session fixtures of tests/conftest.py's XDIST_GROUPS runs on one worker, so the fixture starts once; so
do the tests of a module that share a module-scoped fixture.

pytest 9.2 silently broke this (its node ids are structured; xdist 3.8.0 still renames the legacy field:
pytest-xdist issue 1386), so constraints.txt holds pytest at 8.4; this test fails if a bump breaks it again.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

CONFTEST = """\
import json, os, pytest
from tests.conftest import pytest_collection_modifyitems  # the hook under test

@pytest.fixture(scope="session")
def pipeline_run():
    return "dag"

@pytest.fixture(scope="session")
def vllm_engine():
    return "engine"

@pytest.fixture
def record(request):
    def write(kind):
        with open(os.path.join(os.environ["RECORD_DIR"], request.node.name), "w") as f:
            json.dump([kind, os.environ["PYTEST_XDIST_WORKER"]], f)
    return write
"""

TESTS = """\
import pytest

@pytest.mark.parametrize("i", range(4))
def test_dag_{n}(pipeline_run, record, i):
    record(pipeline_run)

@pytest.mark.parametrize("i", range(4))
def test_engine_{n}(vllm_engine, record, i):
    record(vllm_engine)

@pytest.mark.parametrize("i", range(8))
def test_plain_{n}(record, i):
    record("plain")
"""

MODULE_FIXTURE = """\
import pytest

@pytest.fixture(scope="module")
def built():
    return "module"

@pytest.mark.parametrize("i", range(6))
def test_uses_it(built, record, i):
    record(built)
"""


def test_tests_of_one_session_fixture_share_a_worker_and_the_rest_spread(tmp_path):
    project, records = tmp_path / "project", tmp_path / "records"
    project.mkdir()
    records.mkdir()
    (project / "conftest.py").write_text(CONFTEST)
    for n in range(2):
        (project / f"test_{n}.py").write_text(TESTS.format(n=n))
    (project / "test_module_fixture.py").write_text(MODULE_FIXTURE)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "RECORD_DIR": str(records)}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup",
                           "-p", "no:cacheprovider", "-p", "no:randomly", str(project)],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    workers: dict[str, set[str]] = {}
    for path in records.iterdir():
        kind, worker = json.loads(path.read_text())
        workers.setdefault(kind, set()).add(worker)
    assert sum(1 for _ in records.iterdir()) == 38
    assert len(workers["dag"]) == 1 and len(workers["engine"]) == 1  # 8 tests each, from two files
    assert len(workers["module"]) == 1  # the module fixture's 6 tests
    assert workers["plain"] == {"gw0", "gw1"}  # the rest is load-balanced
