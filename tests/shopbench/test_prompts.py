"""Prompt construction: one layout for training and evaluation, rendered by the model's chat template."""

from __future__ import annotations

import pytest

from shoplm.registry import UnknownNameError
from shoplm.shopbench.prompts import (
    SYSTEM_PROMPT,
    build_messages,
    normalize_input,
    render_chat,
    system_prompt,
    truncate_messages,
)

QUESTION = "Which of the following fits?\n0. a \n1. b\nAnswer: "


def test_system_prompt_names_the_task_type() -> None:
    assert SYSTEM_PROMPT == "You are a helpful online shopping assistant. Your task is {task_type}."
    assert system_prompt("ranking") == "You are a helpful online shopping assistant. Your task is ranking."


def test_build_messages_for_inference_and_training() -> None:
    messages = build_messages(QUESTION, "multiple-choice")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"] == system_prompt("multiple-choice")
    assert messages[1]["content"] == "Which of the following fits?\n0. a\n1. b\nAnswer:"
    with_answer = build_messages(QUESTION, "multiple-choice", answer="1")
    assert with_answer[:2] == messages
    assert with_answer[2] == {"role": "assistant", "content": "1"}


def test_normalize_input_strips_trailing_spaces_only() -> None:
    assert normalize_input("  Output: \n x  y \t\nOutput: ") == "Output:\n x  y\nOutput:"


def test_unknown_task_type_suggests_the_closest() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'named_entity_recognition'"):
        build_messages("q", "named_entity_recogniton")
    with pytest.raises(UnknownNameError, match="unknown task type 'summarisation'.* Known: generation, "):
        system_prompt("summarisation")


@pytest.fixture(scope="module")
def tokenizer(tiny_base_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_base_dir))


def test_render_chat_is_chatml(tokenizer) -> None:
    messages = build_messages("Explain the product type Handbag\nOutput: ", "generation")
    prompt = render_chat(tokenizer, messages, add_generation_prompt=True)
    assert prompt.endswith(
        "<|im_start|>user\nExplain the product type Handbag\nOutput:<|im_end|>\n<|im_start|>assistant\n"
    )
    assert "<|im_start|>system\n" + system_prompt("generation") + "<|im_end|>" in prompt
    full = render_chat(tokenizer, build_messages("q", "generation", answer="A bag."), add_generation_prompt=False)
    assert full.rstrip("\n").endswith("<|im_start|>assistant\nA bag.<|im_end|>")


def test_render_chat_needs_a_template() -> None:
    class NoTemplate:
        chat_template = None

    with pytest.raises(ValueError, match="no chat_template"):
        render_chat(NoTemplate(), [{"role": "user", "content": "x"}], add_generation_prompt=True)


def _length(tokenizer, messages) -> int:
    text = render_chat(tokenizer, messages, add_generation_prompt=True)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def test_truncate_messages_keeps_head_and_tail(tokenizer) -> None:
    middle = " ".join(f"word{i}" for i in range(400))
    messages = build_messages(f"INSTRUCTION select 3 products.\n{middle}\nOutput:", "retrieval")
    full = _length(tokenizer, messages)
    budget = full // 2
    cut = truncate_messages(tokenizer, messages, budget)
    assert _length(tokenizer, cut) <= budget
    assert cut[1]["content"].startswith("INSTRUCTION select")
    assert cut[1]["content"].endswith("Output:")
    assert " ... " in cut[1]["content"]
    assert cut[0] == messages[0] and messages[1]["content"].startswith("INSTRUCTION")  # input untouched


def test_truncate_messages_leaves_short_prompts_alone(tokenizer) -> None:
    messages = build_messages("short question", "generation")
    assert truncate_messages(tokenizer, messages, 3072) is messages


def test_truncate_messages_refuses_an_impossible_budget(tokenizer) -> None:
    with pytest.raises(ValueError, match="no room"):
        truncate_messages(tokenizer, build_messages("a b c d e f g", "generation"), 3)
