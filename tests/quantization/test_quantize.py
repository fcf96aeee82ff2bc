"""Padding proves itself on logits; every quantizer's output reloads with transformers and generates."""

from __future__ import annotations

import json
import shutil
import time

import pytest
import torch

from shoplm.params.quantization import QuantizeSection
from shoplm.quantization import QUANTIZERS, pad_with_proof, padded_size
from shoplm.quantization.run import check_group_divisibility, quantize_folder
from shoplm.shopbench.records import load_questions
from tests.forged import FORGED_QUESTION, LITERAL, marker_counts

# Relative to the largest logit (shoplm/quantization/padding.py): float32 rounding of the wider matmuls is a
# few 1e-7 (AVX-512 kernels block the sums otherwise than AVX2 ones); a pad that is not zero, far more.
PADDING_TOLERANCE = 1e-5
SAMPLE_QUESTIONS = "data/sample/shopbench/questions.jsonl"


@pytest.fixture(scope="module")
def questions():
    return load_questions(SAMPLE_QUESTIONS)


def test_padded_size_rounds_up_to_the_multiple():
    assert padded_size(29568, 128 * 4) == 29696  # seed 003: Qwen2-72B on 4 T4s
    assert padded_size(512, 128) == 512 and padded_size(513, 64) == 576


def test_padding_leaves_logits_unchanged_and_survives_a_reload(tiny_base_dir, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_base_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_base_dir, dtype=torch.float32).eval()
    probe = [tokenizer("Which product fits the query 'usb c cable 2m'?")["input_ids"], list(range(5, 60))]
    report = pad_with_proof(model, multiple=3 * 64, probe_ids=probe)  # 512 → 576, like 29568 → 29696
    print(f"\npadding {report.old_size} → {report.new_size}: max |Δ logit| {report.max_abs_logit_diff:.1e} "
          f"of max |logit| {report.max_abs_logit:.2f} over {report.probe_tokens} tokens "
          f"(relative {report.relative_logit_diff:.1e}, tolerance {PADDING_TOLERANCE:g})")
    assert (report.old_size, report.new_size) == (512, 576)
    assert report.max_abs_logit > 1 and report.relative_logit_diff < PADDING_TOLERANCE
    assert model.model.layers[0].mlp.down_proj.weight.shape == (256, 576)

    model.save_pretrained(tmp_path / "padded")
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "padded", dtype=torch.float32).eval()
    original = AutoModelForCausalLM.from_pretrained(tiny_base_dir, dtype=torch.float32).eval()
    with torch.inference_mode():
        ids = torch.tensor([probe[0]])
        expected = original(ids).logits
        diff = (reloaded(ids).logits - expected).abs().max().item() / expected.abs().max().item()
    assert reloaded.config.intermediate_size == 576 and diff < PADDING_TOLERANCE


def test_a_pad_that_is_not_zero_is_caught_by_the_proof(tiny_base_dir, monkeypatch):
    """The tolerance is loose enough for rounding only: one padded channel of 0.1s fails it."""
    import shoplm.quantization.padding as padding
    from transformers import AutoModelForCausalLM

    grow = padding._grow

    def leaky_grow(linear, out_features, in_features):
        grown = grow(linear, out_features, in_features)
        with torch.no_grad():  # one new channel that is not zero: gate and up rows, down column
            if out_features > linear.out_features:
                grown.weight[linear.out_features] = 0.1
            else:
                grown.weight[:, linear.in_features] = 0.1
        return grown

    monkeypatch.setattr(padding, "_grow", leaky_grow)
    model = AutoModelForCausalLM.from_pretrained(tiny_base_dir, dtype=torch.float32).eval()
    report = pad_with_proof(model, multiple=3 * 64, probe_ids=[list(range(5, 60))])
    print(f"\nnon-zero pad: relative max |Δ logit| {report.relative_logit_diff:.1e}")
    assert report.relative_logit_diff > 100 * PADDING_TOLERANCE, report


def test_calibration_prompts_cannot_forge_special_tokens(tiny_base_dir, questions):
    from transformers import AutoTokenizer

    from shoplm.quantization.calibration import calibration_token_ids

    tokenizer = AutoTokenizer.from_pretrained(tiny_base_dir)
    forged = questions[0].model_copy(update={"input_field": FORGED_QUESTION})
    (ids,) = calibration_token_ids([forged], tokenizer, samples=1, max_seq_len=4096)
    assert marker_counts(tokenizer, ids) == (3, 2)  # the template's: system, user, assistant header
    assert LITERAL in tokenizer.decode(ids, skip_special_tokens=True)


def test_a_group_size_that_does_not_divide_an_input_is_named(tiny_base_dir):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_base_dir)
    with pytest.raises(ValueError, match=r"input size 256 is not divisible by group_size 96"):
        check_group_divisibility(model, 96)


def test_settings_reject_a_pad_target_off_the_multiple_and_unknown_quantizers():
    with pytest.raises(ValueError, match="not a multiple of group_size × tensor_parallel_size = 512"):
        QuantizeSection(group_size=128, tensor_parallel_size=4, pad_intermediate_to=29568)
    assert QuantizeSection(group_size=128, tensor_parallel_size=4, pad_intermediate_to=29696).pad_multiple == 512
    with pytest.raises(ValueError, match="Did you mean 'awq'"):
        QuantizeSection(method="aqw")
    assert set(QUANTIZERS.names()) == {"rtn", "awq", "gptq"}


def test_eval_set_may_name_a_search_and_a_bare_prefix_is_located(tmp_path):
    from shoplm.params.file import load_section
    from shoplm.params.loader import ParamsError

    assert QuantizeSection(eval_set="search:ensemble").eval_search_grid == "ensemble"
    assert QuantizeSection(eval_set="sample").eval_search_grid is None
    params = tmp_path / "params.yaml"
    params.write_text("quantize:\n  model: search-ensemble\n  eval_set: 'search:'\n")
    with pytest.raises(ParamsError, match=r"params.yaml:3: quantize.eval_set: 'search:': name the grid"):
        load_section("quantize", params)


def quantize_and_generate(method, tiny_base_dir, tmp_path, questions):
    from shoplm.evaluation import run_zero_shot
    from shoplm.inference.transformers_backend import TransformersBackend

    settings = QuantizeSection(method=method, group_size=64, tensor_parallel_size=3,
                               calibration={"samples": 4, "max_seq_len": 128}, awq_n_grid=4)
    source = tmp_path / "source"
    shutil.copytree(tiny_base_dir, source)
    result = quantize_folder(source, tmp_path / method, settings, questions)
    config = json.loads((tmp_path / method / "config.json").read_text())
    start = time.perf_counter()
    with TransformersBackend(tmp_path / method, batch_size=8, show_progress=False) as backend:
        load_s = time.perf_counter() - start
        evaluation = run_zero_shot(questions[:8], backend)
    print(f"\n{method}: {result.seconds:.2f} s, {result.source_bytes / 2**20:.2f} MB → "
          f"{result.output_bytes / 2**20:.2f} MB, padding {result.padding.old_size}→{result.padding.new_size} "
          f"(relative max |Δ logit| {result.padding.relative_logit_diff:.1e}), reload {load_s:.2f} s, "
          f"{sum(bool(p.strip()) for p in evaluation.predictions)}/8 non-empty answers")
    assert config["quantization_config"]["quant_method"] == "compressed-tensors"
    assert config["intermediate_size"] == 576
    group = config["quantization_config"]["config_groups"]["group_0"]["weights"]
    assert (group["num_bits"], group["group_size"], group["symmetric"]) == (4, 64, False)
    assert result.output_bytes < result.source_bytes
    assert len(evaluation.predictions) == 8 and any(p.strip() for p in evaluation.predictions)
    assert result.padding.relative_logit_diff < PADDING_TOLERANCE
    return result


def test_rtn_output_reloads_and_generates(tiny_base_dir, tmp_path, questions):
    result = quantize_and_generate("rtn", tiny_base_dir, tmp_path, questions)
    assert result.calibration_prompts == 0


@pytest.mark.slow
@pytest.mark.parametrize("method", ["awq", "gptq"])
def test_calibrated_quantizers_run_on_cpu_and_reload(method, tiny_base_dir, tmp_path, questions):
    result = quantize_and_generate(method, tiny_base_dir, tmp_path, questions)
    assert result.calibration_prompts == 4
