"""A tracking store MLflow cannot open is refused before any stage runs, in one line naming the URI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shoplm import tracking

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("make_uri", [
    lambda tmp: f"sqlite:///{_garbage(tmp)}",  # a file that is not a database
    lambda tmp: "nosuchscheme://somewhere/store",  # a scheme MLflow has no store for
], ids=["garbage-file", "unknown-scheme"])
def test_check_store_names_the_uri_and_the_cause(tmp_path, monkeypatch, make_uri):
    uri = make_uri(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    with pytest.raises(tracking.TrackingStoreError) as caught:
        tracking.check_store(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"MLFLOW_TRACKING_URI {uri!r}: MLflow cannot open this tracking store (")
    assert "\n" not in message


def test_check_store_opens_a_good_store_and_returns_its_experiment(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment_id = tracking.check_store(tmp_path)
    import mlflow

    assert mlflow.get_experiment(experiment_id).name == tracking.DEFAULT_EXPERIMENT


def _garbage(tmp: Path) -> Path:
    path = tmp / "garbage.db"
    path.write_bytes(b"this is not a SQLite database\n" * 200)
    return path


@pytest.mark.slow
def test_the_flow_refuses_a_garbage_store_in_one_line_before_any_stage(tmp_path):
    """The user's replay: `python -m flows.pipeline` with a garbage store. One line, exit 2, nothing ran."""
    uri = f"sqlite:///{_garbage(tmp_path)}"
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "MLFLOW_TRACKING_URI": uri,
           "PREFECT_HOME": str(tmp_path / "prefect"), "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "flows.pipeline", "--stages", "eval_sets"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    output = (proc.stdout + proc.stderr).strip().splitlines()
    assert "Traceback" not in proc.stderr and "stages to run" not in proc.stdout + proc.stderr
    assert output[-1].startswith(f"error: MLFLOW_TRACKING_URI '{uri}': MLflow cannot open this tracking store")
