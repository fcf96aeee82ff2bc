"""Real servers on 127.0.0.1 for the scale-out tests: an MLflow tracking server and a Prefect server.

Each starts in its own process group (``start_new_session``), is used, and is stopped by killing the
whole group: ``mlflow server`` and ``prefect server start`` both fork children (gunicorn/uvicorn workers)
that outlive their parent's PID when only the parent is signalled. Teardown asserts with psutil that no
process of the group survives. Every test module here is marked ``cluster`` and ``slow`` (``pytestmark``):
deselect them with ``-m "not cluster"``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 180  # a loaded 2-core CI machine: both servers are healthy in 5-20 s when idle


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def quiet_env(**extra: str) -> dict[str, str]:
    """This interpreter's environment, telemetry off, the venv's scripts first on PATH."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "MLFLOW_DISABLE_TELEMETRY": "true", "DVC_NO_ANALYTICS": "1"}
    for key in ("SHOPLM_MLFLOW_PARENT_RUN_ID", "PREFECT_API_URL", "MLFLOW_TRACKING_URI"):
        env.pop(key, None)  # never inherit the developer's servers
    return {**env, **extra}


@dataclass
class Service:
    """A process group started for a test; ``stop()`` kills the group and checks nothing is left."""

    name: str
    proc: subprocess.Popen
    log: Path
    start_seconds: float = 0.0
    seen: set[int] = field(default_factory=set)  # every PID of the group seen while it ran

    def remember_children(self) -> None:
        import psutil

        try:
            parent = psutil.Process(self.proc.pid)
            self.seen |= {parent.pid, *(child.pid for child in parent.children(recursive=True))}
        except psutil.NoSuchProcess:
            pass

    def alive(self) -> list[int]:
        import psutil

        left = []
        for pid in self.seen:
            try:
                process = psutil.Process(pid)
                if process.status() != psutil.STATUS_ZOMBIE:
                    left.append(pid)
            except psutil.NoSuchProcess:
                pass
        return left

    def stop(self, grace_s: float = 20.0) -> None:
        self.remember_children()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + grace_s
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        if left := self.alive():  # a child that ignored SIGTERM: kill what is left, then report it
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait(timeout=10)
            raise AssertionError(f"{self.name}: processes {left} outlived SIGTERM to the group; see {self.log}")
        self.proc.wait(timeout=10)


def start_service(name: str, cmd: Sequence[str], health_url: str, log: Path, env: dict[str, str],
                  cwd: Path | None = None) -> Service:
    """Start ``cmd`` in a new process group and wait until ``health_url`` answers 200."""
    import requests

    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)
    service = Service(name, proc, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(health_url, timeout=2).status_code == 200:
                service.start_seconds = time.perf_counter() - started
                service.remember_children()
                print(f"\n{name} healthy in {service.start_seconds:.1f} s ({len(service.seen)} processes)")
                return service
        except requests.RequestException:
            pass
        time.sleep(0.5)
    service.stop()
    raise RuntimeError(f"{name} not healthy after {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@dataclass
class MlflowServer:
    url: str
    service: Service
    artifacts: Path


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """``mlflow server`` on 127.0.0.1: SQLite backend, artifacts served by the server (clients upload and
    download through HTTP, as machines without the server's disk do), one worker, no job runner."""
    home = tmp_path_factory.mktemp("mlflow_server")
    port = free_port()
    cmd = [str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
           "--backend-store-uri", f"sqlite:///{home / 'mlflow.db'}", "--artifacts-destination", str(home / "artifacts")]
    service = start_service("mlflow server", cmd, f"http://127.0.0.1:{port}/health", home / "server.log",
                            quiet_env(MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"))
    try:
        yield MlflowServer(url=f"http://127.0.0.1:{port}", service=service, artifacts=home / "artifacts")
    finally:
        service.stop()
        assert not service.alive()


@dataclass
class PrefectServer:
    api_url: str
    home: Path
    service: Service


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """``prefect server start`` on 127.0.0.1 with its own PREFECT_HOME (SQLite) in a temporary folder."""
    home = tmp_path_factory.mktemp("prefect_home")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    cmd = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    service = start_service("prefect server", cmd, f"{api}/health", home / "server.log",
                            quiet_env(PREFECT_HOME=str(home), PREFECT_API_URL=api))
    try:
        yield PrefectServer(api_url=api, home=home, service=service)
    finally:
        service.stop()
        assert not service.alive()
