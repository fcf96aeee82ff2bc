"""Does a base model fit the 4-bit group size and tensor-parallel degree? At params load and in stage base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shoplm.modeling.fit import ModelShape, group_size_problems, tensor_parallel_problems
from shoplm.params.file import load_params
from shoplm.params.loader import ParamsError

REPO = Path(__file__).resolve().parents[2]
SMOL = "smollm2-135m-instruct"


SMOL_SHAPE = ModelShape(hidden_size=576, intermediate_size=1536, num_heads=9, num_kv_heads=3, head_dim=64)


def test_smol_shape_fits_group_64_and_tp_1_or_3() -> None:
    for tp in (1, 3):
        assert tensor_parallel_problems(SMOL_SHAPE, tp) == group_size_problems(SMOL_SHAPE, 64, tp) == []


def test_group_128_and_tp_2_do_not_fit_smol() -> None:
    assert "hidden_size (input of q/k/v, gate, up) = 576" in group_size_problems(SMOL_SHAPE, 128)[0]
    assert "2 does not divide the 9 attention heads" in tensor_parallel_problems(SMOL_SHAPE, 2)[0]


def test_padding_makes_qwen2_72b_fit_tp4_group128() -> None:
    qwen = ModelShape(hidden_size=8192, intermediate_size=29568, num_heads=64, num_kv_heads=8, head_dim=128)
    assert "29568 / tp 4" in group_size_problems(qwen, 128, 4)[0]
    assert group_size_problems(qwen, 128, 4, pad_intermediate_to=29696) == []


def _smol_params(tmp_path: Path, **changes: tuple[str, str]) -> Path:
    """params.yaml with base.model set to the packaged SmolLM2, and more (key → (old, new) text)."""
    text = (REPO / "profiles/defaults.yaml").read_text().replace("  model: tiny", f"  model: {SMOL}", 1)
    for old, new in changes.values():
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def test_params_refuse_a_group_size_smol_cannot_take(tmp_path) -> None:
    params = _smol_params(tmp_path, group=("  group_size: 64", "  group_size: 128"))
    line = params.read_text().splitlines().index("  group_size: 128") + 1
    with pytest.raises(ParamsError, match=rf"params.yaml:{line}: quantize.group_size: 128 does not divide "
                                          r"hidden_size .* = 576 of smollm2-135m-instruct"):
        load_params(params)


def test_params_refuse_a_tensor_parallel_degree_smol_cannot_take(tmp_path) -> None:
    params = _smol_params(tmp_path, tp=("  tensor_parallel_size: 1", "  tensor_parallel_size: 2"))
    with pytest.raises(ParamsError, match=r"evaluate.tensor_parallel_size: 2 does not divide the 9 attention heads"):
        load_params(params)
    assert load_params(_smol_params(tmp_path, tp=("  tensor_parallel_size: 1", "  tensor_parallel_size: 3")))


def test_params_refuse_an_in_process_engine_over_several_gpus(tmp_path) -> None:
    params = _smol_params(tmp_path, tp=("  tensor_parallel_size: 1", "  tensor_parallel_size: 3"),
                          inproc=("    in_process: false", "    in_process: true"))
    with pytest.raises(ParamsError, match=r"params.yaml:\d+: evaluate: .*in_process: true runs the engine in one "
                                          r"process, so on one device; tensor_parallel_size is 3"):
        load_params(params)


def test_params_refuse_a_quantized_model_sharding_smol_cannot_take(tmp_path) -> None:
    params = _smol_params(tmp_path, tp=("  pad_intermediate_to: null", "  pad_intermediate_to: null\n  tensor_parallel_size: 4"))
    with pytest.raises(ParamsError, match=r"quantize.tensor_parallel_size: 4 does not divide the 9 attention heads"):
        load_params(params)


@pytest.mark.slow
def test_stage_base_refuses_a_local_model_that_does_not_fit(tmp_path, monkeypatch, capsys) -> None:
    """A folder's dimensions are known only once stage base reads its config: the check runs there."""
    model = tmp_path / "smol-like"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({
        "model_type": "llama", "hidden_size": 576, "intermediate_size": 1536, "num_attention_heads": 9,
        "num_key_value_heads": 3, "head_dim": 64}))
    params = tmp_path / "params.yaml"
    params.write_text((REPO / "profiles/defaults.yaml").read_text().replace("  model: tiny", f"  model: {model}", 1)
                      .replace("  group_size: 64", "  group_size: 128", 1))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    from tasks import base

    with pytest.raises(ParamsError, match=rf"{params}: quantize.group_size: 128 does not divide hidden_size"):
        base.main(["--params", str(params), "--out", str(tmp_path / "models/base")])


def test_the_tiny_model_is_checked_too(tmp_path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text((REPO / "profiles/defaults.yaml").read_text().replace(
        "  tensor_parallel_size: 1", "  tensor_parallel_size: 3", 1))
    with pytest.raises(ParamsError, match=r"evaluate.tensor_parallel_size: 3 does not divide the 4 attention heads of tiny"):
        load_params(params)
