"""One writer of ``params.yaml`` at a time, and run-scoped params that always give the user's file back.

DVC reads its parameters from ``params.yaml`` by name (``dvc.yaml`` templating and every stage's
``params:``), so a pipeline run with its own parameters (another profile, an extra evaluation set) must
put them in that file while its stages run. The design:

- ``params_lock`` is an OS file lock (``filelock``) beside ``params.yaml``. Every writer takes it:
  ``shoplm profile use`` and each flow run for its whole duration. Concurrent runs (a served deployment
  triggered twice, a schedule firing during a manual run) queue instead of racing on one file.
- ``run_params(text)``, under the lock, saves the user's bytes to ``.params.yaml.saved``, writes the
  run's params atomically, and on every exit path (success, exception, Ctrl-C, SIGTERM from a
  cancellation) writes the saved bytes back, byte-identical, and removes the copy. A run killed with
  SIGKILL cannot clean up: the next writer to take the lock finds the saved copy and restores it first.
  Every write keeps the file's permission bits (a temporary file's are 0600).
- A run reads ``params.yaml`` only while it holds the lock: while another run holds it, the file holds
  that run's params, not the user's.
- If someone changed ``params.yaml`` by hand during the run (it no longer holds what the run wrote), it
  is left alone and the file as it was before the run goes to ``params.yaml.before-run``, with a
  warning: nothing the user wrote is overwritten.
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

log = logging.getLogger(__name__)


def _lock_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.lock")


def saved_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.saved")


def _file_mode(path: Path) -> int:
    """``path``'s permission bits; for a new file, what ``open()`` would give it (0o666 less the umask)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: Path, data: str | bytes, mode: int | None = None) -> None:
    """Write via a temporary file and rename, so a reader (DVC) never sees half a file.

    The file keeps its permission bits (``mode``, default: the file's own), not the temporary file's 0600.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    mode = _file_mode(path) if mode is None else mode
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _recover(target: Path) -> None:
    saved = saved_path(target)
    if saved.exists():
        log.warning("%s: restoring the copy a killed pipeline run left in %s", target, saved)
        write_atomic(target, saved.read_bytes(), mode=_file_mode(saved))
        saved.unlink()


class ParamsBusy(RuntimeError):
    """``params_lock(wait=False)``: another run or profile switch holds the lock."""


@contextmanager
def params_lock(target: Path, wait: bool = True) -> Iterator[None]:
    """Hold the lock of ``target`` (waiting, with a message, while another run holds it).

    ``wait=False``: raise ``ParamsBusy`` at once instead of waiting.
    """
    lock = FileLock(str(_lock_path(target)))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not wait:
            raise ParamsBusy(f"{target} is in use by another pipeline run or profile switch") from None
        log.warning("%s is in use by another pipeline run or profile switch; waiting for it to finish", target)
        print(f"waiting for the other run using {target} to finish (lock {_lock_path(target)})", flush=True)
        lock.acquire()
    try:
        _recover(target)
        yield
    finally:
        lock.release()


class _Terminated(BaseException):
    """SIGTERM turned into an exception, so that ``finally`` blocks run (Prefect cancels with SIGTERM)."""


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise _Terminated(f"terminated by signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def run_params(text: str, target: Path) -> Iterator[None]:
    """``target`` holds ``text`` inside the block and the user's bytes again after it. Hold the lock."""
    original = target.read_bytes()
    wanted = text.encode("utf-8")
    if wanted == original:
        yield
        return
    saved = saved_path(target)
    write_atomic(saved, original, mode=_file_mode(target))  # the copy restores bytes and mode alike
    with _sigterm_unwinds():
        try:
            write_atomic(target, wanted)
            yield
        finally:
            if target.read_bytes() == wanted:
                write_atomic(target, original)
                saved.unlink()
            else:
                kept = target.with_name(f"{target.name}.before-run")
                os.replace(saved, kept)
                log.warning("%s was changed during the run: left as it is; the file as it was before the run "
                            "is in %s", target, kept)
