"""Stage package@<track>: writes the package, checks it against the evaluate stage's report, and fails
naming the first question whose answer differs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shoplm.registry import UnknownNameError
from tasks import evaluate, package
from tests.params_edits import model_free
from tests.submission.conftest import REPO, cheap_question_lines

FINAL_MODEL = "track5: {model: models/quantized/search-ensemble, eval_set: sample}"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project folder whose evaluate backend is echo (no model) and whose track5 package ships models/base."""
    text = model_free((REPO / "params.yaml").read_text(), "echo")
    assert FINAL_MODEL in text
    (tmp_path / "params.yaml").write_text(text.replace(FINAL_MODEL, "track5: {model: models/base, eval_set: sample}"))
    (tmp_path / "data/eval").mkdir(parents=True)
    (tmp_path / "data/eval/sample.jsonl").write_text("\n".join(cheap_question_lines()) + "\n")
    (tmp_path / "models/base").mkdir(parents=True)
    (tmp_path / "models/base/config.json").write_text("{}")  # the echo backend never loads it
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


@pytest.fixture
def evaluated(project) -> Path:
    """The project after the evaluate stage scored its base model on the sample set."""
    assert evaluate.main(["sample", "--params", "params.yaml"]) == 0
    return project


@pytest.mark.slow
def test_the_stage_writes_a_package_that_reproduces_the_evaluate_report(evaluated, capsys):
    project = evaluated
    assert package.main(["track5", "--params", "params.yaml"]) == 0
    out = project / "dist/submission-track5"
    assert json.loads((out / "aicrowd.json").read_text())["challenge_id"] == "amazon-kdd-cup-24-all-around"
    readme = (out / "README.md").read_text()
    assert "identical, one by one, to the evaluate stage's" in readme and "track5-all-around" in readme
    metrics = json.loads((project / "reports/package/track5/metrics.json").read_text())
    assert metrics["differing_from_evaluate"] == 0 and metrics["failures"] == 0
    assert metrics["track5"] == metrics["evaluate_track5"]
    assert (project / "reports/package/track5/evaluate_predictions.jsonl").read_text() == \
        (project / "reports/sample/zero-shot/predictions.jsonl").read_text()
    assert "OK: " in capsys.readouterr().out


@pytest.mark.slow
def test_an_answer_that_differs_from_the_report_fails_the_stage(evaluated, capsys):
    project = evaluated
    report = project / "reports/sample/zero-shot/predictions.jsonl"
    lines = report.read_text().splitlines()
    lines[1] = json.dumps({"prediction": "something else"})
    report.write_text("\n".join(lines) + "\n")
    assert package.main(["track5", "--params", "params.yaml"]) == 1
    out = capsys.readouterr().out
    assert "1 answer(s) differ from the evaluate stage's; the first, question 2 " in out


def test_an_unknown_track_is_refused_with_the_known_ones(project):
    with pytest.raises(UnknownNameError, match="unknown package.tracks entry 'track9'. Did you mean 'track5'"):
        package.main(["track9", "--params", "params.yaml"])
