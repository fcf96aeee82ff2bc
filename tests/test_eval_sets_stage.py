"""Stage ``eval_sets``: an evaluation set with no questions fails there, in one line, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("content", ["", "\n", "\n\n"])
def test_an_empty_evaluation_set_fails_early(tmp_path: Path, content: str) -> None:
    (tmp_path / "empty.jsonl").write_text(content, encoding="utf-8")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"eval_sets": {"dev": "empty.jsonl"}}), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "tasks.eval_sets", "dev"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env=os.environ | {"PYTHONPATH": str(ROOT)})
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "error: empty.jsonl: no questions; an evaluation set needs at least one"
    assert not (tmp_path / "data" / "eval" / "dev.jsonl").exists()
