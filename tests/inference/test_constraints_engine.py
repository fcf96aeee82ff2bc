"""Constrained decoding through a real vLLM engine on the tiny model: every output of every sample and
development question parses under the official rules, "None" cannot be written where it is banned,
and the prompt boost moves NER and keyphrase answers toward the question's own tokens.

The session's one engine (tests/inference/conftest.py), which loads the constraints' logits processors.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from shoplm.inference.answer_shapes import SHAPES, answer_shape
from shoplm.inference.constraints import (
    answer_kind,
    end_of_turn_ids,
    load_wording,
    prompt_token_ids,
    sampling_overrides_for,
)
from shoplm.inference.generation import build_requests
from shoplm.params.serving import ConstraintSettings
from shoplm.shopbench.parsers import is_parse_failure, parse
from shoplm.shopbench.prompts import render_chat, truncate_messages
from tests.inference.constraint_questions import question_sets

pytestmark = [pytest.mark.slow, pytest.mark.vllm]
MAX_INPUT_TOKENS = 3072
QUESTIONS = [q for questions in question_sets().values() for q in questions]


@pytest.fixture(scope="module")
def engine(vllm_engine, tiny_base_dir):
    """(vllm.LLM, tokenizer): the session's one engine on the tiny model (tests/inference/conftest.py)."""
    backend = vllm_engine(tiny_base_dir, dtype="float32")
    return backend.llm, backend.tokenizer


def generate(engine, requests, settings, wording=None):
    """Greedy completions (text, token ids) of ``requests`` under ``settings``, in request order."""
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    llm, tokenizer = engine
    overrides = sampling_overrides_for(settings, tokenizer, wording)
    stop = sorted(end_of_turn_ids(tokenizer))
    prompts, params = [], []
    for request in requests:
        messages = truncate_messages(tokenizer, request.messages, MAX_INPUT_TOKENS)
        text = render_chat(tokenizer, messages, add_generation_prompt=True)
        prompts.append(TokensPrompt(prompt_token_ids=tokenizer(text, add_special_tokens=False)["input_ids"]))
        params.append(SamplingParams(temperature=0.0, max_tokens=request.max_new_tokens, stop_token_ids=stop,
                                     **overrides(request)))
    outputs = llm.generate(prompts, params, use_tqdm=False)
    return [(out.outputs[0].text, list(out.outputs[0].token_ids)) for out in outputs]


@pytest.fixture(scope="module")
def requests():
    return build_requests(QUESTIONS)


@pytest.fixture(scope="module")
def constrained(engine, requests):
    return generate(engine, requests, ConstraintSettings())


def test_every_constrained_output_parses_under_the_official_rules(requests, constrained) -> None:
    failures, shaped = [], 0
    for question, request, (text, _ids) in zip(QUESTIONS, requests, constrained):
        parsed = parse(question.task_type, text)
        if is_parse_failure(question.task_type, parsed):
            failures.append((question.task_name, text))
        if request.task_type in SHAPES:
            shaped += 1
            shape = answer_shape(request.task_type, request.user_content)
            assert shape.accepts(text), (question.task_name, shape.description, text)
    print(f"\n{len(QUESTIONS)} questions, {shaped} shaped by the grammar, {len(failures)} parse failures")
    assert not failures, failures
    assert shaped == sum(q.task_type in SHAPES for q in QUESTIONS)


def test_suppressed_words_are_never_written(engine, requests) -> None:
    # The tiny model never says "None" by itself, so the ban is shown on the word it writes most often
    # unconstrained: without the ban it appears, with it never. Then the packaged words, None/none.
    free = [r for r in requests if answer_kind(r) in ("named_entity_recognition", "keyphrase", "generation")]
    plain = [text for text, _ in generate(engine, free, ConstraintSettings.off())]
    word, count = Counter(w.lower() for t in plain for w in re.findall(r"[A-Za-z]{4,}", t)).most_common(1)[0]
    assert count >= 5, (word, count)
    suppress = ConstraintSettings(structured=[], prompt_boost={})
    wording = load_wording().model_copy(update={"suppressed_words": [word, word.capitalize()]})
    for text, _ in generate(engine, free, suppress, wording=wording):
        assert not re.search(rf"\b{word}\b", text, re.IGNORECASE), (word, text)
    for text, _ in generate(engine, free, suppress):
        assert not re.search(r"\bnone\b", text, re.IGNORECASE), text


def test_prompt_boost_moves_answers_toward_the_question_tokens(engine, requests) -> None:
    _llm, tokenizer = engine
    wording = load_wording()
    extract = [r for r in requests if answer_kind(r) in ("named_entity_recognition", "keyphrase")]
    sources = [prompt_token_ids(tokenizer, r.user_content, wording) - end_of_turn_ids(tokenizer) for r in extract]

    def copied_share(settings) -> float:
        outputs = generate(engine, extract, settings)
        tokens = [(i in source) for (_, ids), source in zip(outputs, sources) for i in ids
                  if i not in end_of_turn_ids(tokenizer)]
        return sum(tokens) / max(len(tokens), 1)

    off = copied_share(ConstraintSettings.off())
    on = copied_share(ConstraintSettings(structured=[], suppress_none=[]))  # the default boost alone
    print(f"\nshare of answer tokens taken from the question: boost off {off:.2f}, on {on:.2f}")
    assert on > off + 0.1
