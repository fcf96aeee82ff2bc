"""tasks/_runner.py: the user's mistakes are one line and exit 2; a bug keeps its traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shoplm.params.loader import ParamsError
from shoplm.registry import UnknownNameError
from shoplm.shopbench.jsonl import RecordError
from tasks._runner import run

REPO = Path(__file__).resolve().parents[1]


def _main_raising(error: BaseException):
    def main(argv: list[str] | None) -> int:
        raise error

    return main


@pytest.mark.parametrize("error", [
    ParamsError("params.yaml:74: evaluate.backend: unknown inference backend 'vlm'"),
    RecordError("q.jsonl", 3, "metric", "unknown metric 'acc'"),
    UnknownNameError("builder", "esci-rankng", ["esci-ranking"]),
    FileNotFoundError("data/processed/v7/train.jsonl: mixture 'v7' not built"),
])
def test_a_user_error_is_one_line_and_exit_2(error, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(_main_raising(error))
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == f"error: {error}\n"


@pytest.mark.parametrize("error", [KeyError("frames"), ValueError("bad shape"), TypeError("x")])
def test_a_bug_is_not_mistaken_for_a_user_error(error) -> None:
    with pytest.raises(type(error)):
        run(_main_raising(error))


def test_a_keyerror_from_a_bug_shows_its_traceback() -> None:
    script = ("from tasks._runner import run\n"
              "def main(argv):\n"
              "    return {}['adapter_dir']\n"
              "run(main)\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().endswith("KeyError: 'adapter_dir'")
    assert "error: " not in result.stderr.splitlines()[0]


def test_stages_silence_the_optional_kernel_warning_of_bitsandbytes():
    """tasks/__init__.py, the first code of every stage, quiets the logger that warns at bitsandbytes' import."""
    import importlib.util
    import logging

    import tasks

    spec = importlib.util.find_spec("bitsandbytes")  # found, not imported (torch would take seconds)
    if spec is None or spec.origin is None:
        pytest.skip("bitsandbytes is not installed")
    source = (Path(spec.origin).parent / "backends/cpu/ops.py").read_text()
    assert "pip install kernels" in source and "logger = logging.getLogger(__name__)" in source
    assert tasks.__name__ == "tasks"
    assert logging.getLogger("bitsandbytes.backends.cpu.ops").getEffectiveLevel() == logging.ERROR
