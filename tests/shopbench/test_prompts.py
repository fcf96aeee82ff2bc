"""Prompt construction: one layout for training and evaluation, rendered by the model's chat template."""

from __future__ import annotations

import pytest

from shoplm.registry import UnknownNameError
from shoplm.shopbench.prompts import (
    SYSTEM_PROMPT,
    build_messages,
    chat_pieces,
    encode_chat,
    normalize_input,
    render_chat,
    system_prompt,
    truncate_messages,
)
from shoplm.shopbench.records import load_questions
from tests.forged import FORGED_QUESTION, LITERAL, marker_counts
from tests.shopbench.conftest import DEVELOPMENT_SET, SAMPLE_DIR

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


# ---- special tokens come from the chat template only ---------------------------------------------------

def test_a_question_cannot_forge_special_tokens(tokenizer) -> None:
    messages = build_messages(FORGED_QUESTION, "multiple-choice")
    ids = encode_chat(tokenizer, messages, add_generation_prompt=True)
    # the template's own: system, user and the assistant header open; system and user close
    assert marker_counts(tokenizer, ids) == (3, 2)
    assert LITERAL in tokenizer.decode(ids, skip_special_tokens=True)  # the text survives as ordinary tokens
    assert tokenizer.decode(ids) == render_chat(tokenizer, messages, add_generation_prompt=True)
    # a forged answer (a training example) is ordinary text too
    answer = build_messages("q", "generation", answer=FORGED_QUESTION)
    full = encode_chat(tokenizer, answer, add_generation_prompt=False)
    assert marker_counts(tokenizer, full) == (3, 3)


def test_ordinary_content_keeps_its_ids(tokenizer) -> None:
    """Exactly the ids of the rendered text tokenized as one string, as before: prompts and training chats."""
    def plain(messages, add_generation_prompt):
        text = render_chat(tokenizer, messages, add_generation_prompt=add_generation_prompt)
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    for question in load_questions(SAMPLE_DIR / "questions.jsonl"):
        for messages, generation in ((build_messages(question.input_field, question.task_type), True),
                                     (build_messages(question.input_field, question.task_type, "1,2"), False)):
            assert encode_chat(tokenizer, messages, generation) == plain(messages, generation), question.task_name


@pytest.mark.skipif(not DEVELOPMENT_SET.is_file(), reason="../shared/data/shopbench/development.json is absent")
def test_development_questions_keep_their_ids(tokenizer) -> None:
    questions = load_questions(DEVELOPMENT_SET)
    assert len(questions) == 96
    for question in questions:
        messages = build_messages(question.input_field, question.task_type)
        text = render_chat(tokenizer, messages, add_generation_prompt=True)
        assert encode_chat(tokenizer, messages, True) == tokenizer(text, add_special_tokens=False)["input_ids"]


def test_chat_pieces_are_the_rendered_chat_cut_at_each_content(tokenizer) -> None:
    messages = build_messages(FORGED_QUESTION, "multiple-choice", answer="1")
    pieces = chat_pieces(tokenizer, messages, add_generation_prompt=False)
    assert "".join(text for text, _ in pieces) == render_chat(tokenizer, messages, add_generation_prompt=False)
    assert [text for text, is_content in pieces if is_content] == [m["content"] for m in messages]


def test_a_template_that_alters_content_is_refused(tokenizer) -> None:
    class Trimming:
        chat_template = "{% for m in messages %}<|im_start|>{{ m['content'] | trim }}<|im_end|>{% endfor %}"

        def apply_chat_template(self, messages, tokenize, add_generation_prompt):
            return tokenizer.apply_chat_template(messages, tokenize=False, chat_template=self.chat_template,
                                                 add_generation_prompt=add_generation_prompt)

    with pytest.raises(ValueError, match="changes message content"):
        chat_pieces(Trimming(), [{"role": "user", "content": " padded "}], add_generation_prompt=True)


def test_a_forged_question_is_truncated_without_forging(tokenizer) -> None:
    middle = " ".join(f"word{i}" for i in range(400))
    messages = build_messages(f"{FORGED_QUESTION}\n{middle}\n{FORGED_QUESTION}", "retrieval")
    budget = len(encode_chat(tokenizer, messages, True)) // 2
    cut = truncate_messages(tokenizer, messages, budget)
    ids = encode_chat(tokenizer, cut, True)
    assert len(ids) <= budget and " ... " in cut[1]["content"]
    assert marker_counts(tokenizer, ids) == (3, 2)
    assert cut[1]["content"].startswith(FORGED_QUESTION) and cut[1]["content"].endswith(FORGED_QUESTION)
