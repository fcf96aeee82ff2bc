"""Loading the base model for QLoRA: 4-bit NF4 through bitsandbytes, LoRA through peft.

Where the model goes depends on how the process was launched, never on a hard-coded device:

* one process (``python -m tasks.train``): ``device_map`` puts the whole model on the one GPU, or on
  the CPU when there is none (bitsandbytes 0.50 runs NF4 on CPU too);
* DDP (``accelerate launch`` with ``configs/accelerate/multi_gpu.yaml``): each process loads a full
  copy onto its own GPU (``device_map={"": local_rank}``), as QLoRA under DDP requires;
* FSDP / DeepSpeed ZeRO-3 (``fsdp_qlora.yaml`` / ``deepspeed_zero3.yaml``): no ``device_map`` (the
  engine shards and places the weights) and the 4-bit weights are *stored* in the compute dtype so
  they can be flattened and sharded with the rest (``bnb_4bit_quant_storage``); norms are not cast to
  fp32 nor LoRA weights upcast, so every flattened unit has one dtype. This follows the FSDP-QLoRA
  recipe of PEFT's documentation; it needs several GPUs and is not exercised by the CPU tests.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from shoplm.params.training import LoraSettings, OptimizationSettings, check_target_modules

Launch = Literal["single", "ddp", "fsdp", "deepspeed"]
SHARDED = ("fsdp", "deepspeed")  # engines that shard the weights themselves


def launch_kind() -> Launch:
    """How this process was started, from the variables ``accelerate launch`` / torchrun export."""
    if os.environ.get("ACCELERATE_USE_FSDP", "").lower() in {"1", "true"}:
        return "fsdp"
    if os.environ.get("ACCELERATE_USE_DEEPSPEED", "").lower() in {"1", "true"}:
        return "deepspeed"
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return "ddp"
    return "single"


def is_main_process() -> bool:
    """True on the process that logs and writes files (rank 0; the only one without a launcher)."""
    return int(os.environ.get("RANK", "0")) == 0


def compute_dtype(bf16: bool) -> Any:
    import torch

    return torch.bfloat16 if bf16 else torch.float32


def device_map(kind: Launch) -> dict[str, Any] | None:
    import torch

    if kind in SHARDED:
        return None
    if not torch.cuda.is_available():
        return {"": "cpu"}
    return {"": int(os.environ.get("LOCAL_RANK", "0"))}


def quantization_config(settings: OptimizationSettings, kind: Launch | None = None) -> Any:
    """NF4 4-bit weights, computing in bf16 (or fp32), double-quantized constants (QLoRA)."""
    from transformers import BitsAndBytesConfig

    if not settings.load_in_4bit:
        return None
    dtype = compute_dtype(settings.bf16)
    sharded = (kind or launch_kind()) in SHARDED
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_compute_dtype=dtype,
        bnb_4bit_use_double_quant=settings.double_quant,
        bnb_4bit_quant_storage=dtype if sharded else None,
    )


def disable_cpu_weight_repacking(model: Any) -> int:
    """Work around a bitsandbytes 0.50.2 CPU bug; returns how many 4-bit layers were changed.

    On CPUs with AVX512-BF16, the first eval-mode forward of a ``bnb.nn.Linear4bit`` (a ``generate``, a
    Trainer evaluation) repacks its weight in place into an inference-only layout; the next training
    step then fails with "a view of a leaf Variable that requires grad is being used in an in-place
    operation". Turning the repacking off on every 4-bit layer BEFORE the first forward avoids it
    (see shared/docs/environment-notes.md, "Training stack"). It is a no-op on GPUs and other CPUs.
    """
    try:
        import bitsandbytes as bnb
    except ImportError:  # no 4-bit layers without bitsandbytes
        return 0
    changed = 0
    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit):
            module.support_avx512bf16_for_cpu = False
            changed += 1
    return changed


def load_tokenizer(model_dir: str | Path) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_base_model(model_dir: str | Path, settings: OptimizationSettings, *, for_training: bool = True,
                    attn_implementation: str | None = None) -> Any:
    """The base model, 4-bit when ``settings.load_in_4bit``, placed for the current launch kind.

    ``for_training`` readies a quantized model for k-bit training (peft's
    ``prepare_model_for_kbit_training``: norms and embeddings in fp32, input gradients for
    checkpointing) and turns on gradient checkpointing when the settings ask for it.
    """
    from transformers import AutoModelForCausalLM

    kind = launch_kind()
    kwargs: dict[str, Any] = {"dtype": compute_dtype(settings.bf16)}
    if (quant := quantization_config(settings, kind)) is not None:
        kwargs["quantization_config"] = quant
    if (placement := device_map(kind)) is not None:
        kwargs["device_map"] = placement
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    model = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
    disable_cpu_weight_repacking(model)
    model.config.use_cache = False  # training; packed rows also need it (the cache breaks packing)
    if for_training:
        checkpointing = {"use_reentrant": False}
        # Sharded QLoRA keeps every weight in the storage dtype: casting norms and embeddings to fp32
        # (what prepare_model_for_kbit_training does) would give FSDP/ZeRO-3 mixed dtypes to flatten.
        if settings.load_in_4bit and kind not in SHARDED:
            from peft import prepare_model_for_kbit_training

            model = prepare_model_for_kbit_training(
                model, use_gradient_checkpointing=settings.gradient_checkpointing,
                gradient_checkpointing_kwargs=checkpointing)
        elif settings.gradient_checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=checkpointing)
            model.enable_input_require_grads()
    return model


def lora_config(lora: LoraSettings) -> Any:
    from peft import LoraConfig

    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                      target_modules=lora.target_modules, bias="none", task_type="CAUSAL_LM")


def add_lora(model: Any, lora: LoraSettings, key: str = "train: lora.target_modules") -> Any:
    """A fresh trainable LoRA adapter on every targeted Linear (``all-linear``: all but the lm_head).

    Listed target modules are checked against the model's Linear layers first, so a wrong name fails
    as a params error naming ``key`` rather than as peft's ValueError deep in the stage.
    """
    import torch
    from peft import get_peft_model

    linear = (name for name, module in model.named_modules() if isinstance(module, torch.nn.Linear))
    check_target_modules(lora.target_modules, linear, key)

    # peft upcasts bf16 adapters to fp32 by default (steadier updates); sharded engines need one dtype
    return get_peft_model(model, lora_config(lora), autocast_adapter_dtype=launch_kind() not in SHARDED)


def load_adapter(model: Any, adapter_dir: str | Path, trainable: bool) -> Any:
    """A saved adapter on ``model`` (DPO continues an SFT adapter: ``trainable=True``)."""
    from peft import PeftModel

    from shoplm.modeling.integrity import check_weights

    check_weights(adapter_dir)
    return PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=trainable)
