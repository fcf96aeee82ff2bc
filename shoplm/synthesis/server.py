"""A local vLLM OpenAI-compatible server: started on 127.0.0.1, health-waited, always stopped.

``python -m vllm.entrypoints.openai.api_server`` runs in its own process group (the engine core is a
child process), so stopping sends SIGTERM to the whole group, then SIGKILL after a timeout: no child
outlives it. Its output goes to a log file, which a failed start quotes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shoplm.errors import UserError
from shoplm.params.synthesis import ServerSettings


class ServerStartError(UserError):
    """The server exited or did not answer /health in time; the message quotes its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(settings: ServerSettings, served_name: str, port: int) -> list[str]:
    command = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", settings.model,
               "--served-model-name", served_name, "--host", "127.0.0.1", "--port", str(port),
               "--max-model-len", str(settings.max_model_len),
               # JSON without free whitespace: small models otherwise pad replies with newlines to max_tokens
               "--structured-outputs-config", '{"backend": "xgrammar", "disable_any_whitespace": true}']
    return command + (["--enforce-eager"] if settings.enforce_eager else []) + list(settings.extra_args)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def stop(process: subprocess.Popen, timeout_s: float) -> None:
    """SIGTERM to the process group, then SIGKILL once ``timeout_s`` passes."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass
    try:  # children that ignored SIGTERM while the leader exited
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@contextmanager
def vllm_server(settings: ServerSettings, served_name: str, log_path: Path, port: int | None = None
                ) -> Iterator[str]:
    """Start the server and yield its base URL (``http://127.0.0.1:PORT/v1``); stop it on exit."""
    if not Path(settings.model).is_dir():  # vLLM would take a missing folder for a hub id and try to download it
        raise ServerStartError(f"synth.server.model: no model folder {settings.model} (run `dvc repro base`)")
    port = port or free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "VLLM_HOST_IP": "127.0.0.1", "VLLM_CPU_KVCACHE_SPACE": str(settings.kv_cache_gib),
           "VLLM_CPU_OMP_THREADS_BIND": settings.omp_threads_bind, "VLLM_NO_USAGE_STATS": "1",
           "DO_NOT_TRACK": "1"}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(server_command(settings, served_name, port), stdout=log,
                                   stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + settings.startup_timeout_s
        while not _healthy(url):
            if process.poll() is not None:
                raise ServerStartError(f"vLLM server exited with code {process.returncode}; "
                                       f"{log_path}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                raise ServerStartError(f"vLLM server not healthy after {settings.startup_timeout_s:.0f} s; "
                                       f"{log_path}:\n{_tail(log_path)}")
            time.sleep(1)
        yield f"{url}/v1"
    finally:
        stop(process, settings.stop_timeout_s)
