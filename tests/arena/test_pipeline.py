"""The tiny arena pipeline end to end: the stage modules in order, in a scratch folder, on a tiny model."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from arena.data import LABEL_COLUMNS, read_arena_csv
from arena.outputs import SUBMISSION_COLUMNS, write_submission


def test_submission_has_the_competition_columns_and_one_row_per_test_id(tmp_path):
    test = pd.DataFrame({"id": [7, 3, 11]})
    path = write_submission(tmp_path / "submission.csv", test, [[0.5, 0.3, 0.2]] * 3)
    written = pd.read_csv(path)
    assert tuple(written.columns) == SUBMISSION_COLUMNS == ("id", *LABEL_COLUMNS)
    assert written["id"].tolist() == [7, 3, 11]
    with pytest.raises(ValueError, match="2 predictions for 3 test rows"):
        write_submission(tmp_path / "s.csv", test, [[0.5, 0.3, 0.2]] * 2)


def _params(tmp_path, train, test, backbone) -> dict:
    classifier = {"backbone": str(backbone), "max_length": 64, "batch_size": 8, "learning_rate": 0.002}
    return {
        "data": {"train": str(train), "test": str(test), "folds": 3, "valid_fold": 0, "seed": 0},
        "baselines": {"models": {"prior": {}, "bucket": {"quantiles": 10}, "gbdt": {"max_iter": 20}}},
        "classifiers": {"models": {"one": classifier, "two": {**classifier, "seed": 1}}},
        "ensemble": {"members": "all", "calibrations": ["temperature", "threshold"],
                     "calibration_folds": 2, "clip_eps": 0.001, "bootstrap_resamples": 200},
    }


@pytest.mark.slow
def test_tiny_pipeline_runs_end_to_end(tmp_path, monkeypatch, tiny_base_dir, arena_csv, capsys):
    import mlflow

    from tasks import arena_baselines, arena_classifier, arena_ensemble

    rows = arena_csv.length_battles(12)
    train = arena_csv.write(tmp_path / "train.csv", rows)
    test_rows = [{k: r[k] for k in ("id", "prompt", "response_a", "response_b")} for r in rows[:8]]
    test = arena_csv.write(tmp_path / "test.csv", test_rows, columns=list(test_rows[0]))
    work = tmp_path / "work"
    work.mkdir()
    params = work / "arena.yaml"
    params.write_text(yaml.safe_dump(_params(tmp_path, train, test, tiny_base_dir)))
    monkeypatch.chdir(work)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{work / 'mlflow.db'}")
    monkeypatch.delenv("SHOPLM_MLFLOW_PARENT_RUN_ID", raising=False)
    monkeypatch.delenv("SHOPLM_MLFLOW_EXPERIMENT", raising=False)

    assert arena_baselines.main(["--params", str(params)]) == 0
    for name in ("one", "two"):
        assert arena_classifier.main([name, "--params", str(params)]) == 0
    assert arena_ensemble.main(["--params", str(params)]) == 0

    submission = pd.read_csv(work / "reports/arena/submission.csv")
    assert tuple(submission.columns) == SUBMISSION_COLUMNS
    assert sorted(submission["id"]) == sorted(read_arena_csv(test, "test")["id"].astype(int))
    probs = submission[list(LABEL_COLUMNS)].to_numpy()
    assert (probs > 0).all() and (probs < 1).all()
    summary = json.loads((work / "reports/arena/metrics.json").read_text())
    expected = {"prior", "bucket", "gbdt", "one", "one+tta", "two", "two+tta", "ensemble", "submission"}
    assert set(summary) == expected
    assert (work / "reports/arena/ensemble/reliability.png").stat().st_size > 1000
    mlflow.set_tracking_uri(f"sqlite:///{work / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["shoplm-arena"])
    assert {f"arena/{n}" for n in expected} == set(runs["tags.mlflow.runName"])
    assert runs["metrics.valid_log_loss"].notna().all() and runs["metrics.valid_accuracy"].notna().all()
    assert (work / "reports/arena/report.md").read_text() in capsys.readouterr().out
    weights = json.loads((work / "reports/arena/ensemble/metrics.json").read_text())["weights"]
    assert set(weights) == {"prior", "bucket", "gbdt", "one+tta", "two+tta"}
