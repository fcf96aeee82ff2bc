"""Params ``evaluate.vllm``: how the vLLM offline engine is started (memory, parallelism, caching).

These are engine settings, fixed for the engine's life; what varies per request (the token limit, a
LoRA adapter, constrained decoding) travels with each ``GenerationRequest``. The defaults suit one
machine and a model that fits it; a real profile sets ``tensor_parallel_size`` (4 for 72B AWQ on 4×T4)
through ``evaluate.tensor_parallel_size``, which the params loader already checks against the model.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PositiveInt


class VLLMSettings(BaseModel):
    """Engine arguments of ``vllm.LLM`` that a profile may need to change."""

    model_config = ConfigDict(extra="forbid")

    gpu_memory_utilization: float = Field(
        0.90, gt=0, le=1, description="Share of each GPU's memory vLLM may take (weights + KV cache).")
    max_model_len: PositiveInt | None = Field(
        None, description="Longest prompt + answer in tokens; null: generation.max_input_tokens plus the "
        "largest max_new_tokens (the winner used 3072). Smaller leaves more room for the KV cache.")
    max_num_seqs: PositiveInt = Field(
        64, description="Sequences decoded together; the engine's own batch (the winner's 16 was per task type).")
    enforce_eager: bool = Field(
        False, description="Skip torch.compile and graph capture: the engine starts about 30 s sooner on CPU "
        "and runs 7-20% slower (tests use it).")
    enable_prefix_caching: bool = Field(
        True, description="Reuse the KV cache of shared prompt prefixes (the system prompt of a task type). "
        "Turn off when timing: repeated prompts then look about 2x faster than they are.")
    enable_lora: bool = Field(
        False, description="Serve LoRA adapters named per request. On by itself when a stage passes an "
        "adapter; costs some throughput, so off otherwise.")
    max_lora_rank: PositiveInt = Field(
        64, description="Largest LoRA rank a per-request adapter may have (raised to the loaded adapter's r).")
    max_loras: PositiveInt = Field(2, description="Adapters resident at once when requests name several.")
    cpu_kvcache_space_gib: PositiveInt | None = Field(
        4, description="CPU builds only: KV cache size in GiB (VLLM_CPU_KVCACHE_SPACE). An environment "
        "variable already set wins, so a shared machine can cap it; null: vLLM's default.")
    cpu_threads_bind: str = Field(
        "auto", description="CPU builds only: cores the engine computes on (VLLM_CPU_OMP_THREADS_BIND), e.g. "
        "'0-1'. 'auto' leaves one core free, so on 2 cores it computes on one, at about half the speed. "
        "An environment variable already set wins.")
    seed: int = Field(0, description="Engine seed (greedy decoding does not use it; sampling would).")
