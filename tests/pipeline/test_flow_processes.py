"""Real ``python -m flows.pipeline`` processes in a throwaway copy of the repository, as a shell runs them.

The cheapest stage, ``eval_sets`` (seconds), under the real flow: its own temporary Prefect server (in
a ``PREFECT_HOME`` inside the copy, as ``make run`` sets one) and MLflow's SQLite file in the copy. The
environment is a fresh shell's: none of the telemetry switches that tests/conftest.py sets, a home folder
without ``.prefect/``, so what the flow sets itself is what is tested. Two runs, once per module (each
takes 1-2 minutes on a loaded 2-core machine); the tests read what they printed and left.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.pipeline.conftest import copy_repository

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
SAMPLE = "data/sample/shopbench/questions.jsonl"
FLOW_TIMEOUT_S = 600  # a loaded 2-core machine; one run of eval_sets takes well under a minute when idle
# What tests/conftest.py and the Makefile set and a fresh shell has not: the flow must not depend on them.
QUIETING = ("PREFECT_SERVER_ANALYTICS_ENABLED", "MLFLOW_DISABLE_TELEMETRY", "DVC_NO_ANALYTICS", "DO_NOT_TRACK",
            "PREFECT_SERVER_MEMO_STORE_PATH", "PREFECT_LOGGING_LEVEL")


def shell_env(root: Path, home: Path, prefect_home: str = ".prefect") -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in QUIETING and not key.startswith(("PREFECT_", "MLFLOW_", "SHOPLM_"))}
    home.mkdir(exist_ok=True)
    return {**env, "HOME": str(home), "PREFECT_HOME": str(root / prefect_home), "PYTHONPATH": str(root),
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", "PYTHONUNBUFFERED": "1",
            # A first start creates the SQLite database: over Prefect's 20 s on a loaded 2-core machine.
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180"}


class Flow:
    """``python -m flows.pipeline ARGS`` in its own process group; its output collected line by line."""

    def __init__(self, root: Path, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "flows.pipeline", *args], cwd=root, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def send(self, signum: int) -> None:
        os.killpg(self.proc.pid, signum)

    def wait_for(self, predicate, timeout: float = FLOW_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert self.proc.poll() is None or predicate(), f"exited {self.proc.returncode}:\n{self.output}"
            assert time.monotonic() < deadline, f"timed out:\n{self.output}"
            time.sleep(0.2)

    def finish(self, timeout: float = FLOW_TIMEOUT_S) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            self.kill()
        self._reader.join(timeout=10)
        return code

    def kill(self) -> None:
        try:
            self.send(signal.SIGCONT)
            self.send(signal.SIGKILL)  # the group: its temporary Prefect server too
        except ProcessLookupError:
            pass


def stages_line(flow: Flow) -> str:
    return next((line.split("stages to run, in DAG order: ", 1)[1] for line in flow.lines
                 if "stages to run, in DAG order: " in line), "")


def noise(flow: Flow) -> list[str]:
    return [line for line in flow.lines if "ERROR" in line or "Traceback" in line]


@dataclass
class QueuedRuns:
    """Run A with an extra evaluation set, and run B, plain, started while A holds params.yaml's lock."""

    root: Path
    home: Path
    params_before: bytes
    a: Flow
    b: Flow


@pytest.fixture(scope="module")
def queued(tmp_path_factory: pytest.TempPathFactory) -> QueuedRuns:
    root = copy_repository(tmp_path_factory.mktemp("repo"))
    home = tmp_path_factory.mktemp("home")
    (root / "params.yaml").chmod(0o644)
    before = (root / "params.yaml").read_bytes()
    # Each run its own Prefect records: A is paused below, and its server must not hold the SQLite file
    # that B's server writes. What they share is what these tests are about: params.yaml, DVC, MLflow.
    a = Flow(root, shell_env(root, home, ".prefect-a"),
             "--stages", "eval_sets", "--force", "eval_sets", "--eval-set", f"extra={SAMPLE}")
    b = None
    try:
        # A holds the lock and params.yaml holds its params once the saved copy of the user's file exists.
        # Pausing A there (SIGSTOP, its whole group) until B has planned or queued makes the overlap certain
        # however long A's stages take.
        a.wait_for(lambda: (root / ".params.yaml.saved").exists())
        a.send(signal.SIGSTOP)
        b = Flow(root, shell_env(root, home, ".prefect-b"), "--stages", "eval_sets", "--force", "eval_sets")
        b.wait_for(lambda: "waiting for the other run" in b.output or stages_line(b))
        a.send(signal.SIGCONT)
        assert a.finish() == 0, a.output
        assert b.finish() == 0, b.output
    finally:
        a.kill()
        if b is not None:
            b.kill()
    return QueuedRuns(root=root, home=home, params_before=before, a=a, b=b)


def test_a_queued_run_plans_its_own_stages_once_it_holds_the_lock(queued):
    a, b, root = queued.a, queued.b, queued.root
    assert stages_line(a) == "eval_sets@extra, eval_sets@sample", a.output
    assert "waiting for the other run" in b.output  # B queued behind A ...
    assert stages_line(b) == "eval_sets@sample", b.output  # ... and planned from the user's params
    assert "eval_sets@extra" not in b.output and "tasks.eval_sets extra" not in b.output, b.output

    # As B alone leaves them, after A: the user's params.yaml (bytes and mode), A's set and B's in dvc.lock
    # and data/eval/, each recorded with the params its stage read, and no saved copy left behind.
    params = root / "params.yaml"
    assert params.read_bytes() == queued.params_before
    assert stat.S_IMODE(params.stat().st_mode) == 0o644
    assert not (root / ".params.yaml.saved").exists() and not (root / "params.yaml.before-run").exists()
    lock = yaml.safe_load((root / "dvc.lock").read_text())["stages"]
    assert sorted(lock) == ["eval_sets@extra", "eval_sets@sample"]
    assert lock["eval_sets@sample"]["params"] == {"params.yaml": {"eval_sets.sample": SAMPLE}}
    assert sorted(p.name for p in (root / "data/eval").glob("*.jsonl")) == ["extra.jsonl", "sample.jsonl"]


@pytest.mark.parametrize("run", ["a", "b"])
def test_a_successful_run_prints_no_error_line(queued, run):
    """Telemetry, its database writes, a memo file outside PREFECT_HOME, optional-kernel warnings: not errors."""
    flow = getattr(queued, run)
    assert noise(flow) == [], flow.output
    assert "memo_store.toml" not in flow.output, flow.output  # Prefect's memo of its block registration ...
    assert (queued.root / f".prefect-{run}/memo_store.toml").exists()  # ... is in PREFECT_HOME
    assert not (queued.home / ".prefect").exists()  # not in ~/.prefect
    assert "pip install kernels" not in flow.output, flow.output  # bitsandbytes' optional CPU kernels
