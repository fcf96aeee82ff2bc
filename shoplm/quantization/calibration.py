"""Calibration prompts: evaluation questions rendered exactly as the model will see them at inference.

AWQ and GPTQ fit the quantization to the activations of their calibration data, so the prompts use the
project's real chat prompt (system prompt per predicted task type, chat template, generation header)
through the same ``build_requests`` the evaluation uses; seed 003 calibrated on the development set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shoplm.inference.generation import build_requests
from shoplm.params.generation import GenerationSettings
from shoplm.shopbench.prompts import encode_chat


def calibration_token_ids(questions: Sequence[Any], tokenizer: Any, samples: int, max_seq_len: int) -> list[list[int]]:
    """Token ids of the first ``samples`` questions' chat prompts, each cut to ``max_seq_len``."""
    requests = build_requests(list(questions)[:samples], GenerationSettings(), classify=True)
    ids = []
    for request in requests:  # special tokens from the chat template only, as at inference
        ids.append(encode_chat(tokenizer, request.messages, add_generation_prompt=True)[:max_seq_len])
    if not ids:
        raise ValueError("no calibration questions")
    return ids


def calibration_dataset(token_ids: list[list[int]]) -> Any:
    """The ids as a ``datasets.Dataset`` that llm-compressor's ``oneshot`` accepts as-is (pre-tokenized)."""
    from datasets import Dataset

    return Dataset.from_dict({"input_ids": token_ids, "attention_mask": [[1] * len(ids) for ids in token_ids]})
