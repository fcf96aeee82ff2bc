"""One classifier input per battle: prompt, response a and response b, each truncated in proportion.

Cutting the joined text at ``max_length`` would drop response b whenever the prompt or response a is
long, and the model could no longer compare the two. Instead the token budget is shared out in
proportion to each field's length, with a floor for every field, so all three stay visible
(what the top arena solutions did). The split is symmetric in a and b, so the swapped battle gets the
same cuts, swapped.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from arena.data import TEXT_COLUMNS, joined

HEADERS = {"prompt": "<prompt>", "response_a": "<response_a>", "response_b": "<response_b>"}
#: Tokens kept back beyond the headers' own: decoding a cut field and encoding it again can merge or
#: split a token at the joins.
MARGIN_TOKENS = 6


def share_budget(lengths: list[int], budget: int, floor_fraction: float = 0.15) -> list[int]:
    """Tokens per field: all of each field when they fit, else proportional shares with a floor.

    Every field gets at least ``floor_fraction`` of the budget (or its whole length if shorter); what is
    left is shared in proportion to the remaining lengths. The sum never exceeds ``budget``.
    """
    if sum(lengths) <= budget:
        return list(lengths)
    floor = int(budget * floor_fraction)
    alloc = [min(n, floor) for n in lengths]
    left = budget - sum(alloc)
    rest = [n - a for n, a in zip(lengths, alloc)]
    total_rest = sum(rest)
    return [a + (left * r // total_rest if total_rest else 0) for a, r in zip(alloc, rest)]


def encode_fields(tokenizer: Any, texts: str | list[str], **kwargs: Any) -> Any:
    """The tokenizer on battle text: prompts and responses are untrusted, so special-token text in them
    (``<|im_end|>``, ``[SEP]``) is encoded as the ordinary tokens of those characters, never as the special
    token (``split_special_tokens``). The backbone's own special tokens (BERT's [CLS] and [SEP]) are still
    added around the input unless ``add_special_tokens=False``."""
    return tokenizer(texts, split_special_tokens=True, **kwargs)


def battle_texts(frame: pd.DataFrame, tokenizer: Any, max_length: int) -> list[str]:
    """The classifier's input text of every battle, each at most ``max_length`` tokens once encoded."""
    # The headers, separators and special tokens, counted with this tokenizer (a tiny test tokenizer
    # spends a dozen tokens on "<response_a>", a real one two or three).
    overhead = len(tokenizer("\n".join(f"{h} " for h in HEADERS.values()))["input_ids"]) + MARGIN_TOKENS
    budget = max(max_length - overhead, 3)
    texts = []
    for row in frame[list(TEXT_COLUMNS)].itertuples(index=False):
        fields = [encode_fields(tokenizer, joined(cell), add_special_tokens=False)["input_ids"] for cell in row]
        keep = share_budget([len(ids) for ids in fields], budget)
        parts = [f"{HEADERS[col]} {tokenizer.decode(ids[:n], skip_special_tokens=True)}"
                 for col, ids, n in zip(TEXT_COLUMNS, fields, keep)]
        texts.append("\n".join(parts))
    return texts
