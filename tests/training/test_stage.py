"""Stages ``train@<adapter>`` and ``dpo@<adapter>`` end to end in a throwaway working directory: a tiny
params.yaml, two mixtures, models/base linked to the session's tiny model, MLflow in SQLite."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml

from shoplm.registry import UnknownNameError

pytestmark = pytest.mark.slow  # trains adapters in a workspace: outside make test-fast


def _enter(mp: pytest.MonkeyPatch, root: Path, uri: str) -> None:
    mp.chdir(root)
    mp.setenv("MLFLOW_TRACKING_URI", uri)
    mp.delenv("SHOPLM_MLFLOW_PARENT_RUN_ID", raising=False)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, tiny_base_dir, mixtures, tiny_hp, tiny_dpo_hp, write_mixture):
    """Trains v7 and v8 through ``tasks.train.main`` once for the module's tests."""
    import tasks.train

    root = tmp_path_factory.mktemp("stage")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    params = {
        "train": {"defaults": tiny_hp(max_steps=4).model_dump(mode="json"),
                  "adapters": {"v7": {"mixture": "v7"}, "v8": {"mixture": "v8", "seed": 1}}},
        "dpo": {"defaults": tiny_dpo_hp(max_steps=2).model_dump(mode="json"),
                "adapters": {"v7": {"mixture": "v7", "overrides": {"beta": 0.2}}}},
    }
    (root / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    for name, questions in mixtures.items():
        write_mixture(root, name, questions)
    (root / "models").mkdir()
    (root / "models" / "base").symlink_to(tiny_base_dir, target_is_directory=True)
    with pytest.MonkeyPatch.context() as mp:
        _enter(mp, root, uri)
        for adapter in ("v7", "v8"):
            assert tasks.train.main([adapter, "--no-progress"]) == 0
    return SimpleNamespace(root=root, uri=uri)


def _run(client, stage: str):
    runs = [r for r in client.search_runs(client.get_experiment_by_name("shoplm").experiment_id)
            if r.data.tags.get("shoplm.stage") == stage]
    assert len(runs) == 1, stage
    return runs[0]


def test_train_stage_logs_to_mlflow(workspace):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=workspace.uri)
    run = _run(client, "train@v7")
    assert run.info.status == "FINISHED"
    losses = client.get_metric_history(run.info.run_id, "loss")
    assert len(losses) >= 3 and sorted(m.step for m in losses) == [1, 2, 3, 4]
    metrics = run.data.metrics
    assert metrics["tokens_per_s"] > 0
    assert 0 < metrics["answer_token_fraction"] < 1
    assert metrics["padding_share"] == 0.0  # packing is padding-free
    assert metrics["peak_memory_mb"] > 0 and metrics["global_step"] == 4
    assert run.data.params["mixture"] == "v7" and run.data.params["lora.r"] == "4"
    assert run.data.tags["resumed_from_step"] == "None"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "adapters/v7")}
    assert {"adapters/v7/adapter_model.safetensors", "adapters/v7/train_summary.json"} <= artifacts
    # run figures go to a metrics file, not into the adapter folder that other stages depend on
    figures = json.loads((workspace.root / "metrics" / "train" / "v7.json").read_text())
    assert figures["tokens_per_s"] > 0 and figures["train_seconds"] > 0 and figures["global_step"] == 4
    summary = (workspace.root / "models" / "adapters" / "v7" / "train_summary.json").read_text()
    assert not any(word in summary for word in ("seconds", "tokens_per_s", "peak_rss_mb"))


def test_two_mixtures_give_two_loadable_different_adapters(workspace, tiny_base_dir, tokenizer):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    ids = tokenizer("<|im_start|>user\nWhich of the following?<|im_end|>\n", return_tensors="pt")["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(tiny_base_dir).eval()
    with torch.no_grad():
        reference = base(ids).logits
    outputs, weights = {}, {}
    for name in ("v7", "v8"):
        folder = workspace.root / "models" / "adapters" / name
        assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "train_summary.json"} <= {
            p.name for p in folder.iterdir()}
        model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_base_dir), str(folder)).eval()
        with torch.no_grad():
            outputs[name] = model(ids).logits
        weights[name] = {k: v.clone() for k, v in model.state_dict().items() if "lora_B" in k}
        assert not torch.allclose(outputs[name], reference)  # the adapter changes the base model
    assert not torch.allclose(outputs["v7"], outputs["v8"])
    assert any(not torch.equal(weights["v7"][k], weights["v8"][k]) for k in weights["v7"])
    assert not (workspace.root / "models" / "checkpoints" / "v7").exists()  # finished: checkpoints dropped


def test_unknown_adapter_and_missing_mixture(workspace, monkeypatch):
    import tasks.train

    _enter(monkeypatch, workspace.root, workspace.uri)
    with pytest.raises(UnknownNameError, match="unknown train.adapters entry 'v9'. Known: v7, v8"):
        tasks.train.main(["v9"])
    params = workspace.root / "params.yaml"
    original = params.read_text()
    params.write_text(original.replace("mixture: v8", "mixture: v99"))
    try:
        with pytest.raises(FileNotFoundError, match="build@v99"):
            tasks.train.main(["v8"])
    finally:
        params.write_text(original)


def test_dpo_stage(workspace, monkeypatch):
    from mlflow.tracking import MlflowClient

    import tasks.dpo

    _enter(monkeypatch, workspace.root, workspace.uri)
    assert tasks.dpo.main(["v7", "--no-progress"]) == 0
    out = workspace.root / "models" / "adapters" / "v7-dpo"
    assert (out / "adapter_model.safetensors").is_file() and not (out / "ref").exists()
    run = _run(MlflowClient(tracking_uri=workspace.uri), "dpo@v7")
    assert run.data.params["beta"] == "0.2" and run.data.metrics["global_step"] == 2
    assert run.data.metrics["pairs/pairs"] > 0 and "rewards/margins" in run.data.metrics
