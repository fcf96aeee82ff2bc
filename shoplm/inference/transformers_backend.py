"""Batched greedy generation with Hugging Face transformers (+ an optional peft LoRA adapter).

The reference backend: it runs the tiny CPU model in tests and any local model dir on a GPU, and the
4-bit model of a package where vLLM has no kernel for it. It decodes under ``evaluate.constraints`` as
the vLLM backend does: the same plan per request (``shoplm.inference.constraints``), applied through
transformers' ``LogitsProcessor`` hook (``shoplm.inference.hf_logits_processors``). torch, transformers
and peft are imported when a backend is built, not when this module is imported, so the registry stays
cheap to load.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shoplm.inference.backends import (
    ConstraintsRefused,
    GenerationBackend,
    GenerationRequest,
    encode_prompt,
    model_options,
    plan_batches,
    register_backend,
    turn_stop_token_ids,
)
from shoplm.inference.constraints import plan_constraints
from shoplm.params.serving import ConstraintSettings

DTYPES = ("float32", "bfloat16", "float16", "auto")


def _resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _resolve_dtype(dtype: str, device: str) -> Any:
    import torch

    if dtype not in DTYPES:
        raise ValueError(f"Unknown dtype {dtype!r}; known: {', '.join(DTYPES)}")
    if dtype == "auto":
        # T4s (the competition's GPUs) have no bfloat16: fall back to float16 there; float32 on CPU,
        # where half precision is slow and changes greedy outputs.
        if not device.startswith("cuda"):
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return getattr(torch, dtype)


def _same_dir(a: str | os.PathLike[str] | None, b: str | os.PathLike[str] | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return Path(a).resolve() == Path(b).resolve()


@register_backend("transformers", "hf")
class TransformersBackend(GenerationBackend):
    """``AutoModelForCausalLM`` + ``AutoTokenizer`` from ``model_dir``; LoRA from ``adapter_dir``.

    Requests are grouped by task type (and token limit), sorted by length, left-padded and decoded
    greedily (``do_sample=False``) until an end-of-turn token or ``max_new_tokens``, under
    ``constraints`` (None: unconstrained). Per-request adapters other than the one loaded here are the
    vLLM backend's job and are refused.
    """

    @classmethod
    def options_from(cls, evaluate: Any) -> dict[str, Any]:
        """Every model backend's options and the constraints."""
        return {**model_options(evaluate), "constraints": evaluate.constraints.model_dump(mode="json")}

    def __init__(
        self,
        model_dir: str | os.PathLike[str],
        adapter_dir: str | os.PathLike[str] | None = None,
        *,
        dtype: str = "float32",
        device: str = "auto",
        batch_size: int = 16,
        max_input_tokens: int = 3072,
        merge_adapter: bool = False,
        constraints: ConstraintSettings | Mapping[str, Any] | None = None,
        show_progress: bool = True,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self._grammars: Any = None  # the answer shapes compiled for this tokenizer, on the first shaped batch
        # Mappings are what options_from writes into a submission package's JSON. Checked before the model loads.
        self.constrain(ConstraintSettings.model_validate(constraints) if constraints is not None
                       else ConstraintSettings.off())
        self.device = _resolve_device(device)
        self.dtype = _resolve_dtype(dtype, self.device)
        self.batch_size = batch_size
        self.max_input_tokens = max_input_tokens
        self.show_progress = show_progress
        self.adapter_dir = None if adapter_dir is None else str(adapter_dir)

        from shoplm.modeling.integrity import check_weights

        for folder in (model_dir, self.adapter_dir):
            if folder is not None:
                check_weights(folder)
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=self.dtype)
        if self.adapter_dir is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, self.adapter_dir)
            if merge_adapter:  # one matmul per layer instead of three; same outputs up to rounding
                model = model.merge_and_unload()
        self.model = model.to(self.device).eval()
        self.eos_token_ids = self._stop_token_ids()
        self.pad_token_id = self._pad_token_id()
        self._torch = torch

    # -------------------------------------------------------------------------------------- setup

    def _stop_token_ids(self) -> list[int]:
        return turn_stop_token_ids(self.tokenizer, getattr(self.model.generation_config, "eos_token_id", None))

    def _pad_token_id(self) -> int:
        # Padding tokens sit left of the prompt under a zero attention mask, so any id works; the
        # tokenizer's pad (Qwen2: <|endoftext|>) is preferred, eos is the usual fallback.
        for candidate in (self.tokenizer.pad_token_id, getattr(self.model.generation_config, "pad_token_id", None)):
            if candidate is not None:
                return int(candidate)
        return self.eos_token_ids[0]

    def constrain(self, constraints: ConstraintSettings) -> None:
        """Decode later requests under ``constraints`` (``ConstraintSettings.off()``: unconstrained)."""
        if constraints.structured and importlib.util.find_spec("xgrammar") is None:
            raise ConstraintsRefused(
                f"backend {self.name} cannot honour evaluate.constraints: structured {constraints.structured} "
                "without xgrammar, which it matches answer shapes with (pip install xgrammar)")
        self.constraints = None if constraints.is_off else constraints

    def _processors(self, requests: Sequence[GenerationRequest], start: int) -> Any:
        """The batch's ``LogitsProcessorList`` under ``self.constraints``; None when nothing constrains it."""
        if self.constraints is None:
            return None
        plans = [plan_constraints(request, self.constraints, self.tokenizer) for request in requests]
        if not any(plan.active for plan in plans):
            return None
        from transformers import LogitsProcessorList

        from shoplm.inference.hf_logits_processors import ConstrainedDecoding, ShapeGrammars

        if self._grammars is None and any(plan.shape is not None for plan in plans):
            self._grammars = ShapeGrammars(self.tokenizer, self.model.config.vocab_size, self.eos_token_ids)
        return LogitsProcessorList([ConstrainedDecoding(plans, start, self.eos_token_ids, self._grammars)])

    # -------------------------------------------------------------------------------------- generate

    def encode(self, request: GenerationRequest) -> list[int]:
        """Prompt token ids: chat template with the assistant header, user turn cut to fit."""
        return encode_prompt(self.tokenizer, request, self.max_input_tokens)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]:
        from tqdm.auto import tqdm
        from transformers import GenerationConfig

        for request in requests:
            if request.adapter is not None and not _same_dir(request.adapter, self.adapter_dir):
                raise NotImplementedError(
                    f"request asks for adapter {request.adapter!r} but this transformers backend holds "
                    f"{self.adapter_dir!r}; per-request LoRA needs the vllm backend (or one backend per adapter)"
                )
        encoded = [self.encode(r) for r in requests]
        batches = plan_batches(requests, self.batch_size, [len(ids) for ids in encoded])
        outputs: list[str | None] = [None] * len(requests)
        torch = self._torch
        for batch in tqdm(batches, desc="generate", unit="batch", disable=not self.show_progress):
            width = max(len(encoded[i]) for i in batch)
            # Left padding: every prompt ends at the same column, so the new tokens of all rows
            # start at ``width`` and generation continues each prompt from its real last token.
            input_ids = torch.tensor(
                [[self.pad_token_id] * (width - len(encoded[i])) + encoded[i] for i in batch], device=self.device
            )
            attention_mask = torch.tensor(
                [[0] * (width - len(encoded[i])) + [1] * len(encoded[i]) for i in batch], device=self.device
            )
            # Chat checkpoints ship sampling defaults (Qwen2-Instruct: temperature 0.7, top_p 0.8,
            # top_k 20, repetition_penalty 1.05) and transformers fills every field left None from
            # them. Sampling knobs are inert without do_sample, but the repetition penalty and a
            # minimum length would still change greedy output, so those are pinned to neutral.
            config = GenerationConfig(
                do_sample=False,
                num_beams=1,
                repetition_penalty=1.0,
                no_repeat_ngram_size=0,
                min_new_tokens=0,
                max_new_tokens=requests[batch[0]].max_new_tokens,
                eos_token_id=self.eos_token_ids,
                pad_token_id=self.pad_token_id,
            )
            with torch.inference_mode():
                generated = self.model.generate(
                    input_ids=input_ids, attention_mask=attention_mask, generation_config=config,
                    logits_processor=self._processors([requests[i] for i in batch], width),
                )
            for row, index in enumerate(batch):
                new_tokens = generated[row, width:].tolist()
                # Cut at the first stop token: finished rows are filled with padding afterwards.
                stop = next((k for k, t in enumerate(new_tokens) if t in self.eos_token_ids), len(new_tokens))
                new_tokens = new_tokens[:stop]
                outputs[index] = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        return [text if text is not None else "" for text in outputs]

    def close(self) -> None:
        if getattr(self, "model", None) is None:
            return
        self.model = None
        if self._torch.cuda.is_available():
            self._torch.cuda.empty_cache()
