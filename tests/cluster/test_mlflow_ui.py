"""The MLflow UI as a user opens it, in a real browser (headless Chromium): the link the project prints
lands on the runs table of experiment ``shoplm`` with the stage runs nested under the pipeline run, and
the evaluation set shows as each score's dataset. A screenshot per page is kept beside the test's files.

Chromium comes from Debian's packages (`apt-get install -y chromium`; `.ci/run` installs it); without it
the test is skipped, saying so.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from shoplm import tracking
from shoplm.shopbench.records import load_questions
from tests.cluster.conftest import MlflowServer

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data/sample/shopbench/questions.jsonl"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _visible_text(dom: str) -> list[str]:
    """The page's text nodes in order (markup, styles and scripts removed): what a user reads."""
    dom = re.sub(r"<(style|script)\b.*?</\1>", "", dom, flags=re.S)
    return [text for text in (html.unescape(part).strip() for part in re.split(r"<[^>]+>", dom)) if text]


def _browse(url: str, screenshot: Path) -> str:
    """The page's DOM once the single-page app has rendered, and a screenshot of it."""
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1600,1000",
             "--virtual-time-budget=20000"]
    subprocess.run([CHROMIUM, *flags, f"--screenshot={screenshot}", url], capture_output=True, timeout=180,
                   check=True)
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=180,
                         check=True).stdout
    screenshot.with_suffix(".html").write_text(dom)  # beside the screenshot, for a failure's post-mortem
    return dom


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium: apt-get install -y chromium")
def test_the_printed_link_opens_the_runs_table_with_the_datasets(mlflow_server: MlflowServer, monkeypatch,
                                                                    tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    # The server is shared by the session's tests: an experiment of our own, so the table shows our runs only.
    monkeypatch.setenv(tracking.EXPERIMENT_ENV, "mlflow-ui")
    monkeypatch.delenv(tracking.PARENT_RUN_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    questions = load_questions(SAMPLE)
    experiment_id = tracking.check_store()
    # What a flow run leaves (flows/pipeline.py, tasks/evaluate.py): a parent run and a nested stage run,
    # each with the evaluation set as a dataset input.
    with tracking.parent_run("pipeline") as parent:
        with tracking.stage_run("evaluate@sample-zero-shot", {"set": "sample"}) as stage:
            import mlflow

            tracking.log_question_set("sample", SAMPLE, questions)
            mlflow.log_metric("track5", 0.25)
        tracking.log_question_set("sample", SAMPLE, questions)

    runs = _visible_text(_browse(tracking.runs_url(mlflow_server.url, experiment_id), tmp_path / "runs.png"))
    assert {"Run Name", "Dataset", "pipeline", "matching runs"} <= set(runs)  # the runs table, our parent run
    assert runs[runs.index("matching runs") - 1] == "2"  # the parent and its stage run, nested in it
    assert any(text.startswith("sample (") for text in runs)  # the Dataset column: the set's name and digest
    run_page = _visible_text(_browse(f"{mlflow_server.url}/#/experiments/{experiment_id}/runs/"
                                     f"{stage.info.run_id}?{tracking.UI_MODE}", tmp_path / "stage-run.png"))
    assert "evaluate@sample-zero-shot" in run_page and any(text.startswith("sample (") for text in run_page)
    # The control: the experiment's page without the mode opens MLflow's GenAI overview, not the runs table.
    plain = _visible_text(_browse(f"{mlflow_server.url}/#/experiments/{experiment_id}", tmp_path / "plain.png"))
    assert "matching runs" not in plain and "Run Name" not in plain
    print(f"\nscreenshots: {sorted(str(p) for p in tmp_path.glob('*.png'))}")
