"""The transformers backend decodes under ``evaluate.constraints`` as the vLLM backend does, on the tiny
model: every constrained answer of every sample and development question fits its shape and parses
under the official rules (unconstrained, many do not), banned words are never written, the prompt boost
moves extraction answers toward the question's own tokens, and with vLLM installed the answers equal
the vLLM backend's, one by one. The logits processor itself is checked step by step without a model.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from shoplm.inference import constraints as constraints_module
from shoplm.inference import create_backend
from shoplm.inference.answer_shapes import SHAPES, answer_shape
from shoplm.inference.backends import ConstraintsRefused
from shoplm.inference.constraints import ConstraintPlan, answer_kind, end_of_turn_ids, load_wording, prompt_token_ids
from shoplm.inference.generation import build_requests
from shoplm.params.serving import ConstraintSettings
from shoplm.shopbench.parsers import is_parse_failure, parse
from tests.inference.constraint_questions import question_sets

pytestmark = pytest.mark.slow  # a tiny model generating under constraints: outside make test-fast

torch = pytest.importorskip("torch")
pytest.importorskip("xgrammar", reason="the transformers backend matches answer shapes with xgrammar")

QUESTIONS = [q for questions in question_sets().values() for q in questions]
FREE_TEXT = ("named_entity_recognition", "keyphrase", "generation")


@pytest.fixture(scope="module")
def backend(tiny_base_dir):
    # As a package builds it: the options are plain JSON (models/shoplm_package.json).
    with create_backend("transformers", model_dir=tiny_base_dir, batch_size=16, device="cpu", show_progress=False,
                        constraints=ConstraintSettings().model_dump(mode="json")) as backend:
        yield backend


def generate(backend, requests, settings):
    backend.constrain(settings)
    return backend.generate(requests)


@pytest.fixture(scope="module")
def requests():
    return build_requests(QUESTIONS)


@pytest.fixture(scope="module")
def constrained(backend, requests):
    return generate(backend, requests, ConstraintSettings())


def _parse_failures(texts):
    return [(q.task_name, text) for q, text in zip(QUESTIONS, texts) if is_parse_failure(q.task_type, parse(q.task_type, text))]


def test_every_constrained_answer_fits_its_shape_and_parses(backend, requests, constrained) -> None:
    plain = generate(backend, requests, ConstraintSettings.off())
    shaped, unfit = 0, 0
    for question, request, text, free in zip(QUESTIONS, requests, constrained, plain):
        if request.task_type in SHAPES:
            shaped += 1
            shape = answer_shape(request.task_type, request.user_content)
            assert shape.accepts(text), (question.task_name, shape.description, text)
            unfit += not shape.accepts(free)
    failures = _parse_failures(constrained)
    print(f"\n{len(QUESTIONS)} questions, {shaped} shaped ({unfit} of them out of shape unconstrained); parse "
          f"failures {len(_parse_failures(plain))} unconstrained, {len(failures)} constrained")
    assert not failures, failures
    assert shaped == sum(q.task_type in SHAPES for q in QUESTIONS)
    assert unfit >= 10  # the tiny model unconstrained: the shapes are what holds these answers to them


def test_suppressed_words_are_never_written(backend, requests, monkeypatch) -> None:
    # As in the vLLM test: the word the tiny model writes most unconstrained is banned, then None/none.
    free = [r for r in requests if answer_kind(r) in FREE_TEXT]
    plain = generate(backend, free, ConstraintSettings.off())
    word, count = Counter(w.lower() for t in plain for w in re.findall(r"[A-Za-z]{4,}", t)).most_common(1)[0]
    assert count >= 5, (word, count)
    suppress = ConstraintSettings(structured=[], prompt_boost={})
    for text in generate(backend, free, suppress):
        assert not re.search(r"\bnone\b", text, re.IGNORECASE), text
    wording = load_wording().model_copy(update={"suppressed_words": [word, word.capitalize()]})
    monkeypatch.setattr(constraints_module, "load_wording", lambda: wording)
    for text in generate(backend, free, suppress):
        assert not re.search(rf"\b{word}\b", text, re.IGNORECASE), (word, text)


def test_prompt_boost_moves_answers_toward_the_question_tokens(backend, requests) -> None:
    tokenizer, wording = backend.tokenizer, load_wording()
    extract = [r for r in requests if answer_kind(r) in ("named_entity_recognition", "keyphrase")]
    sources = [prompt_token_ids(tokenizer, r.user_content, wording) - end_of_turn_ids(tokenizer) for r in extract]

    def copied_share(settings) -> float:
        answers = tokenizer(generate(backend, extract, settings), add_special_tokens=False)["input_ids"]
        tokens = [i in source for ids, source in zip(answers, sources) for i in ids]
        return sum(tokens) / max(len(tokens), 1)

    off = copied_share(ConstraintSettings.off())
    on = copied_share(ConstraintSettings(structured=[], suppress_none=[]))  # the default boost alone
    print(f"\nshare of answer tokens taken from the question: boost off {off:.2f}, on {on:.2f}")
    assert on > off + 0.1


@pytest.mark.slow
@pytest.mark.vllm
def test_answers_equal_the_vllm_backends_under_the_same_constraints(vllm_engine, tiny_base_dir, requests,
                                                                    constrained) -> None:
    engine = vllm_engine(tiny_base_dir, dtype="float32")
    try:
        engine.constrain(ConstraintSettings())
        expected = engine.generate(requests)
    finally:
        engine.sampling_overrides, engine.constraints = None, None  # the session's engine as other tests expect it
    differ = [(q.task_name, a, b) for q, a, b in zip(QUESTIONS, constrained, expected) if a != b]
    print(f"\ntransformers vs vllm, constrained fp32 greedy: {len(QUESTIONS) - len(differ)}/{len(QUESTIONS)} identical")
    assert not differ, differ


def test_structured_constraints_without_xgrammar_are_refused_before_the_model_loads(tiny_base_dir, monkeypatch):
    from shoplm.inference import transformers_backend

    monkeypatch.setattr(transformers_backend.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(transformers_backend, "_resolve_device", lambda device: pytest.fail("the model loaded"))
    with pytest.raises(ConstraintsRefused, match=r"backend transformers cannot honour evaluate.constraints: "
                                                 r"structured \['multiple-choice', 'ranking', 'retrieval'\] without xgrammar"):
        create_backend("transformers", model_dir=tiny_base_dir, constraints=ConstraintSettings())


# ---- the logits processor, step by step (the tiny model's tokenizer, no model) ------------------------


def test_the_processor_masks_each_row_by_its_own_plan(backend) -> None:
    from shoplm.inference.hf_logits_processors import ConstrainedDecoding, ShapeGrammars

    tokenizer, stop = backend.tokenizer, backend.eos_token_ids
    vocab = backend.model.config.vocab_size
    digit = {d: tokenizer.convert_tokens_to_ids(d) for d in "0123"}
    shape = answer_shape("multiple-choice", "Pick one.\n0. a\n1. b\n2. c\n3. d\nAnswer:")
    plans = [ConstraintPlan("multiple-choice", shape), ConstraintPlan("generation", banned=((5,), (7, 8))),
             ConstraintPlan("keyphrase", logit_bias={9: 2.5}), ConstraintPlan("generation")]
    processor = ConstrainedDecoding(plans, start=2, stop_token_ids=stop,
                                    grammars=ShapeGrammars(tokenizer, vocab, stop))

    def step(answers):
        input_ids = torch.tensor([[0, 0, *answer] for answer in answers])
        return processor(input_ids, torch.zeros(len(answers), vocab))

    scores = step([[], [], [], []])
    assert sorted(scores[0].isfinite().nonzero().flatten().tolist()) == sorted(digit.values())  # an option index
    assert scores[1].isinf().nonzero().flatten().tolist() == [5]  # 8 only after 7
    assert scores[2][9] == 2.5 and scores[2].count_nonzero() == 1
    assert scores[3].count_nonzero() == 0  # unconstrained
    scores = step([[digit["2"]], [7], [9], [3]])
    assert sorted(scores[0].isfinite().nonzero().flatten().tolist()) == sorted(stop)  # complete: end of turn only
    assert scores[1].isinf().nonzero().flatten().tolist() == [5, 8]
    scores = step([[digit["2"], stop[0]], [7, stop[0]], [9, 4], [3, 3]])
    assert not scores[0].isinf().any() and not scores[1].isinf().any()  # finished rows are left to generate
