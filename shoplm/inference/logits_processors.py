"""vLLM v1 logits processors (class based, engine wide, switched on per request by ``extra_args``).

``BannedSequencesLogitsProcessor`` bans token sequences the way vLLM's ``bad_words`` does (the last
token of a sequence is masked when the answer has just written the rest of it), but for sequences
given as token ids. ``bad_words`` cannot ban what it should here: it strips the word, tokenizes it
with and without a leading space, and keeps the spaced form only when it has as many tokens as the
bare one. On shoplm's tiny Qwen2 tokenizer "that" is two tokens and " that" one, so " that" stayed
allowed and was written. ``shoplm.inference.constraints`` tokenizes every form itself and passes the
ids, so each form is banned whatever its length.

The engine must be built with the classes of ``LOGITS_PROCESSORS`` (``vllm.LLM(logits_processors=...)``);
vllm is imported only by this module, which callers import when they build an engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from vllm import SamplingParams
from vllm.v1.sample.logits_processor import BatchUpdate, LogitsProcessor
from vllm.v1.sample.logits_processor.builtin import process_dict_updates

from shoplm.inference.constraints import BANNED_SEQUENCES, banned_next_tokens


def banned_sequences(params: SamplingParams) -> list[list[int]] | None:
    """The request's banned sequences, or None when it asks for none."""
    value = (params.extra_args or {}).get(BANNED_SEQUENCES)
    return [list(sequence) for sequence in value] if value else None


class BannedSequencesLogitsProcessor(LogitsProcessor):
    """Masks the last token of each banned sequence whose other tokens the answer has just written."""

    def __init__(self, vllm_config: Any, device: torch.device, is_pin_memory: bool) -> None:
        # Batch row → (banned sequences, the request's output ids: a live list vLLM keeps appending to).
        self.rows: dict[int, tuple[list[list[int]], list[int]]] = {}

    @classmethod
    def validate_params(cls, sampling_params: SamplingParams) -> None:
        value = (sampling_params.extra_args or {}).get(BANNED_SEQUENCES)
        if value is None:
            return
        if not isinstance(value, Sequence) or not all(
            isinstance(seq, Sequence) and seq and all(isinstance(i, int) and i >= 0 for i in seq) for seq in value
        ):
            raise ValueError(f"extra_args[{BANNED_SEQUENCES!r}] must be a list of non-empty token-id lists")

    def is_argmax_invariant(self) -> bool:
        return False  # a ban changes the greedy choice whenever the banned token was the best one

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        process_dict_updates(
            self.rows, batch_update,
            lambda params, _prompt, output: (seqs, output) if (seqs := banned_sequences(params)) else None)

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        for row, (sequences, output) in self.rows.items():
            for token in banned_next_tokens(sequences, output):
                logits[row, token] = float("-inf")
        return logits


LOGITS_PROCESSORS: list[type[LogitsProcessor]] = [BannedSequencesLogitsProcessor]
