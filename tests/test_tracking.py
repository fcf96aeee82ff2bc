"""MLflow stage runs: a killed stage's run, left RUNNING, is ended as KILLED when the stage starts again."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from shoplm import tracking


@pytest.fixture
def store(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv(tracking.PARENT_RUN_ENV, raising=False)
    monkeypatch.delenv("DVC_STAGE", raising=False)
    monkeypatch.chdir(tmp_path)
    return uri


KILLED_STAGE = """
import os
from shoplm import tracking
with tracking.stage_run("train@v7", {"lr": 1}):
    os._exit(9)  # dies like a SIGKILLed stage: the run is never ended
"""


@pytest.mark.slow
def test_a_killed_stage_run_is_marked_killed_when_the_stage_runs_again(store):
    from mlflow.tracking import MlflowClient

    subprocess.run([sys.executable, "-c", KILLED_STAGE], check=False)
    client = MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("shoplm").experiment_id
    [dead] = client.search_runs([experiment])
    assert dead.info.status == "RUNNING" and dead.data.tags[tracking.HOST_TAG] == socket.gethostname()

    # runs a restart must not touch: another stage, a live process, another host
    tags = {"shoplm.stage": "train@v8", tracking.HOST_TAG: socket.gethostname(),
            tracking.PID_TAG: dead.data.tags[tracking.PID_TAG]}
    other_stage = client.create_run(experiment, tags=tags).info.run_id
    live = client.create_run(experiment, tags={**tags, "shoplm.stage": "train@v7",
                                               tracking.PID_TAG: str(os.getpid())}).info.run_id
    elsewhere = client.create_run(experiment, tags={**tags, "shoplm.stage": "train@v7",
                                                    tracking.HOST_TAG: "another-host"}).info.run_id

    with tracking.stage_run("train@v7", {"lr": 1}) as run:
        new = run.info.run_id
    status = {r.info.run_id: r.info.status for r in client.search_runs([experiment])}
    assert status[dead.info.run_id] == "KILLED"
    assert status[new] == "FINISHED"
    assert status[other_stage] == status[live] == status[elsewhere] == "RUNNING"


def test_a_flow_experiment_does_not_leak_into_later_runs(monkeypatch):
    from shoplm import tracking

    monkeypatch.delenv(tracking.EXPERIMENT_ENV, raising=False)
    with tracking.in_experiment("shoplm-arena"):
        assert os.environ[tracking.EXPERIMENT_ENV] == "shoplm-arena"
    assert tracking.EXPERIMENT_ENV not in os.environ  # the ShopBench stages that follow log to "shoplm"
    monkeypatch.setenv(tracking.EXPERIMENT_ENV, "mine")
    with tracking.in_experiment("shoplm-arena"):
        pass
    assert os.environ[tracking.EXPERIMENT_ENV] == "mine"
