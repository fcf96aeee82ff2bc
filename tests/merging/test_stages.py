"""Stages ``merge``, ``search`` and ``quantize`` end to end in a throwaway working directory: models/base
linked to the session's tiny model, two random adapters, the sample questions, MLflow in SQLite."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

SAMPLE_QUESTIONS = Path("data/sample/shopbench/questions.jsonl").resolve()
GRID = {"method": "weighted", "adapters": {"v7": [0.5, 1.0], "v8": [0.0, 1.0]}, "alpha": [0.0, 0.5, 1.0]}


def write_params(root: Path, grid: dict) -> None:
    params = {
        "evaluate": {"generation": {"batch_size": 16}},
        "merge": {"specs": {"ensemble": {"method": "weighted", "adapters": {"v7": 0.56, "v8": 0.75}, "alpha": 1.0},
                            "ties": {"method": "ties", "adapters": {"v7": 1.0, "v8": 1.0}, "density": 0.5}}},
        "search": {"validation_set": "sample", "test_fraction": 0.5, "grids": {"ensemble": grid}},
        "quantize": {"model": "ensemble", "method": "rtn", "group_size": 64, "tensor_parallel_size": 3,
                     "calibration": {"samples": 4, "max_seq_len": 128}, "eval_set": "sample", "eval_limit": 8,
                     "compare": ["gptq"]},
    }
    (root / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def project(tmp_path_factory, tiny_base_dir, tiny_adapters):
    root = tmp_path_factory.mktemp("merge_stages")
    (root / "models" / "adapters").mkdir(parents=True)
    (root / "models" / "base").symlink_to(tiny_base_dir, target_is_directory=True)
    for name, folder in tiny_adapters.items():
        (root / "models" / "adapters" / name).symlink_to(folder, target_is_directory=True)
    (root / "data" / "eval").mkdir(parents=True)
    shutil.copy(SAMPLE_QUESTIONS, root / "data" / "eval" / "sample.jsonl")
    write_params(root, GRID)
    return SimpleNamespace(root=root, uri=f"sqlite:///{root / 'mlflow.db'}")


@pytest.fixture
def inside(project, monkeypatch):
    monkeypatch.chdir(project.root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", project.uri)
    monkeypatch.delenv("SHOPLM_MLFLOW_PARENT_RUN_ID", raising=False)
    return project


def runs_of(uri: str, stage: str):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("shoplm")
    return client, [r for r in client.search_runs(experiment.experiment_id)
                    if r.data.tags.get("shoplm.stage") == stage]


@pytest.mark.slow
def test_merge_stage_writes_each_spec_and_logs_it(inside, capsys):
    import tasks.merge

    for name in ("ensemble", "ties"):
        assert tasks.merge.main([name]) == 0
        assert (inside.root / "models" / "merged" / name / "model.safetensors").is_file()
    record = json.loads((inside.root / "models/merged/ties/merge_spec.json").read_text())
    assert record["spec"]["method"] == "ties" and record["spec"]["density"] == 0.5
    _, runs = runs_of(inside.uri, "merge@ensemble")
    assert runs[0].data.metrics["merge_seconds"] > 0 and runs[0].data.metrics["merged_mb"] > 1
    assert runs[0].data.params["adapters.v7"] == "0.56"


def test_merge_stage_names_an_undefined_spec(inside):
    import tasks.merge
    from shoplm.params.loader import ParamsError

    with pytest.raises(ParamsError, match=r"merge.specs: no spec 'ensembel' \(defined: ensemble, ties\)"):
        tasks.merge.main(["ensembel"])


@pytest.mark.slow
def test_search_stage_chooses_tests_once_and_reuses_its_cache(inside, capsys):
    import tasks.search
    from shoplm.params.merging import MergeSpec

    assert tasks.search.main(["ensemble", "--no-progress"]) == 0
    out = inside.root / "reports" / "search" / "ensemble"
    chosen = json.loads((out / "chosen.json").read_text())
    candidates = [json.loads(line) for line in (out / "candidates.jsonl").read_text().splitlines()]
    assert len(candidates) == 12 and chosen["evaluated"] == 9  # the four α=0 specs share the base's score
    # The default rule, one_se_paired: the best score, and each candidate's paired standard error against it;
    # the chosen candidate is the smallest change from the base scoring below the best by at most that SE.
    selection = chosen["selection"]
    best = selection["best"]["score"]
    assert selection["rule"] == "one_se_paired" and best == max(c["score"] for c in candidates)
    ses = selection["paired_standard_errors"]
    eligible = [c for c in candidates if c["eligible"]]
    assert eligible == [c for c in candidates if best - c["score"] <= ses[c["label"]] + 1e-12]
    assert len(eligible) == len(selection["eligible"]) and chosen["label"] in selection["eligible"]
    assert selection["chosen"]["change_from_base"] == min(
        MergeSpec(**c["spec"]).change_from_base() for c in eligible)
    # Whether the winner is told apart from the base and from each adapter alone, on the validation questions.
    assert set(chosen["evidence"]) == {"zero-shot", "v7", "v8"}
    assert chosen["validation_minimum_detectable_difference"] > 0
    for row in chosen["evidence"].values():
        assert row["low"] <= row["difference"] <= row["high"]
        assert row["told_apart"] == (row["low"] > 0 or row["high"] < 0)
    assert chosen["n_validation"] + chosen["n_test"] == 36 and "test_score" in chosen
    assert (out / "alpha_curve.png").stat().st_size > 1000
    assert (inside.root / "models/merged/search-ensemble/model.safetensors").is_file()
    client, parents = runs_of(inside.uri, "search@ensemble")
    children = client.search_runs([parents[0].info.experiment_id],
                                  filter_string=f"tags.mlflow.parentRunId = '{parents[0].info.run_id}'")
    assert len(children) == 12 and sum(c.data.tags.get("shoplm.chosen") == "true" for c in children) == 1
    assert "test/track5" in parents[0].data.metrics

    # On the held-out questions, side by side: the base, each adapter alone, and the chosen merge.
    from shoplm.params.merging import SearchSection
    from shoplm.shopbench.records import load_questions
    from tasks.search import validation_and_test

    section = SearchSection(**yaml.safe_load((inside.root / "params.yaml").read_text())["search"])
    held_out = validation_and_test(section)[1]
    assert load_questions(out / "test_questions.jsonl") == held_out
    table = json.loads((out / "test_side_by_side.json").read_text())
    assert list(table) == ["zero-shot", "v7", "v8", "merged"]
    assert {row["n"] for row in table.values()} == {chosen["n_test"]} == {len(held_out)}
    assert table["merged"]["track5"] == chosen["test_score"]
    assert table["merged"]["parse_failures"] == chosen["test_parse_failures"]
    assert len({json.dumps(row, sort_keys=True) for row in table.values()}) > 1  # the models really differ
    for model, row in table.items():
        assert parents[0].data.metrics[f"test/{model}/track5"] == row["track5"]
        assert parents[0].data.metrics[f"test/{model}/parse_failures"] == row["parse_failures"]
    print("\n" + capsys.readouterr().out)

    write_params(inside.root, {**GRID, "alpha": [0.0, 0.5, 0.75, 1.0]})  # one more α: 4 new specs
    assert tasks.search.main(["ensemble", "--no-progress"]) == 0
    again = json.loads((out / "chosen.json").read_text())
    assert again["candidates"] == 16 and again["evaluated"] == 4 and again["from_cache"] == 12
    write_params(inside.root, GRID)


@pytest.mark.slow
def test_quantize_stage_scores_before_and_after_each_scheme(inside, capsys):
    import tasks.merge
    import tasks.quantize

    if not (inside.root / "models/merged/ensemble").is_dir():
        assert tasks.merge.main(["ensemble"]) == 0
    assert tasks.quantize.main([]) == 0
    metrics = json.loads((inside.root / "reports/quantize/ensemble/metrics.json").read_text())
    for method in ("rtn", "gptq"):
        assert metrics[f"{method}/padding/relative_logit_diff"] < 1e-5  # float32 rounding (tests/quantization)
        assert metrics[f"{method}/output_mb"] < metrics[f"{method}/source_mb"]
        assert f"{method}/after/track5" in metrics and f"{method}/after/parse_failures" in metrics
    assert (inside.root / "models/quantized/ensemble/config.json").is_file()
    _, runs = runs_of(inside.uri, "quantize")
    assert runs[0].data.metrics["before/track5"] == metrics["before/track5"]
    print("\n" + capsys.readouterr().out)


def test_quantize_on_a_search_it_has_not_seen_says_what_to_run(inside):
    import tasks.quantize
    from shoplm.params.quantization import QuantizeSection

    with pytest.raises(FileNotFoundError, match=r"reports/search/other/test_questions.jsonl.*dvc repro search@other"):
        tasks.quantize.eval_questions_path(QuantizeSection(eval_set="search:other"))


@pytest.mark.slow
def test_quantize_on_search_questions_starts_from_the_searched_merge_test_score(inside, monkeypatch):
    import tasks.quantize
    import tasks.search

    out = inside.root / "reports/search/ensemble"
    if not (out / "test_side_by_side.json").is_file():
        assert tasks.search.main(["ensemble", "--no-progress"]) == 0
    params = yaml.safe_load((inside.root / "params.yaml").read_text())
    params["quantize"].update({"model": "search-ensemble", "eval_set": "search:ensemble", "eval_limit": None,
                               "compare": []})
    (inside.root / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    metrics_file = inside.root / "reports/quantize/search-ensemble/metrics.json"
    decoded_folders = []
    score_folder = tasks.quantize.score_folder

    def counting(model_dir, *args, **kwargs):
        decoded_folders.append(Path(model_dir).resolve())
        return score_folder(model_dir, *args, **kwargs)

    monkeypatch.setattr(tasks.quantize, "score_folder", counting)
    try:
        assert tasks.quantize.main(["--decode-before"]) == 0
        decoded = json.loads(metrics_file.read_text())
        assert tasks.quantize.main([]) == 0
        reused = json.loads(metrics_file.read_text())
    finally:
        write_params(inside.root, GRID)
    merged = json.loads((out / "test_side_by_side.json").read_text())["merged"]
    # The same held-out questions, the same model: decoded again from the saved merge, quantize's "before"
    # is the search's test score, so by default it is read from the search instead of decoded a second time.
    assert decoded["before/n"] == merged["n"]
    assert decoded["before/track5"] == pytest.approx(merged["track5"], abs=1e-9)
    assert decoded["before/parse_failures"] == merged["parse_failures"]
    assert "before/from_search" not in decoded and reused["before/from_search"] == 1.0
    assert decoded_folders.count((inside.root / "models/merged/search-ensemble").resolve()) == 1  # 1st run only
    for key in ("before/track5", "before/mean_over_tasks", "before/n", "rtn/after/track5", "rtn/track5_cost",
                "rtn/track5_cost_low", "rtn/track5_cost_high"):
        assert reused[key] == pytest.approx(decoded[key], abs=1e-9), key
    assert "rtn/after/track5" in reused and any(k.startswith("rtn/after/tracks/") for k in reused)
