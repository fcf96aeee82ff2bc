"""Fixtures: LoRA adapters with non-zero deltas on the session's tiny base, and a 2-layer pico model."""

from __future__ import annotations

from pathlib import Path

import pytest


def save_random_adapter(base_dir: Path, out: Path, seed: int, r: int = 4, alpha: int = 8,
                        targets: str | list[str] = "all-linear") -> Path:
    """A peft LoRA adapter whose A and B are both random (peft's default B=0 would make ΔW zero)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    config = LoraConfig(r=r, lora_alpha=alpha, target_modules=targets, init_lora_weights=False)
    model = get_peft_model(base, config)
    with torch.no_grad():  # scale the deltas to the size a short fine-tune gives, relative to W
        for name, param in model.named_parameters():
            if "lora_" in name:
                param.mul_(0.05)
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_adapters(tiny_base_dir, tmp_path_factory) -> dict[str, Path]:
    """Two adapters on the tiny base: v7 on every Linear (rank 4), v8 on attention only (rank 8)."""
    root = tmp_path_factory.mktemp("adapters")
    return {
        "v7": save_random_adapter(tiny_base_dir, root / "v7", seed=7),
        "v8": save_random_adapter(tiny_base_dir, root / "v8", seed=8, r=8, alpha=16,
                                  targets=["q_proj", "k_proj", "v_proj", "o_proj"]),
    }


@pytest.fixture(scope="session")
def pico_base_dir(tmp_path_factory) -> Path:
    """A 2-layer Qwen2 with hidden size 8: small enough to check merges entry by entry."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=32, hidden_size=8, intermediate_size=16, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64)
    out = tmp_path_factory.mktemp("pico")
    Qwen2ForCausalLM(config).save_pretrained(out)
    return out
