"""MLflow helpers: where runs are stored, one parent run per pipeline run, one nested run per stage.

A stage (``python -m tasks.<stage>``) always opens its own run. When the Prefect flow runs it, the flow
has exported the id of its parent run in ``SHOPLM_MLFLOW_PARENT_RUN_ID``, so the stage's run is nested
under it; under a plain ``dvc repro`` the variable is absent and the stage's run stands alone.

Default store: a SQLite file and an artifact folder at the repository root (both gitignored).
``MLFLOW_TRACKING_URI`` in the environment points everything at a shared server instead.
"""

from __future__ import annotations

import json
import os
import re
import socket
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shoplm.errors import UserError

PARENT_RUN_ENV = "SHOPLM_MLFLOW_PARENT_RUN_ID"
EXPERIMENT_ENV = "SHOPLM_MLFLOW_EXPERIMENT"
DEFAULT_EXPERIMENT = "shoplm"
# MLflow's own kind of an experiment: model training, not GenAI. Its assistant and API read it; the 3.17
# UI does not choose its page from it (see runs_url), so the links carry the mode as well.
KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = {KIND_TAG: "custom_model_development"}
UI_URL = "http://127.0.0.1:5000"  # `make ui`
UI_MODE = "workflowType=machine_learning"  # the UI's "Model training" mode: runs table, not traces
HOST_TAG, PID_TAG = "shoplm.host", "shoplm.pid"  # who runs a stage: to tell a dead run from a live one
# MLflow rejects metric and param names outside this set (e.g. "hit rate@3").
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_\-. /:]")
# MLflow caps a param value's length; long values (lists of paths) are cut with a marker.
_MAX_PARAM_CHARS = 6000


def repo_root() -> Path:
    """The repository root: the nearest parent holding dvc.yaml or .git, else the working directory."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "dvc.yaml").exists() or (folder / ".git").exists():
            return folder
    return here


def runs_url(base_url: str, experiment_id: str) -> str:
    """The MLflow UI's page of an experiment's runs table.

    MLflow 3.17's UI opens every experiment in its GenAI mode (a traces "Overview") unless the URL or the
    browser's local storage says ``workflowType=machine_learning``; the experiment's own tag does not
    choose the page (shared/docs/environment-notes.md). So every link the project prints carries it.
    """
    return f"{base_url.rstrip('/')}/#/experiments/{experiment_id}?{UI_MODE}"


def tracking_uri(root: Path | None = None) -> str:
    if uri := os.environ.get("MLFLOW_TRACKING_URI"):
        return uri
    return f"sqlite:///{(root or repo_root()) / 'mlflow.db'}"


def configure(root: Path | None = None) -> str:
    """Point MLflow at the project's store and experiment; return the experiment id."""
    import mlflow

    root = root or repo_root()
    uri = tracking_uri(root)
    mlflow.set_tracking_uri(uri)
    name = os.environ.get(EXPERIMENT_ENV, DEFAULT_EXPERIMENT)
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is None:
        # With the default SQLite store, artifacts go next to it; a server picks its own location.
        location = (root / "mlruns").as_uri() if uri.startswith("sqlite:///") else None
        experiment_id = mlflow.create_experiment(name, artifact_location=location, tags=EXPERIMENT_KIND)
    else:
        experiment_id = experiment.experiment_id
        if experiment.tags.get(KIND_TAG) != EXPERIMENT_KIND[KIND_TAG]:  # an experiment made before the tag
            mlflow.MlflowClient().set_experiment_tag(experiment_id, KIND_TAG, EXPERIMENT_KIND[KIND_TAG])
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


class TrackingStoreError(UserError):
    """The MLflow store (``MLFLOW_TRACKING_URI`` or the default SQLite file) cannot be opened."""


_FAIL_FAST = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}


def check_store(root: Path | None = None) -> str:
    """Open the tracking store once, before any stage runs; return the experiment id.

    A bad URI or a file that is not an MLflow database otherwise fails inside the first stage, as
    several hundred lines of SQLAlchemy and alembic tracebacks that never name the URI. MLflow's and
    its database layers' own log lines are held back during the check: the one-line error says it all.
    """
    import logging

    uri = tracking_uri(root)
    loggers = [logging.getLogger(name) for name in ("mlflow", "alembic", "sqlalchemy", "urllib3")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    # A server that does not answer: MLflow's default 7 retries with backoff take minutes; one try decides.
    saved = {key: os.environ.get(key) for key in _FAIL_FAST}
    os.environ.update(_FAIL_FAST)
    try:
        return configure(root)
    except Exception as exc:
        source = "MLFLOW_TRACKING_URI" if os.environ.get("MLFLOW_TRACKING_URI") else "the default store"
        cause = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise TrackingStoreError(f"{source} {uri!r}: MLflow cannot open this tracking store "
                                 f"({type(exc).__name__}: {cause})") from exc
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def metric_name(*parts: str) -> str:
    """Join parts with '/' and replace characters MLflow refuses with '_'."""
    return _UNSAFE_NAME.sub("_", "/".join(parts))


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested params → {"a.b.c": "value"}, every value a string MLflow accepts."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten_params(value, prefix=f"{name}."))
            continue
        text = str(value)
        if len(text) > _MAX_PARAM_CHARS:
            text = text[: _MAX_PARAM_CHARS - 20] + "…[truncated]"
        flat[_UNSAFE_NAME.sub("_", name)] = text
    return flat


def log_step_metrics(metrics: Mapping[str, float], step: int) -> None:
    """One logging step's numbers (a training loop's ``log_fn``) into the active run, names made safe."""
    import mlflow

    mlflow.log_metrics({metric_name(k): float(v) for k, v in metrics.items()}, step=step)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def close_stale_runs(stage: str, experiment_id: str) -> list[str]:
    """Mark this stage's earlier runs KILLED when they are still RUNNING but their process is gone.

    A killed stage (SIGKILL, out of memory, a closed terminal) never ends its MLflow run, which then
    shows RUNNING forever. When the stage starts again, each earlier RUNNING run of the same stage
    that was opened on this host by a process that no longer exists is ended as KILLED. Runs from
    other hosts (a shared tracking server) or without the host/pid tags are left alone: from here
    nothing tells a live one from a dead one, and killing a live run would be worse than leaving a
    dead one open. Returns the ids of the runs it ended.
    """
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    runs = client.search_runs([experiment_id], filter_string=f"tags.`shoplm.stage` = '{stage}' "
                              "and attributes.status = 'RUNNING'")
    ended = []
    for run in runs:
        tags = run.data.tags
        pid = tags.get(PID_TAG, "")
        if tags.get(HOST_TAG) == socket.gethostname() and pid.isdigit() and not process_alive(int(pid)):
            client.set_terminated(run.info.run_id, status="KILLED")
            ended.append(run.info.run_id)
    return ended


@contextmanager
def stage_run(stage: str, params: Mapping[str, Any], tags: Mapping[str, str] | None = None) -> Iterator[Any]:
    """Open the MLflow run of one stage: nested under the flow's parent run when there is one.

    Earlier runs of the stage left RUNNING by a killed process are ended as KILLED first
    (:func:`close_stale_runs`); the new run records its host and process id for the next one.
    """
    import mlflow

    experiment_id = configure()
    close_stale_runs(stage, experiment_id)
    parent = os.environ.get(PARENT_RUN_ENV) or None
    run_tags = {"shoplm.stage": stage, HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid()), **(tags or {})}
    if dvc_stage := os.environ.get("DVC_STAGE"):  # set by DVC for every stage command it runs
        run_tags["dvc.stage"] = dvc_stage
    with mlflow.start_run(run_name=stage, parent_run_id=parent, nested=mlflow.active_run() is not None,
                          tags=run_tags) as run:
        if params:
            mlflow.log_params(flatten_params(params))
        yield run


@contextmanager
def in_experiment(name: str) -> Iterator[None]:
    """Runs opened inside the block (and by stage subprocesses started in it) go to experiment ``name``;
    the process's setting is given back afterwards, so one flow's experiment never leaks into the next."""
    previous = os.environ.get(EXPERIMENT_ENV)
    os.environ[EXPERIMENT_ENV] = name
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(EXPERIMENT_ENV, None)
        else:
            os.environ[EXPERIMENT_ENV] = previous


@contextmanager
def parent_run(name: str, tags: Mapping[str, str] | None = None) -> Iterator[Any]:
    """The flow's parent run; exports its id so stage subprocesses nest under it."""
    import mlflow

    configure()
    previous = os.environ.get(PARENT_RUN_ENV)
    with mlflow.start_run(run_name=name, tags={"shoplm.kind": "pipeline", **(tags or {})}) as run:
        os.environ[PARENT_RUN_ENV] = run.info.run_id
        try:
            yield run
        finally:
            if previous is None:
                os.environ.pop(PARENT_RUN_ENV, None)
            else:
                os.environ[PARENT_RUN_ENV] = previous


def report_metrics(report: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Every leaderboard number of a score report (``ScoreReport.to_dict()``) as flat MLflow metrics."""
    pre = (prefix,) if prefix else ()
    metrics: dict[str, float] = {}
    for task, row in report.get("tasks", {}).items():
        metrics[metric_name(*pre, "tasks", task, "score")] = float(row["score"])
        metrics[metric_name(*pre, "tasks", task, "parse_failures")] = float(row["parse_failures"])
    for task_type, score in report.get("task_types", {}).items():
        metrics[metric_name(*pre, "task_types", task_type)] = float(score)
    for track, score in report.get("tracks", {}).items():
        metrics[metric_name(*pre, "tracks", track)] = float(score)
    for key in ("track5", "mean_over_tasks", "parse_failures", "n"):
        if report.get(key) is not None:
            metrics[metric_name(*pre, key)] = float(report[key])
    return metrics


def log_question_set(name: str, path: Path, questions: Sequence[Any], context: str = "evaluation") -> None:
    """Log the questions a score is on as an MLflow dataset input of the active run.

    The runs table's Dataset column and the comparison view then say which questions (name, content
    digest, source file, row count) each score is on, so two scores on different sets are never read
    side by side by mistake.
    """
    import mlflow
    import pandas as pd

    rows = [q.model_dump(mode="json") if hasattr(q, "model_dump") else dict(q) for q in questions]
    frame = pd.DataFrame({key: [json.dumps(row.get(key), ensure_ascii=False) for row in rows]
                          for key in (rows[0] if rows else {})})  # JSON text: nested fields hash and show alike
    with warnings.catch_warnings():  # a local path reads as two equal source kinds; MLflow picks the same one
        warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
        dataset = mlflow.data.from_pandas(frame, source=str(path), name=name)
    mlflow.log_input(dataset, context=context)


def track_bar_chart(report: Mapping[str, Any], path: Path, title: str) -> Path:
    """A PNG bar chart of the per-track scores and Track 5, for the run's artifacts."""
    import matplotlib

    matplotlib.use("Agg")  # no display on CI or servers
    import matplotlib.pyplot as plt

    tracks = dict(report.get("tracks", {}))
    labels = [t.removeprefix("amazon-kdd-cup-24-") for t in tracks] + ["track 5"]
    values = list(tracks.values()) + [report.get("track5") or 0.0]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    bars = ax.bar(labels, values, color=["#4C72B0"] * len(tracks) + ["#DD8452"])
    ax.bar_label(bars, fmt="%.3f")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=15, labelsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
