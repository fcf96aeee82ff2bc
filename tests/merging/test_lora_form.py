"""A ``weighted`` candidate as one LoRA adapter: the same logits as the merged weights, refusals, the cache."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from shoplm.merging import MergeWorkspace
from shoplm.merging.lora_form import (
    LoraFormUnsupported,
    lora_form,
    lora_form_rank,
    supports_lora_form,
    write_lora_form,
)
from shoplm.params.merging import MergeSpec

TOLERANCE = 1e-4
SPECS = {
    "wise-ft v7 α=0.5": MergeSpec(adapters={"v7": 1.0}, alpha=0.5),
    "wise-ft v8 α=0.5": MergeSpec(adapters={"v8": 1.0}, alpha=0.5),
    "0.3/0.7 α=1": MergeSpec(adapters={"v7": 0.3, "v8": 0.7}, alpha=1.0),
    "1/0.5 α=0.8": MergeSpec(adapters={"v7": 1.0, "v8": 0.5}, alpha=0.8),
    "negative weight": MergeSpec(adapters={"v7": -0.4, "v8": 1.2}, alpha=0.9),
    "α=0 (the base)": MergeSpec(adapters={"v7": 0.3, "v8": 0.7}, alpha=0.0),
}


@pytest.fixture(scope="module")
def workspace(tiny_base_dir, tiny_adapters):
    return MergeWorkspace(tiny_base_dir, tiny_adapters)


@pytest.fixture(scope="module")
def input_ids(workspace):
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, workspace.model.config.vocab_size, (3, 40), generator=generator)


def logits(model, input_ids):
    with torch.no_grad():
        return model(input_ids=input_ids).logits.double()


@pytest.fixture(scope="module")
def base_logits(tiny_base_dir, input_ids):
    from transformers import AutoModelForCausalLM

    return logits(AutoModelForCausalLM.from_pretrained(tiny_base_dir, dtype=torch.float32).eval(), input_ids)


@pytest.mark.parametrize("label", list(SPECS))
def test_lora_form_logits_equal_the_merged_weights(label, workspace, tiny_base_dir, tiny_adapters, input_ids,
                                                   base_logits, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    spec = SPECS[label]
    folder = lora_form(tiny_adapters, spec, tmp_path / "cache")
    base = AutoModelForCausalLM.from_pretrained(tiny_base_dir, dtype=torch.float32)
    adapted = logits(PeftModel.from_pretrained(base, str(folder)).eval(), input_ids)
    workspace.apply(spec)
    merged = logits(workspace.model, input_ids)
    error = (adapted - merged).abs().max().item()
    moved = (merged - base_logits).abs().max().item()
    ranks = {"v7": 4, "v8": 8}
    expected_rank = sum(ranks[name] for name, weight in spec.adapters.items() if weight * spec.alpha != 0) or sum(
        ranks[name] for name in spec.adapters)
    print(f"\nLoRA form vs merged weights, {label}: max |Δ logits| {error:.2e} (tolerance {TOLERANCE:g}); "
          f"rank {lora_form_rank(folder)}; the candidate moves the logits by up to {moved:.2e}")
    assert error < TOLERANCE
    assert lora_form_rank(folder) == expected_rank
    if spec.change_from_base() == 0:
        assert moved == 0.0
    else:
        assert moved > 100 * TOLERANCE  # the check means something: the candidate is not the base


def test_modules_of_one_adapter_get_zero_blocks_for_the_other(tiny_adapters, tmp_path):
    from safetensors.torch import load_file

    folder = write_lora_form(tiny_adapters, MergeSpec(adapters={"v7": 0.3, "v8": 0.7}), tmp_path / "form")
    config = json.loads((folder / "adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"], config["use_rslora"]) == (12, 12, False)
    assert len(config["target_modules"]) == 2 * 7  # v7's every Linear ∪ v8's attention
    tensors = load_file(folder / "adapter_model.safetensors")
    mlp_b = tensors["base_model.model.model.layers.0.mlp.up_proj.lora_B.weight"]
    attention_b = tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"]
    assert mlp_b.shape[1] == 12 and mlp_b[:, 4:].abs().max() == 0 and mlp_b[:, :4].abs().max() > 0
    assert attention_b[:, :4].abs().max() > 0 and attention_b[:, 4:].abs().max() > 0


@pytest.mark.parametrize("method", ["ties", "dare_ties", "dare_linear"])
def test_dense_methods_have_no_lora_form(method, tiny_adapters, tmp_path):
    spec = MergeSpec(method=method, adapters={"v7": 0.5, "v8": 0.5}, density=0.5)
    assert not supports_lora_form(spec)
    with pytest.raises(LoraFormUnsupported, match="dense"):
        lora_form(tiny_adapters, spec, tmp_path)
    assert supports_lora_form(MergeSpec(adapters={"v7": 0.5}))


@pytest.mark.parametrize("setting, value, match", [("use_rslora", True, "rsLoRA"), ("use_dora", True, "DoRA"),
                                                   ("rank_pattern", {"q_proj": 2}, "rank_pattern"),
                                                   ("modules_to_save", ["lm_head"], "modules_to_save"),
                                                   ("bias", "all", "bias"),
                                                   ("init_lora_weights", "pissa", "base weights")])
def test_adapters_that_cannot_be_folded_are_refused(setting, value, match, tiny_adapters, tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(tiny_adapters["v7"], changed)
    config = json.loads((changed / "adapter_config.json").read_text())
    config[setting] = value
    (changed / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=match):
        lora_form({"v7": changed}, MergeSpec(adapters={"v7": 1.0}, alpha=0.5), tmp_path / "cache")


def test_unknown_adapter_is_a_key_error(tiny_adapters, tmp_path):
    with pytest.raises(KeyError, match="v9"):
        lora_form(tiny_adapters, MergeSpec(adapters={"v9": 1.0}), tmp_path)


def test_the_written_adapter_is_reused_until_spec_or_adapter_changes(tiny_adapters, tmp_path):
    cache = tmp_path / "cache"
    spec = MergeSpec(adapters={"v7": 0.3, "v8": 0.7})
    first = lora_form(tiny_adapters, spec, cache)
    written = (first / "adapter_model.safetensors").stat().st_mtime_ns
    assert lora_form(tiny_adapters, spec, cache) == first
    assert (first / "adapter_model.safetensors").stat().st_mtime_ns == written  # not rewritten
    other = lora_form(tiny_adapters, MergeSpec(adapters={"v7": 0.3, "v8": 0.7}, alpha=0.5), cache)
    assert other != first
    changed = tmp_path / "v8-retrained"
    shutil.copytree(tiny_adapters["v8"], changed)
    config = json.loads((changed / "adapter_config.json").read_text())
    config["lora_alpha"] = 32
    (changed / "adapter_config.json").write_text(json.dumps(config))
    retrained = lora_form({**tiny_adapters, "v8": changed}, spec, cache)
    assert retrained not in (first, other)
    assert sorted(p.name for p in cache.iterdir()) == sorted({first.name, other.name, retrained.name})
