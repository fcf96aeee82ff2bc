"""The `ingest` and `build` DVC stage modules, run in a scratch project with a scratch MLflow store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from shoplm.params.loader import ParamsError
from shoplm.registry import UnknownNameError
from shoplm.sources import read_source
from tasks import build, ingest

from .conftest import SAMPLE_QUESTIONS

PARAMS = {
    "ingest": {
        "progress": False,
        "sources": {
            "esci": {"path": None, "on_error": "raise", "limit": None, "options": {}},
            "mmlu": {"path": None, "options": {"splits": ["dev", "test"]}},
            "alpaca": {"path": "raw/alpaca", "on_error": "skip"},
        },
    },
    "build": {
        "decontamination": {"ngram": 8, "threshold": 0.5},
        "mixtures": {
            "v9b": {"seed": 3, "builders": {"esci-relation-mc": 10, "esci-pair-ranking": 5,
                                            "esci-exact-retrieval": 1000}},
        },
    },
}


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One scratch MLflow store for the module (creating a SQLite store takes seconds)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tracking_uri: str) -> Path:
    """A scratch project folder: params.yaml, one evaluation set, an alpaca file with a bad record."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    monkeypatch.delenv("SHOPLM_MLFLOW_PARENT_RUN_ID", raising=False)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(PARAMS), encoding="utf-8")
    (tmp_path / "data" / "decontam").mkdir(parents=True)  # what stage eval_sets writes for build to read
    shutil.copy(SAMPLE_QUESTIONS, tmp_path / "data" / "decontam" / "sample.jsonl")
    sample_alpaca = Path(ingest.sample_path("alpaca")) / "alpaca_data_cleaned.json"
    records = json.loads(sample_alpaca.read_text(encoding="utf-8"))
    records.append({"instruction": 42})  # malformed: skipped and reported, never silent
    (tmp_path / "raw" / "alpaca").mkdir(parents=True)
    (tmp_path / "raw" / "alpaca" / "alpaca_data_cleaned.json").write_text(json.dumps(records), encoding="utf-8")
    return tmp_path


@pytest.mark.slow
def test_ingest_then_build(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ingest.main([]) == 0
    frames = sorted(p.name for p in (project / "data/interim/frames").iterdir())
    assert frames == ["alpaca.parquet", "esci.parquet", "mmlu.parquet"]
    report = json.loads((project / "data/interim/ingest_report.json").read_text())
    esci_train = len(read_source("esci").frame)  # the train split only
    assert report["esci"]["rows"] == esci_train and report["esci"]["skipped"] == 0
    assert report["alpaca"]["skipped"] == 1 and report["alpaca"]["errors"]
    assert report["alpaca"]["path"] == "raw/alpaca"
    captured = capsys.readouterr()
    assert "skipped 1 malformed row" in captured.err and "ingest_report.json" in captured.out

    assert build.main(["v9b"]) == 0
    out = project / "data/processed/v9b"
    assert sorted(p.name for p in out.iterdir()) == ["examples.md", "heldout", "manifest.json", "metrics.json",
                                                     "tasktype.md", "train.jsonl"]
    assert not any((out / "heldout").iterdir()) and "heldout" not in json.loads((out / "manifest.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["mixture"] == "v9b" and manifest["seed"] == 3
    assert manifest["builders"]["esci-relation-mc"]["kept"] == 10
    assert manifest["builders"]["esci-exact-retrieval"]["shortfall"] > 0
    assert manifest["decontamination"]["eval_questions"] == 36
    assert manifest["rows"] == len((out / "train.jsonl").read_text().splitlines())
    assert "train → data/processed/v9b/train.jsonl" in capsys.readouterr().out

    import mlflow

    runs = mlflow.search_runs(search_all_experiments=True, output_format="list", order_by=["start_time ASC"])
    by_name = {run.info.run_name: run for run in runs}  # the latest run of each name
    assert by_name["ingest"].data.metrics["rows/esci"] == esci_train
    assert by_name["ingest"].data.metrics["skipped/alpaca"] == 1
    metrics = by_name["build@v9b"].data.metrics
    assert metrics["rows"] == manifest["rows"]
    assert metrics["builders/esci-relation-mc/kept"] == 10
    assert "decontamination/dropped" in metrics
    assert metrics["tasktype/builders/esci-relation-mc/accuracy"] == 1.0
    assert 0 <= metrics["tasktype/overall/accuracy"] <= 1


@pytest.mark.slow
def test_rebuild_with_identical_inputs_rewrites_identical_outputs(project: Path) -> None:
    """A forced rebuild must not make later stages stale: only metrics.json may hold wall-clock figures."""
    assert ingest.main([]) == 0
    out = project / "data/processed/v9b"
    assert build.main(["v9b"]) == 0
    first = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert build.main(["v9b"]) == 0
    second = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert set(first) == set(second)
    changed = sorted(name for name in first if first[name] != second[name])
    assert set(changed) <= {"metrics.json"}, changed


@pytest.mark.slow
def test_build_without_eval_sets_warns(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from shoplm.builders.frames import save_frames
    from shoplm.sources import read_source

    save_frames({"esci": read_source("esci").frame}, project / "data/interim/frames")
    shutil.rmtree(project / "data" / "decontam")
    assert build.main(["v9b"]) == 0
    assert "decontaminating against nothing" in capsys.readouterr().err


def test_unknown_mixture_and_bad_params_fail_clearly(project: Path) -> None:
    with pytest.raises(UnknownNameError, match="unknown params.yaml build.mixtures entry 'v10'. Known: v9b"):
        build.main(["v10"])
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["ingest"]["sources"]["esci"]["limt"] = 3
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(ParamsError, match="ingest.sources.esci.limt: unknown key"):
        ingest.main([])


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    for module in (ingest, build):
        with pytest.raises(SystemExit) as info:
            module.main(["--help"])
        assert info.value.code == 0
    assert "build@<mixture>" in capsys.readouterr().out
