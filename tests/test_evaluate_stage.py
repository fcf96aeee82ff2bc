"""tasks.evaluate refuses an unknown backend before loading anything, naming the params key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shoplm.params.loader import ParamsError
from shoplm.inference.backends import ConstraintsRefused
from tasks import evaluate
from tests.params_edits import model_free

REPO = Path(__file__).resolve().parents[1]


def test_unknown_backend_fails_naming_the_key(tmp_path, monkeypatch):
    params = tmp_path / "params.yaml"
    params.write_text((REPO / "params.yaml").read_text().replace("  backend: transformers", "  backend: vlm", 1))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParamsError, match=r"params.yaml:\d+: evaluate.backend: unknown inference backend 'vlm'. Did you mean 'vllm'\? "
                       r"Known: .*transformers"):
        evaluate.main(["sample", "--params", str(params)])
    assert not (tmp_path / "reports").exists()


REPORT_FILES = ("predictions.jsonl", "samples.jsonl", "metrics.json", "score.txt", "tracks.png")


def _multiple_choice_set(folder: Path, name: str) -> None:
    """The sample set's multiple-choice questions (scored without any metric model)."""
    lines = [line for line in (REPO / "data/sample/shopbench/questions.jsonl").read_text().splitlines()
             if '"is_multiple_choice":true' in line]
    (folder / "data/eval").mkdir(parents=True)
    (folder / "data/eval" / f"{name}.jsonl").write_text("\n".join(lines) + "\n")


@pytest.mark.slow
def test_a_failed_evaluation_keeps_the_last_good_report_whole(tmp_path, monkeypatch):
    params = tmp_path / "params.yaml"
    params.write_text(model_free((REPO / "params.yaml").read_text(), "dummy"))
    _multiple_choice_set(tmp_path, "mc")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert evaluate.main(["mc", "--params", str(params)]) == 0
    out = tmp_path / "reports/mc/zero-shot"
    good = {name: (out / name).read_bytes() for name in REPORT_FILES}

    # The next run scores differently, then fails late (drawing the chart): nothing of it may replace the report.
    params.write_text(params.read_text().replace("  backend: dummy", "  backend: echo", 1))

    def broken_chart(*args, **kwargs):
        raise RuntimeError("chart failed")

    monkeypatch.setattr(evaluate.tracking, "track_bar_chart", broken_chart)
    with pytest.raises(RuntimeError, match="chart failed"):
        evaluate.main(["mc", "--params", str(params)])
    assert {name: (out / name).read_bytes() for name in REPORT_FILES} == good
    assert sorted(p.name for p in out.parent.iterdir()) == ["zero-shot"]  # no scratch folder left behind


@pytest.mark.slow
def test_a_model_free_backend_refuses_constraints_naming_them(tmp_path, monkeypatch):
    params = tmp_path / "params.yaml"
    params.write_text((REPO / "params.yaml").read_text())  # constraints on, as in every profile
    _multiple_choice_set(tmp_path, "mc")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    with pytest.raises(ConstraintsRefused, match=r"backend dummy cannot honour evaluate.constraints: structured "
                       r"\[multiple-choice, ranking, retrieval\]; suppress_none \[.*\]; prompt_boost \[.*\]"):
        evaluate.main(["mc", "--backend", "dummy", "--params", str(params)])
    assert not (tmp_path / "reports/mc/zero-shot/predictions.jsonl").exists()


@pytest.mark.slow
def test_a_model_folder_is_evaluated_into_its_own_report_under_the_budget(tmp_path, monkeypatch):
    params = tmp_path / "params.yaml"
    params.write_text(model_free((REPO / "params.yaml").read_text(), "echo"))
    _multiple_choice_set(tmp_path, "mc")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    # the stage evaluate_final's command line, with a model-free backend
    assert evaluate.main(["mc", "--model", "quantized/search-ensemble", "--backend", "echo",
                          "--params", str(params)]) == 0
    out = tmp_path / "reports/mc/quantized-search-ensemble"
    assert all((out / name).is_file() for name in REPORT_FILES)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["budget/cut_questions"] == 0 and metrics["budget/limit_s"] > 0
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert samples and not any(row["budget_cut"] for row in samples)
    with pytest.raises(SystemExit):  # --adapter and --model exclude each other
        evaluate.main(["mc", "--model", "quantized/x", "--adapter", "v7", "--params", str(params)])
