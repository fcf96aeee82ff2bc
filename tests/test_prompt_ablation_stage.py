"""Stage prompt_ablation: one nested MLflow run per strategy, a comparison table, fast failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shoplm.shopbench.prompting.examples import ExampleSetError
from shoplm.shopbench.records import load_questions, write_questions
from tasks import prompt_ablation
from tests.params_edits import model_free

REPO = Path(__file__).resolve().parents[1]
MC = [q for q in load_questions(REPO / "data/sample/shopbench/questions.jsonl") if q.task_type == "multiple-choice"]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A scratch repo: the first 6 multiple-choice questions as set `sample`, the others as examples."""
    (tmp_path / "data/eval").mkdir(parents=True)
    write_questions(tmp_path / "data/eval/sample.jsonl", MC[:6])
    write_questions(tmp_path / "examples.jsonl", MC[6:])
    params = model_free((REPO / "params.yaml").read_text(), "dummy")
    params = params.replace("examples: data/processed/v7/train.jsonl", "examples: examples.jsonl", 1)
    (tmp_path / "params.yaml").write_text(params)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


@pytest.mark.slow
def test_each_strategy_is_a_nested_run_and_the_table_compares_them(workdir, capsys):
    import mlflow

    assert prompt_ablation.main([]) == 0
    out = workdir / "reports/prompt_ablation/sample"
    rows = json.loads((out / "comparison.json").read_text())
    assert list(rows) == ["plain", "task-type", "k-shot", "cot"]
    assert all(row["n"] == 6 for row in rows.values())
    table = (out / "comparison.md").read_text()
    assert "| strategy → | plain | task-type | k-shot | cot |" in table
    assert "| multiple-choice |" in table and "| **track 5** |" in table
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"plain/track5", "cot/parse_failures", "k-shot/task_types/multiple-choice"} <= set(metrics)
    answers = [json.loads(line) for line in (out / "answers/cot.jsonl").read_text().splitlines()]
    assert len(answers) == 6 and {"raw", "prediction", "parsed", "score"} <= set(answers[0])
    assert (out / "comparison.png").stat().st_size > 0
    # How sure: every strategy's interval and its paired change to the first one, on the same 6 questions.
    evidence = table.split("changes paired on the same questions:\n")[1].splitlines()
    assert [line.split()[0] for line in evidence[1:5]] == ["plain", "task-type", "k-shot", "cot"]
    assert "6 questions; paired bootstrap" in evidence[5]
    assert metrics["evidence/plain/track5"] == rows["plain"]["track5"]
    assert metrics["evidence/cot/change_vs_plain"] == rows["cot"]["track5"] - rows["plain"]["track5"]

    parent = mlflow.search_runs(filter_string="tags.`shoplm.stage` = 'prompt_ablation@sample'")
    children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent.run_id[0]}'")
    assert sorted(children["tags.shoplm.strategy"]) == ["cot", "k-shot", "plain", "task-type"]
    assert (children["tags.shoplm.best"] == "true").sum() == 1
    assert "metrics.track5" in children and "metrics.task_types/multiple-choice" in children
    assert "best Track 5: plain" in capsys.readouterr().out  # the dummy answers alike: the first listed wins ties


def test_k_shot_from_the_evaluated_set_fails_before_any_model_loads(workdir):
    params = workdir / "params.yaml"
    params.write_text(params.read_text().replace("examples: examples.jsonl", "examples: data/eval/sample.jsonl"))
    with pytest.raises(ExampleSetError, match="k_shot.examples: data/eval/sample.jsonl shares 6 of the 6"):
        prompt_ablation.main([])
    assert not (workdir / "reports").exists() and not (workdir / "mlflow.db").exists()
