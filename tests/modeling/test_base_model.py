"""Resolving and recording base models for real profiles, offline: local folders and the HF cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shoplm.modeling.base_model import (
    BASE_RECORD_FILE, BaseModelNotFound, describe_base_model, record_base_model, resolve_base_model,
    resolve_stage_model,
)

QWEN2_72B = {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "hidden_size": 8192,
             "intermediate_size": 29568, "num_hidden_layers": 80, "num_attention_heads": 64,
             "num_key_value_heads": 8, "vocab_size": 152064, "torch_dtype": "bfloat16"}


def _fake_hub_cache(root: Path, repo_id: str, config: dict, commit: str = "a" * 40) -> Path:
    """The layout huggingface_hub writes: models--org--name/{refs/main, snapshots/<commit>/...}."""
    repo = root / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text(json.dumps(config))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return snapshot


def test_local_folder(tiny_base_dir) -> None:
    assert resolve_base_model(str(tiny_base_dir)) == tiny_base_dir


def test_missing_local_path_says_what_to_do(tmp_path) -> None:
    with pytest.raises(BaseModelNotFound, match="no such directory.*python -m tasks.base"):
        resolve_base_model(str(tmp_path / "missing" / "model"))


def test_folder_without_config_is_rejected(tmp_path) -> None:
    with pytest.raises(BaseModelNotFound, match="has no config.json"):
        resolve_base_model(str(tmp_path))


@pytest.mark.parametrize("config", ["{}", "[]", '{"hidden_size": 8}', '{"model_type": ""}', "{not json"])
def test_config_that_describes_no_model_is_rejected(tmp_path, config) -> None:
    (tmp_path / "config.json").write_text(config)
    with pytest.raises(BaseModelNotFound, match="config.json (has no model_type|is not valid JSON)"):
        record_base_model(str(tmp_path), tmp_path / "out" / BASE_RECORD_FILE)
    assert not (tmp_path / "out").exists()  # no record of nulls


def test_uncached_hub_id_fails_offline_with_the_download_command(tmp_path) -> None:
    expected = r"not in the local Hugging Face cache.*hf download Qwen/Qwen2-72B-Instruct.*allow_download: true"
    with pytest.raises(BaseModelNotFound, match=expected):
        resolve_base_model("Qwen/Qwen2-72B-Instruct", cache_dir=tmp_path)


def test_allow_download_still_fails_clearly_when_offline(tmp_path, monkeypatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # never reach the network from a test
    with pytest.raises(BaseModelNotFound, match="Hub was not reachable"):
        resolve_base_model("Qwen/Qwen2-72B-Instruct", allow_download=True, cache_dir=tmp_path)


def test_cached_hub_id_resolves_to_its_snapshot(tmp_path) -> None:
    snapshot = _fake_hub_cache(tmp_path, "Qwen/Qwen2-72B-Instruct", QWEN2_72B)
    assert resolve_base_model("Qwen/Qwen2-72B-Instruct", cache_dir=tmp_path) == snapshot


def test_describe_checks_group_sizes_per_tensor_parallel_shard(tmp_path) -> None:
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    (model_dir / "config.json").write_text(json.dumps(QWEN2_72B))
    assert describe_base_model(model_dir)["group_size_divides"] == {"64": True, "128": True}
    assert describe_base_model(model_dir, tensor_parallel=4)["group_size_divides"] == {"64": False, "128": False}
    (model_dir / "config.json").write_text(json.dumps({**QWEN2_72B, "intermediate_size": 29696}))
    assert describe_base_model(model_dir, tensor_parallel=4)["group_size_divides"] == {"64": True, "128": True}
    assert describe_base_model(model_dir)["dtype"] == "bfloat16"


def test_record_of_the_tiny_model(tiny_base_dir, tmp_path) -> None:
    out = tmp_path / "record" / BASE_RECORD_FILE
    record = record_base_model(str(tiny_base_dir), out)
    assert json.loads(out.read_text()) == record
    assert record["kind"] == "local" and record["path"] == str(tiny_base_dir)
    assert record["model_type"] == "qwen2" and record["hidden_size"] == 256 and record["num_hidden_layers"] == 2
    assert record["group_size_divides"] == {"64": True, "128": True}


def test_stage_model_from_a_folder_or_a_record(tiny_base_dir, tmp_path) -> None:
    assert resolve_stage_model(tiny_base_dir) == tiny_base_dir
    stage = tmp_path / "models" / "base"
    record_base_model(str(tiny_base_dir), stage / BASE_RECORD_FILE)
    assert resolve_stage_model(stage) == tiny_base_dir
    with pytest.raises(BaseModelNotFound, match="dvc repro base"):
        resolve_stage_model(tmp_path / "empty")
