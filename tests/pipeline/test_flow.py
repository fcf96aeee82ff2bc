"""The tiny DAG under Prefect, DVC caching, and the MLflow records it leaves (queried back)."""

from __future__ import annotations

import json

import pytest
import yaml

from shoplm import tracking
from tests.pipeline.conftest import dvc

pytestmark = pytest.mark.slow


def _client(run):
    import mlflow

    mlflow.set_tracking_uri(run.tracking_uri)
    return mlflow.MlflowClient(run.tracking_uri)


def _runs(client):
    experiment = client.get_experiment_by_name("shoplm")
    return client.search_runs([experiment.experiment_id], max_results=500)


def test_flow_runs_every_dvc_stage_in_dag_order(pipeline_run):
    stages = list(pipeline_run.outcomes)
    assert stages[0] == "base" or stages.index("base") < stages.index("evaluate@sample")
    assert stages.index("eval_sets@sample") < stages.index("evaluate@sample")
    assert set(pipeline_run.outcomes.values()) == {"ran"}
    report = json.loads((pipeline_run.root / "reports/sample/zero-shot/metrics.json").read_text())
    assert 0.0 <= report["track5"] <= 1.0 and len(report["tasks"]) == 12


def test_mlflow_has_one_parent_and_a_nested_run_per_stage(pipeline_run):
    runs = _runs(_client(pipeline_run))
    parents = [r for r in runs if r.data.tags.get("shoplm.kind") == "pipeline" and r.info.status == "FINISHED"]
    assert len(parents) == 1  # and one FAILED (run_a_failing_flow)
    parent = parents[0]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    # One nested run per DVC stage, tagged with the stage's address (DVC_STAGE).
    assert sorted(r.data.tags["dvc.stage"] for r in children) == sorted(pipeline_run.outcomes)
    assert parent.data.tags["git.commit"] != "unknown"
    assert any(key.startswith("dvc.stage.") for key in parent.data.tags)
    # Its side-by-side scores are on these questions: the parent lists each set as a dataset input.
    assert [d.dataset.name for d in parent.inputs.dataset_inputs] == ["sample"]


def test_evaluate_run_metrics_equal_the_report(pipeline_run):
    runs = _runs(_client(pipeline_run))
    evaluate = next(r for r in runs if r.info.run_name == "evaluate@sample-zero-shot")
    report = json.loads((pipeline_run.root / "reports/sample/zero-shot/metrics.json").read_text())
    metrics = evaluate.data.metrics
    assert metrics["track5"] == pytest.approx(report["track5"])
    assert metrics["mean_over_tasks"] == pytest.approx(report["mean_over_tasks"])
    for task, row in report["tasks"].items():
        assert metrics[f"tasks/{task}/score"] == pytest.approx(row["score"])
        assert metrics[f"tasks/{task}/parse_failures"] == row["parse_failures"]
    for track, value in report["tracks"].items():
        assert metrics[f"tracks/{track}"] == pytest.approx(value)
    assert metrics["runtime_s"] > 0 and metrics["questions_per_s"] > 0
    artifacts = {a.path for a in _client(pipeline_run).list_artifacts(evaluate.info.run_id, "sample/zero-shot")}
    # The questions the score is on, as an MLflow dataset input: the runs table's Dataset column.
    [dataset] = [d.dataset for d in evaluate.inputs.dataset_inputs]
    questions = (pipeline_run.root / "data/eval/sample.jsonl").read_text().splitlines()
    assert (dataset.name, json.loads(dataset.profile)["num_rows"]) == ("sample", len(questions))
    assert json.loads(dataset.source)["uri"] == "data/eval/sample.jsonl"
    assert {"sample/zero-shot/predictions.jsonl", "sample/zero-shot/metrics.json",
            "sample/zero-shot/tracks.png"} <= artifacts


def test_parent_run_holds_zero_shot_and_fine_tuned_scores_side_by_side(pipeline_run):
    client = _client(pipeline_run)
    parent = next(r for r in _runs(client) if r.data.tags.get("shoplm.kind") == "pipeline"
                  and r.info.status == "FINISHED")
    for model in ("zero-shot", "v7", "v7-dpo", "final"):  # final: stage evaluate_final
        report = json.loads((pipeline_run.root / f"reports/sample/{model}/metrics.json").read_text())
        assert parent.data.metrics[f"compare/sample/{model}/track5"] == pytest.approx(report["track5"])
    table = client.download_artifacts(parent.info.run_id, "comparison/sample.txt", str(pipeline_run.root / "dl"))
    header = open(table).read().splitlines()[0].split()
    assert header == ["score", "zero-shot", "final", "v7", "v7-dpo"]


def test_the_run_ends_with_the_quantized_merge_beside_base_adapters_and_merge(pipeline_run, capsys):
    from flows.summary import print_summary, search_comparison

    root = pipeline_run.root
    assert (root / "models/quantized/search-ensemble/config.json").is_file()
    columns, warnings = search_comparison(root, "ensemble")
    assert list(columns) == ["zero-shot", "v7", "merged", "rtn-4bit"]
    assert warnings == []  # quantize scored the merge on the search's held-out questions: same score before
    assert len({c["n"] for c in columns.values()}) == 1
    client = _client(pipeline_run)
    runs = _runs(client)
    parent = next(r for r in runs if r.data.tags.get("shoplm.kind") == "pipeline" and r.info.status == "FINISHED")
    for model, column in columns.items():
        assert parent.data.metrics[f"compare/search-ensemble/{model}/track5"] == pytest.approx(column["track5"])
    table = client.download_artifacts(parent.info.run_id, "comparison/search-ensemble.txt", str(root / "dl-search"))
    assert open(table).read().splitlines()[0].split()[1:] == list(columns)

    print_summary(root, pipeline_run.outcomes)
    summary = capsys.readouterr().out
    assert "=== held-out test questions of search@ensemble: models side by side ===" in summary
    stage_seconds = {r.data.tags["dvc.stage"]: (r.info.end_time - r.info.start_time) / 1000 for r in runs
                     if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id}
    with capsys.disabled():  # the figures a reader of the test log wants: the table and the new stages' times
        print(summary[summary.index("=== held-out"):].split("\nMLflow runs:")[0])
        print("stage run seconds (MLflow):", {s: round(t, 1) for s, t in sorted(stage_seconds.items())
                                               if s.split("@")[0] in ("merge", "search", "quantize")})


def test_training_stages_wrote_adapters_and_logged_loss(pipeline_run):
    for name in ("v7", "v7-dpo"):
        assert (pipeline_run.root / "models/adapters" / name / "adapter_config.json").is_file()
    client = _client(pipeline_run)
    train = next(r for r in _runs(client) if r.info.run_name == "train@v7")
    assert len(client.get_metric_history(train.info.run_id, "loss")) >= 2
    assert train.data.metrics["tokens_per_s"] > 0 and 0 < train.data.metrics["answer_token_fraction"] < 1


def test_second_repro_is_a_no_op(pipeline_run):
    out = dvc(pipeline_run.root, "repro")
    assert "Running stage" not in out
    for stage in pipeline_run.outcomes:
        assert f"Stage '{stage}' didn't change, skipping" in out


def test_changed_evaluate_param_reruns_only_the_stages_that_evaluate(pipeline_run):
    params_file = pipeline_run.root / "params.yaml"
    params = yaml.safe_load(params_file.read_text())
    params["evaluate"]["generation"]["batch_size"] = 7
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    # What dvc.yaml declares: the stages whose own params changed (a dry run; running them all took 7 min).
    # Stages downstream of their outputs (register_model) follow from DVC's rule, not from dvc.yaml's params.
    out = dvc(pipeline_run.root, "repro", "--dry")
    would_run = sorted(line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage"))
    # The evaluations, and the stages that score with evaluate's settings (search, quantize, package, the
    # two studies and the learning curves).
    scoring = ("search", "quantize", "package", "prompt_ablation", "sweep", "learning_curve")
    assert would_run == sorted(s for s in pipeline_run.outcomes if s.split("@")[0].startswith("evaluate")
                               or s.split("@")[0] in scoring)
    assert {"evaluate@sample", "evaluate_adapter@sample-v7", "evaluate_dpo@sample-v7"} <= set(would_run)
    # Run one of them: outside the flow the stage's MLflow run stands alone (no parent), with the new value.
    dvc(pipeline_run.root, "repro", "--single-item", "evaluate@sample")
    latest = max((r for r in _runs(_client(pipeline_run)) if r.info.run_name == "evaluate@sample-zero-shot"),
                 key=lambda r: r.info.start_time)
    assert "mlflow.parentRunId" not in latest.data.tags
    assert latest.data.params["generation.batch_size"] == "7"


def test_a_failed_flow_keeps_params_and_reports_and_does_not_retry_a_user_error(pipeline_run):
    failed = pipeline_run.failed
    assert failed.failed
    assert failed.params_after == failed.params_before  # byte-identical, though the run wrote its own
    assert failed.reports_after == failed.reports_before  # the last good report, whole
    assert failed.task_runs == [("evaluate@sample", 1)]  # exit 2: not retried


def test_a_failed_flow_tags_the_stage_and_its_error_on_the_parent_run(pipeline_run):
    client = _client(pipeline_run)
    parent = next(r for r in _runs(client) if r.data.tags.get("shoplm.kind") == "pipeline"
                  and r.info.status == "FAILED")
    assert parent.data.tags["failed_stage"] == "evaluate@sample"
    assert parent.data.tags[tracking.metric_name("outcome.evaluate@sample")] == "failed"
    assert "data/eval/sample.jsonl" in parent.data.tags["error"] and "\n" not in parent.data.tags["error"]
    nested = [r for r in _runs(client) if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(nested) <= 1  # at most the failed stage's own run, never a retry's second one
    path = client.download_artifacts(parent.info.run_id, "params.yaml", str(pipeline_run.root / "dl-failed"))
    assert "Parameters of one pipeline run" in open(path).read()  # what the stages read
