"""Does a base model fit the later stages' settings? 4-bit group sizes and tensor-parallel degrees.

Two constraints bite on the way from a base model to a served 4-bit model:

- **Group size** (AWQ / W4A16): every quantized Linear's input size must be a multiple of the group
  size. Column-parallel layers (q/k/v, gate, up) take the full ``hidden_size``; row-parallel ones are
  split ``tensor_parallel`` ways along their input, so each shard of o_proj
  (``num_heads * head_dim / tp``) and of down_proj (``intermediate_size / tp``, after any padding)
  must be a multiple too. SmolLM2-135M: hidden 576 = 9 x 64, so group 64 fits and 128 does not.
- **Tensor parallelism** (vLLM): attention heads are split across GPUs, so ``num_heads`` must divide
  by ``tp``, and key/value heads must either split evenly or be replicated (``tp`` a multiple of them).
  SmolLM2-135M: 9 heads, 3 KV heads, so tp is 1 or 3.

``tensor_parallel_problems`` and ``group_size_problems`` list every violation as a message; the
caller names the params key; ``base_model_misfits`` names it for the base model. Imports nothing heavy:
``shoplm.params.file`` runs them when params load, stage ``base`` once the model is on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelShape:
    """The dimensions of a decoder that decide which group sizes and tensor-parallel degrees fit."""

    hidden_size: int
    intermediate_size: int
    num_heads: int
    num_kv_heads: int
    head_dim: int

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ModelShape:
        """From a Hugging Face ``config.json`` mapping (Llama, Qwen2 and most decoders)."""
        hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
        return cls(hidden_size=hidden, intermediate_size=int(config["intermediate_size"]), num_heads=heads,
                   num_kv_heads=int(config.get("num_key_value_heads") or heads),
                   head_dim=int(config.get("head_dim") or hidden // heads))


def tensor_parallel_problems(shape: ModelShape, tensor_parallel: int, model: str = "the base model") -> list[str]:
    """Why ``shape``'s attention cannot be split ``tensor_parallel`` ways (empty when it can)."""
    tp = tensor_parallel
    if shape.num_heads % tp:
        return [f"{tp} does not divide the {shape.num_heads} attention heads of {model}; "
                f"use a divisor of {shape.num_heads}"]
    if shape.num_kv_heads % tp and tp % shape.num_kv_heads:
        return [f"{tp} neither divides nor is a multiple of the {shape.num_kv_heads} key/value heads of {model}"]
    return []


def group_size_problems(shape: ModelShape, group_size: int, tensor_parallel: int = 1,
                        pad_intermediate_to: int | None = None, model: str = "the base model") -> list[str]:
    """Which 4-bit Linear inputs (per tensor-parallel shard) ``group_size`` does not divide (empty: all)."""
    tp = tensor_parallel if not tensor_parallel_problems(shape, tensor_parallel) else 1  # shards undefined
    intermediate = pad_intermediate_to or shape.intermediate_size
    inputs = {
        "hidden_size (input of q/k/v, gate, up)": shape.hidden_size,
        f"attention width / tp {tp} (input of an o_proj shard)": shape.num_heads * shape.head_dim / tp,
        f"intermediate size {intermediate} / tp {tp} (input of a down_proj shard)": intermediate / tp,
    }
    problems = []
    for what, size in inputs.items():
        if size % group_size:
            size_text = int(size) if float(size).is_integer() else round(size, 2)
            problems.append(f"{group_size} does not divide {what} = {size_text} of {model}; every 4-bit "
                            "Linear input must be a multiple of the group size")
    return problems


def base_model_misfits(shape: ModelShape, model: str, serving_tensor_parallel: int, quantize: Any
                       ) -> list[tuple[tuple[str, str], str]]:
    """(params key, why) for each setting the base model cannot take: the tensor-parallel degrees of
    serving (``evaluate.tensor_parallel_size``) and of the quantized model (the ``quantize`` section), and
    the group size on the quantized model's shards. The MLP width is padded as stage quantize pads it (``pad_intermediate_to``, else the next multiple of
    group size x tensor parallel), so only widths that padding cannot change can fail."""
    from shoplm.quantization.padding import padded_size

    problems = [(("evaluate", "tensor_parallel_size"), m)
                for m in tensor_parallel_problems(shape, serving_tensor_parallel, model)]
    problems += [(("quantize", "tensor_parallel_size"), m)
                 for m in tensor_parallel_problems(shape, quantize.tensor_parallel_size, model)]
    padded = quantize.pad_intermediate_to or padded_size(shape.intermediate_size, quantize.pad_multiple)
    problems += [(("quantize", "group_size"), m) for m in group_size_problems(
        shape, quantize.group_size, quantize.tensor_parallel_size, padded, model)]
    return problems
