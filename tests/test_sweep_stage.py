"""Stage sweep: every model its own unit (built once, evaluated, one nested run), then one report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from shoplm.params.loader import ParamsError
from shoplm.shopbench.records import load_questions, write_questions
from tasks import sweep

REPO = Path(__file__).resolve().parents[1]
MC = [q for q in load_questions(REPO / "data/sample/shopbench/questions.jsonl") if q.task_type == "multiple-choice"]


@pytest.fixture
def workdir(tmp_path, monkeypatch, tiny_base_dir):
    """Two models: a folder on disk (the session's tiny model) and a tiny model the stage builds itself."""
    (tmp_path / "data/eval").mkdir(parents=True)
    write_questions(tmp_path / "data/eval/sample.jsonl", MC)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["evaluate"]["backend"] = "transformers"
    params["sweep"]["models"] = {
        "on-disk": {"model": str(tiny_base_dir), "benchmarks": {"MMLU": 25.0}},
        "built": {"model": "tiny", "tiny": {"seed": 3, "pretrain_steps": 0, "corpus": str(REPO / "data/corpus/tiny_corpus.txt")},
                  "benchmarks": {"MMLU": 26.0}},
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


@pytest.mark.slow
def test_each_model_is_built_once_evaluated_and_compared(workdir, capsys):
    import mlflow

    assert sweep.main([]) == 0
    out = workdir / "reports/sweep/sample"
    built = workdir / "models/sweep/built/config.json"
    assert built.is_file() and not (workdir / "models/sweep/on-disk").exists()  # a folder is used in place
    rows = {p.stem: json.loads(p.read_text()) for p in (out / "models").glob("*.json")}
    assert sorted(rows) == ["built", "on-disk"] and all(r["n"] == len(MC) for r in rows.values())
    report = (out / "comparison.md").read_text()
    assert "| model → | on-disk | built |" in report
    assert "| MMLU | 2 | – | – | n=2: not computed (fewer than 3 models)" in report  # two models: no correlation
    parent = mlflow.search_runs(filter_string="tags.`shoplm.stage` = 'sweep@sample'")
    children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent.run_id[0]}'")
    assert sorted(children["tags.shoplm.sweep_model"]) == ["built", "on-disk"]
    assert (out / "comparison.png").stat().st_size > 0

    # One unit again: the built model is reused, the report still holds both models.
    stamp = built.stat().st_mtime_ns
    assert sweep.main(["--only", "built"]) == 0
    assert built.stat().st_mtime_ns == stamp
    report = (out / "comparison.md").read_text()
    assert "| model → | on-disk | built |" in report
    # Both models (the unit that ran now and the one from before) with intervals, paired on the same questions.
    evidence = report.split("changes paired on the same questions:\n")[1].splitlines()
    assert [line.split()[0] for line in evidence[1:3]] == ["on-disk", "built"]
    assert f"{len(MC)} questions; paired bootstrap" in evidence[3]


def test_an_unknown_model_name_fails_naming_the_key(workdir):
    with pytest.raises(ParamsError, match="sweep.models has no 'smoll' \\(defined: on-disk, built\\)"):
        sweep.main(["--only", "smoll"])
