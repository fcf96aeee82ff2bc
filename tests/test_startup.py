"""shoplm/startup.py: a stage command starts with the cyclic collector paused, and gets it back."""

from __future__ import annotations

import gc
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shoplm.startup import pause_gc_while_starting

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_the_collector_is_paused_then_back_on_by_itself():
    assert gc.isenabled()
    try:
        pause_gc_while_starting(0.3)
        assert not gc.isenabled()
        deadline = time.monotonic() + 10
        while not gc.isenabled() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gc.isenabled()
    finally:
        gc.enable()


def test_a_collector_switched_off_by_the_caller_stays_off():
    gc.disable()
    try:
        pause_gc_while_starting(0.1)
        time.sleep(0.5)
        assert not gc.isenabled()  # no timer turned it on behind the caller's back
    finally:
        gc.enable()


def _collector_after_importing_tasks(argv0: str) -> str:
    code = f"import sys; sys.argv[:1] = [{argv0!r}]; import gc, tasks; print(gc.isenabled())"
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_only_a_stage_command_pauses_it_not_a_test_importing_a_stage_module():
    # `python -m tasks.X`: argv[0] is "-m" while Python imports the package to find X
    assert _collector_after_importing_tasks("-m") == "False"
    assert _collector_after_importing_tasks("-c") == "True"


KERNEL_LOGGER = "bitsandbytes.backends.cpu.ops"


@pytest.mark.parametrize("entry", ["flow", "shoplm command"])
def test_every_entry_point_keeps_the_optional_kernel_warning_out(entry, monkeypatch, tmp_path):
    """On an AVX512-BF16 CPU bitsandbytes warns on import that an optional kernel needs `pip install kernels`:
    a flow and a `shoplm` command (both import it while they check the params) raise that logger past it.
    (The stages' package does it at import: tasks/__init__.py, which every stage test imports.)"""
    import logging

    logger = logging.getLogger(KERNEL_LOGGER)
    level = logger.level
    logger.setLevel(logging.NOTSET)  # setLevel, not the attribute: it also clears the logger's cache
    try:
        if entry == "flow":
            from flows.quiet import DEFAULTS, quiet_libraries

            monkeypatch.setenv("PREFECT_HOME", str(tmp_path))  # quiet_libraries sets defaults in os.environ
            for key in (*DEFAULTS, "PREFECT_SERVER_MEMO_STORE_PATH"):  # unset, and restored after the test
                monkeypatch.setenv(key, "")
                monkeypatch.delenv(key)
            quiet_libraries()
        else:
            from shoplm.cli import main

            monkeypatch.chdir(tmp_path)
            main(["profile", "list"])
        assert not logger.isEnabledFor(logging.WARNING) and logger.isEnabledFor(logging.ERROR)
    finally:
        logger.setLevel(level)
