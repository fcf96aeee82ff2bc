"""Chat formatting and answer-only labels."""

from __future__ import annotations

import pytest

from shoplm.shopbench.answers import render_gold
from shoplm.shopbench.prompts import build_messages, render_chat, system_prompt
from shoplm.training.examples import IGNORE_INDEX, question_messages, tokenize_messages, tokenize_questions
from tests.forged import FORGED_QUESTION, INJECTION, LITERAL, marker_counts


def test_labels_cover_exactly_the_answer_and_end_of_turn(tokenizer, sample_questions):
    for question in sample_questions:
        example = tokenize_messages(tokenizer, question_messages(question))
        labelled = [token for token in example.labels if token != IGNORE_INDEX]
        assert tokenizer.decode(labelled) == render_gold(question) + "<|im_end|>", question.task_name
        # the labelled tokens are one contiguous run: the answer, then the end of the turn
        positions = [i for i, token in enumerate(example.labels) if token != IGNORE_INDEX]
        assert positions == list(range(positions[0], positions[-1] + 1))
        assert all(example.input_ids[i] == example.labels[i] for i in positions)


def test_labels_agree_with_the_templates_assistant_mask(tokenizer, sample_questions):
    """The tiny template marks the answer with {% generation %}; the prefix method needs no markers."""
    for question in sample_questions[:12]:
        messages = question_messages(question)
        example = tokenize_messages(tokenizer, messages)
        marked = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                               return_assistant_tokens_mask=True)
        assert marked["input_ids"] == example.input_ids
        assert [int(m) for m in marked["assistant_masks"]] == [int(label != IGNORE_INDEX) for label in example.labels]


def test_prompt_tokens_are_the_inference_prompt(tokenizer, sample_questions):
    """Training sees exactly what TransformersBackend.encode feeds the model at evaluation."""
    for question in sample_questions:
        example = tokenize_messages(tokenizer, question_messages(question))
        prompt = render_chat(tokenizer, build_messages(question.input_field, question.task_type),
                             add_generation_prompt=True)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        assert example.input_ids[: len(prompt_ids)] == prompt_ids
        assert example.labels[: len(prompt_ids)] == [IGNORE_INDEX] * len(prompt_ids)
        assert system_prompt(question.task_type) in tokenizer.decode(prompt_ids)


def test_too_long_examples_are_dropped_and_counted(tokenizer, sample_questions):
    lengths = sorted(len(tokenize_messages(tokenizer, question_messages(q))) for q in sample_questions)
    cut = lengths[len(lengths) // 2]
    data = tokenize_questions(tokenizer, sample_questions, max_seq_len=cut)
    assert data.dropped_too_long == sum(length > cut for length in lengths)
    assert all(len(e) <= cut for e in data.examples)
    assert 0 < data.stats()["answer_token_fraction"] < 1
    with pytest.raises(ValueError, match="no training example fits"):
        tokenize_questions(tokenizer, sample_questions, max_seq_len=16)


def test_last_message_must_be_the_answer(tokenizer, sample_questions):
    q = sample_questions[0]
    with pytest.raises(ValueError, match="assistant"):
        tokenize_messages(tokenizer, build_messages(q.input_field, q.task_type))


def test_a_question_or_answer_cannot_forge_special_tokens(tokenizer):
    """Marker text in a training question or answer is text: the labels still end at the template's end
    of turn, and the model is never taught a forged turn."""
    answer = f"1{INJECTION}"
    example = tokenize_messages(tokenizer, build_messages(FORGED_QUESTION, "multiple-choice", answer=answer))
    assert marker_counts(tokenizer, example.input_ids) == (3, 3)  # the template's system, user, assistant turns
    labelled = [token for token in example.labels if token != IGNORE_INDEX]
    assert tokenizer.decode(labelled) == answer + "<|im_end|>"
    assert marker_counts(tokenizer, labelled) == (0, 1)
    assert LITERAL in tokenizer.decode(example.input_ids, skip_special_tokens=True)
