"""shoplm/startup.py: a stage command starts with the cyclic collector paused, and gets it back."""

from __future__ import annotations

import gc
import subprocess
import sys
import time
from pathlib import Path


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


def test_importing_the_project_keeps_the_optional_kernel_warning_out():
    """On an AVX512-BF16 CPU bitsandbytes warns on import that an optional kernel needs `pip install kernels`;
    a stage, a flow and a `shoplm` command all import it after shoplm (shoplm/__init__.py)."""
    code = ("import logging, shoplm; logger = logging.getLogger('bitsandbytes.backends.cpu.ops'); "
            "print(logger.isEnabledFor(logging.WARNING), logger.isEnabledFor(logging.ERROR))")
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                          check=True).stdout.split() == ["False", "True"]
