"""Training renders its questions through the same prompt plan as evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoplm.params.generation import PromptSettings
from shoplm.shopbench.answers import render_gold
from shoplm.shopbench.prompting.examples import ExampleSet
from shoplm.shopbench.prompting.strategies import PromptPlan
from shoplm.shopbench.records import load_questions
from shoplm.training.examples import IGNORE_INDEX, question_messages, tokenize_messages, tokenize_questions

SAMPLE = load_questions(Path(__file__).resolve().parents[2] / "data/sample/shopbench/questions.jsonl")
MC = [q for q in SAMPLE if q.task_type == "multiple-choice"]


@pytest.fixture(scope="module")
def tokenizer(tiny_base_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_base_dir)


def test_training_prompt_equals_the_evaluation_prompt_plus_the_answer():
    from shoplm.inference.generation import build_requests
    from shoplm.params.generation import GenerationSettings

    for strategy in ("task-type", "plain", "cot"):
        settings = PromptSettings().uniform(strategy)
        plan = PromptPlan(settings)
        (request,) = build_requests(MC[:1], GenerationSettings(prompts=settings), classify=False)
        messages = question_messages(MC[0], prompts=plan)
        assert messages[:-1] == request.messages, strategy
    assert question_messages(MC[0], prompts=PromptPlan(PromptSettings().uniform("cot")))[-1]["content"] == \
        f"Answer: {render_gold(MC[0])}"  # what the cot reader takes back out


def test_k_shot_training_labels_only_the_questions_answer(tokenizer):
    plan = PromptPlan(PromptSettings().uniform("k-shot"), ExampleSet(SAMPLE))  # examples from the training set
    messages = question_messages(MC[0], prompts=plan)
    assert len(messages) == 2 + 2 * 2 + 1 and MC[0].input_field.strip() not in [m["content"] for m in messages[1:-2]]
    example = tokenize_messages(tokenizer, messages)
    labelled = [t for t, label in zip(example.input_ids, example.labels) if label != IGNORE_INDEX]
    assert tokenizer.decode(labelled) == render_gold(MC[0]) + "<|im_end|>"  # not the examples' answers
    default = tokenize_questions(tokenizer, MC, max_seq_len=4096)
    assert tokenize_questions(tokenizer, MC, max_seq_len=4096, prompts=plan).tokens > default.tokens
