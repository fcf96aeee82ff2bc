"""Stage ``ingest`` on a source file with a byte that is not UTF-8: one line naming file, line and field
and exit 2 under ``on_error: raise``; skipped, counted and reported under ``on_error: skip``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
MMLU = ROOT / "data" / "sample" / "mmlu"


def _project(tmp_path: Path, on_error: str) -> Path:
    shutil.copytree(MMLU, tmp_path / "mmlu")
    path = tmp_path / "mmlu" / "data" / "test" / "marketing_test.csv"
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2][:4] + b"\xe9" + lines[2][4:]  # Latin-1 "é" in a UTF-8 file
    path.write_bytes(b"\n".join(lines))
    params = {"ingest": {"progress": False, "sources": {"mmlu": {"path": "mmlu", "on_error": on_error}}}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    return tmp_path


def test_undecodable_byte_stops_the_stage_in_one_line(tmp_path: Path) -> None:
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "tasks.ingest"], cwd=_project(tmp_path, "raise"), env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "marketing_test.csv: line 3: field 'question': not UTF-8: byte 0xe9" in errors[0]


@pytest.mark.slow  # an MLflow run: a SQLite store takes seconds to create
def test_undecodable_byte_is_skipped_and_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from tasks import ingest

    monkeypatch.chdir(_project(tmp_path, "skip"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.delenv("SHOPLM_MLFLOW_PARENT_RUN_ID", raising=False)
    assert ingest.main([]) == 0
    report = json.loads((tmp_path / "data/interim/ingest_report.json").read_text(encoding="utf-8"))
    assert report["mmlu"]["skipped"] == 1
    assert "line 3: field 'question': not UTF-8" in report["mmlu"]["errors"][0]
    assert "skipped 1 malformed row" in capsys.readouterr().err
