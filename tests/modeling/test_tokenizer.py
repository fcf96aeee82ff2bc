"""The byte-level BPE: round trips, one token per digit, special tokens, and the answer-only mask."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from shoplm.shopbench.prompts import build_messages
from data.generators.corpus import generate_documents
from shoplm.modeling.tokenizer import train_tokenizer

TEXTS = [
    "Northwind Women's Wool Socks, Navy, Pack of 3",
    "Answer: 1,3,5\n[6, 9, 15]\n['mens', 'nestle']",
    "  leading spaces, tabs\tand\n\nblank lines  ",
    "Prix: 12,99 € — café crème, 日本語のタイトル, emoji 🛒",
    "<|im_start|>user\nhi<|im_end|>\n<|endoftext|>",
]
ANSWERS = {
    "multiple-choice": "2",
    "ranking": "3,1,2,5,4",
    "retrieval": "4,9,12",
    "named_entity_recognition": "['navy', 'bluepeak']",
    "generation": "A coffee grinder is a small appliance that crushes roasted beans.",
}


@pytest.fixture(scope="module")
def tokenizer(tiny_base_dir) -> PreTrainedTokenizerFast:
    return AutoTokenizer.from_pretrained(tiny_base_dir)


@pytest.mark.parametrize("text", TEXTS)
def test_round_trip(tokenizer, text) -> None:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text


@pytest.mark.parametrize("text", ["1,3,5", "12345", "[6, 9, 15]", "Pack of 24", "$102.26", "0123456789"])
def test_every_digit_is_its_own_token(tokenizer, text) -> None:
    tokens = [tokenizer.decode([i]) for i in tokenizer(text, add_special_tokens=False)["input_ids"]]
    assert "".join(tokens) == text
    for token in tokens:
        assert not any(ch.isdigit() for ch in token) or len(token) == 1, tokens
    assert sum(t.isdigit() for t in tokens) == sum(ch.isdigit() for ch in text)


def test_special_tokens(tokenizer) -> None:
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")}
    assert ids == {"<|endoftext|>": 0, "<|im_start|>": 1, "<|im_end|>": 2}
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"
    assert tokenizer.bos_token is None
    assert tokenizer("<|im_start|>assistant\n2<|im_end|>", add_special_tokens=False)["input_ids"][0] == 1
    assert tokenizer("x", add_special_tokens=True)["input_ids"] == tokenizer("x", add_special_tokens=False)["input_ids"]
    assert 1000 <= len(tokenizer) <= 3072


@pytest.mark.parametrize("task_type", sorted(ANSWERS))
def test_assistant_mask_covers_exactly_the_answer(tokenizer, task_type) -> None:
    answer = ANSWERS[task_type]
    messages = build_messages("Question text\n0. a\n1. b\nAnswer: ", task_type, answer)
    out = tokenizer.apply_chat_template(messages, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    assert len(ids) == len(mask)
    masked = [i for i, m in zip(ids, mask) if m]
    assert tokenizer.decode(masked) == answer + "<|im_end|>"
    first = mask.index(1)  # the answer is one contiguous block right after "<|im_start|>assistant\n"
    assert tokenizer.decode(ids[:first]).endswith("<|im_start|>assistant\n")
    assert sum(mask) == len(masked) == mask[first:].index(0)


def test_assistant_mask_in_a_multi_turn_chat(tokenizer) -> None:
    messages = [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "1,2"},
                {"role": "user", "content": "q2"}, {"role": "assistant", "content": "['x']"}]
    out = tokenizer.apply_chat_template(messages, return_dict=True, return_assistant_tokens_mask=True)
    masked = [i for i, m in zip(out["input_ids"], out["assistant_masks"]) if m]
    assert tokenizer.decode(masked) == "1,2<|im_end|>['x']<|im_end|>"


def test_generation_prompt(tokenizer) -> None:
    ids = tokenizer.apply_chat_template(build_messages("Rank.", "ranking"), add_generation_prompt=True,
                                        return_dict=True)["input_ids"]
    assert tokenizer.decode(ids).endswith("<|im_end|>\n<|im_start|>assistant\n")


def test_training_is_deterministic() -> None:
    docs = generate_documents(seed=3, plain_docs=40, chat_docs=40)
    first, second = (train_tokenizer(docs, vocab_size=512) for _ in range(2))
    assert first.backend_tokenizer.to_str() == second.backend_tokenizer.to_str()
    assert len(first) <= 512


def test_pre_tokenizer_is_qwen2s() -> None:
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    from shoplm.modeling.tokenizer import QWEN2_SPLIT_REGEX

    assert QWEN2_SPLIT_REGEX == PRETOKENIZE_REGEX
