"""Constrained decoding without an engine: every shape built for a real question accepts its gold
answer, and everything a shape accepts parses under the official rules (checked by random walks
through the regex itself, plus adversarial strings); settings, answer kinds and the per-request plan."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from shoplm.inference.answer_shapes import (
    MAX_DISTINCT_CANDIDATES,
    SHAPES,
    answer_shape,
    numbered_candidates,
)
from shoplm.inference.constraints import (
    BANNED_SEQUENCES,
    ConstraintPlan,
    answer_kind,
    banned_sequences,
    boost_source,
    describe,
    load_wording,
    plan_constraints,
    prompt_token_ids,
    sampling_overrides_for,
)
from shoplm.inference.generation import build_requests
from shoplm.params.generation import DEFAULT_MAX_NEW_TOKENS
from shoplm.params.serving import ConstraintSettings
from shoplm.shopbench.parsers import is_parse_failure, parse
from shoplm.shopbench.prompts import normalize_input
from shoplm.shopbench.tasktype import classify_task_type
from tests.inference.constraint_questions import gold_answer, question_sets, random_matches

SETS = question_sets()
STRUCTURED = [
    pytest.param(question, id=f"{name}-{index}-{question.task_name}")
    for name, questions in SETS.items()
    for index, question in enumerate(questions)
    if question.task_type in SHAPES
]
WALKS = 200


def shape_of(question):
    """The shape the pipeline builds: from the PREDICTED task type and the prompt as the model sees it."""
    predicted = classify_task_type(question.input_field, question.is_multiple_choice)
    return answer_shape(predicted, normalize_input(question.input_field))


def test_both_question_sets_are_checked() -> None:
    # The development set lives in ../shared (CI has it); without it only the sample set is checked.
    if "development" not in SETS:
        pytest.skip("../shared/data/shopbench/development.json is absent")
    assert len(SETS["development"]) == 96 and len(SETS["sample"]) == 36


@pytest.mark.parametrize("question", STRUCTURED)
def test_shape_accepts_the_gold_answer(question) -> None:
    assert shape_of(question).accepts(gold_answer(question))


@pytest.mark.parametrize("question", STRUCTURED)
def test_everything_the_shape_accepts_parses(question) -> None:
    shape, rng = shape_of(question), random.Random(question.input_field)
    answers = list(shape.choice) if shape.choice else random_matches(shape.regex, rng, WALKS)
    candidates = numbered_candidates(normalize_input(question.input_field))
    for text in answers:
        parsed = parse(question.task_type, text)
        assert not is_parse_failure(question.task_type, parsed), text
        assert len(text) <= shape.max_chars <= DEFAULT_MAX_NEW_TOKENS[question.task_type]
        if question.task_type == "ranking":  # nothing dropped: every number is a candidate 1-5, once
            assert len(parsed) == len(text.split(",")) == len(set(parsed)) == min(5, len(candidates))
        if question.task_type == "retrieval":  # three distinct numbers of the list
            assert len(parsed) == len(set(parsed)) == 3 and set(parsed) <= set(candidates)


@pytest.mark.parametrize("question", STRUCTURED)
def test_shape_rejects_what_the_parser_would_fail_or_score_lower(question) -> None:
    shape = shape_of(question)
    always_bad = ["", "None", "none", "Answer: 1", " 1", "1 ", "(1)", "1,1,2", "1, 2, 3", "1\n2\n3", "[1,2,3]"]
    by_type = {
        "multiple-choice": ["10", "1.", "12", "a"],
        "ranking": ["1,2,3,4", "1,2,3,4,5,1", "0,1,2,3,4", "6,1,2,3,4", "1,2,3,4,4", "1,2,3,4,5,"],
        "retrieval": ["1,2", "1,2,3,4", "0,1,2", "1,2,2", f"{len(numbered_candidates(question.input_field)) + 1},1,2"],
    }
    for text in always_bad + by_type[question.task_type]:
        assert not shape.accepts(text), text


# ---------------------------------------------------------------------------------------------- shapes


def test_candidates_are_the_longest_numbered_run_not_stray_numbered_lines() -> None:
    text = ("Review: Great bag.\n2. strap broke\n3. zip fine\nAspect List:\n1.price\n2.scent\n3.fit\n"
            "4.noise\nOutput:")
    assert numbered_candidates(text) == [1, 2, 3, 4]
    assert numbered_candidates("1. only one\nOutput:") == []


def test_multiple_choice_falls_back_to_a_rating_scale_then_any_digit() -> None:
    rating = answer_shape("multiple-choice", "Evaluate the review on a scale of 1 to 5.\nAnswer:")
    assert rating.choice == ("1", "2", "3", "4", "5")
    assert answer_shape("multiple-choice", "Which one?\nAnswer:").choice == tuple("0123456789")
    # The parser reads one character: options 10 and 11 can never be answered, so they are left out.
    eleven = "\n".join(f"{n}. option" for n in range(12))
    assert answer_shape("multiple-choice", eleven).choice == tuple("0123456789")


def test_ranking_without_a_list_is_the_shopbench_permutation_of_one_to_five() -> None:
    shape = answer_shape("ranking", "Rank the products.\nOutput:")
    assert shape.accepts("5,4,3,2,1") and not shape.accepts("1,2,3")
    longer = answer_shape("ranking", "\n".join(f"{n}. item" for n in range(1, 8)))
    assert longer.accepts("5,1,2,3,4") and not longer.accepts("7,1,2,3,4")  # the parser drops > 5


def test_retrieval_shapes_for_short_huge_and_missing_lists() -> None:
    assert answer_shape("retrieval", "1. a\n2. b\nOutput:").accepts("2,1")  # fewer than three candidates
    huge = answer_shape("retrieval", "\n".join(f"{n}. item" for n in range(1, MAX_DISTINCT_CANDIDATES + 6)))
    assert huge.accepts("25,1,7") and not huge.accepts("26,1,7")
    assert huge.accepts("3,3,3")  # beyond MAX_DISTINCT_CANDIDATES distinctness is left to the model
    unknown = answer_shape("retrieval", "Pick three.\nOutput:")
    assert unknown.accepts("12,5,7") and not unknown.accepts("12,5") and not unknown.accepts("0,1,2")


def test_free_text_types_have_no_shape() -> None:
    with pytest.raises(LookupError, match="unknown structured answer shape 'generation'"):
        answer_shape("generation", "Explain.")


# ---------------------------------------------------------------------------------------------- settings


def test_settings_defaults_switches_and_errors() -> None:
    settings = ConstraintSettings()
    assert settings.structured == ["multiple-choice", "ranking", "retrieval"] and not settings.is_off
    assert ConstraintSettings.off().is_off and ConstraintSettings(prompt_boost={"keyphrase": 0.0},
                                                                  structured=[], suppress_none=[]).is_off
    assert describe(ConstraintSettings.off())["ranking"] == "unconstrained"
    assert describe(settings)["keyphrase"] == "no None/none; prompt tokens +2"
    with pytest.raises(ValidationError, match="Did you mean 'keyphrase'"):
        ConstraintSettings(prompt_boost={"keyphrases": 2.0})
    with pytest.raises(ValidationError, match="less than or equal to 100"):
        ConstraintSettings(prompt_boost={"keyphrase": 300})
    with pytest.raises(ValidationError, match="unknown structured answer shape 'generation'"):
        ConstraintSettings(structured=["generation"])


def test_wording_file_names_the_suppressed_words() -> None:
    wording = load_wording()
    assert wording.suppressed_words == ["None", "none"] and "Query:" in wording.source_labels


def test_keyphrase_questions_are_their_own_answer_kind() -> None:
    sample = SETS["sample"]
    for classify in (True, False):  # from the classifier's rule, or (gold types) asked again
        kinds = [answer_kind(r) for r in build_requests(sample, classify=classify)]
        assert [k for k, q in zip(kinds, sample) if q.task_name == "sample-task4"] == ["keyphrase"] * 3
        assert {k for k, q in zip(kinds, sample) if q.task_name == "sample-task1"} == {"generation"}


# ---------------------------------------------------------------------------------------------- plans


@pytest.fixture(scope="module")
def tokenizer(tiny_base_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_base_dir)


def sample_request(task_name: str):
    sample = SETS["sample"]
    index = next(i for i, q in enumerate(sample) if q.task_name == task_name)
    return build_requests(sample)[index]


def test_boost_covers_the_query_not_the_instruction(tokenizer) -> None:
    ner = sample_request("sample-task3")  # "... entity type 'brand' ... Query: nike running shoes men"
    wording = load_wording()
    assert boost_source(ner.user_content, wording).strip() == "nike running shoes men"
    ids = prompt_token_ids(tokenizer, ner.user_content, wording)
    assert set(tokenizer("nike", add_special_tokens=False)["input_ids"]) <= ids  # the answer's first word
    assert tokenizer.convert_tokens_to_ids("<|im_end|>") in ids  # ending stays as likely as copying
    assert not set(tokenizer(" brand", add_special_tokens=False)["input_ids"]) <= ids


def test_plans_per_answer_kind(tokenizer) -> None:
    settings = ConstraintSettings()
    mc = plan_constraints(sample_request("sample-task2"), settings, tokenizer)
    assert mc.shape.choice == ("0", "1", "2", "3") and not mc.banned and not mc.logit_bias
    ner = plan_constraints(sample_request("sample-task3"), settings, tokenizer)
    assert ner.kind == "named_entity_recognition" and ner.shape is None
    forms = [tuple(tokenizer(f, add_special_tokens=False)["input_ids"]) for f in ("None", " None", "none", " none")]
    assert set(ner.banned) == set(forms) and set(ner.logit_bias.values()) == {2.0}
    explain = plan_constraints(sample_request("sample-task1"), settings, tokenizer)
    assert explain.kind == "generation" and explain.banned and not explain.logit_bias
    with pytest.raises(ValueError, match="named_entity_recognition answers need the model's tokenizer"):
        plan_constraints(sample_request("sample-task3"), settings)
    assert plan_constraints(sample_request("sample-task2"), settings).shape  # a shape needs no tokenizer
    with pytest.raises(ValueError, match="suppress_none and prompt_boost need the model's tokenizer"):
        sampling_overrides_for(settings)


def test_switched_off_constraints_add_nothing_to_any_request() -> None:
    overrides = sampling_overrides_for(ConstraintSettings.off())
    assert all(overrides(r) == {} for questions in SETS.values() for r in build_requests(questions))


def test_plans_become_valid_vllm_sampling_params(tokenizer) -> None:
    vllm = pytest.importorskip("vllm", reason="the vLLM backend's sampling parameters need vllm")
    overrides = sampling_overrides_for(ConstraintSettings(), tokenizer)
    kinds = {}
    for request in build_requests(SETS["sample"]):
        kwargs = overrides(request)
        vllm.SamplingParams(max_tokens=request.max_new_tokens, **kwargs)  # validates every field
        kinds[answer_kind(request)] = kwargs
    assert kinds["multiple-choice"]["structured_outputs"].choice == ["0", "1", "2", "3"]
    assert kinds["ranking"]["structured_outputs"].regex.startswith("(?:1,(?:2,")
    assert set(kinds["named_entity_recognition"]) == {"extra_args", "logit_bias"}
    assert kinds["named_entity_recognition"]["extra_args"][BANNED_SEQUENCES] == [
        list(s) for s in banned_sequences(tokenizer, ["None", "none"])]
    assert ConstraintPlan("generation").sampling_kwargs() == {}


def test_banned_sequences_processor_masks_the_last_token_after_its_prefix() -> None:
    pytest.importorskip("vllm", reason="the logits processor is a vLLM class")
    import torch
    from vllm import SamplingParams
    from vllm.v1.sample.logits_processor import BatchUpdate

    from shoplm.inference.logits_processors import LOGITS_PROCESSORS, BannedSequencesLogitsProcessor

    assert LOGITS_PROCESSORS == [BannedSequencesLogitsProcessor]
    processor = BannedSequencesLogitsProcessor(None, torch.device("cpu"), False)
    banning = SamplingParams(extra_args={BANNED_SEQUENCES: [[5], [7, 8]]})
    outputs: list[list[int]] = [[], []]
    processor.update_state(BatchUpdate(batch_size=2, removed=[], moved=[],
                                       added=[(0, banning, None, outputs[0]), (1, SamplingParams(), None, outputs[1])]))
    logits = processor.apply(torch.zeros(2, 10))
    assert logits[0].isinf().nonzero().flatten().tolist() == [5]  # 8 only after 7
    assert not logits[1].isinf().any()  # a request without the extra argument is untouched
    outputs[0].append(7)  # vLLM appends to the same list as the answer grows
    assert processor.apply(torch.zeros(2, 10))[0].isinf().nonzero().flatten().tolist() == [5, 8]
    processor.update_state(BatchUpdate(batch_size=1, removed=[0], moved=[], added=[]))
    assert not processor.apply(torch.zeros(2, 10)).isinf().any()
    with pytest.raises(ValueError, match="list of non-empty token-id lists"):
        BannedSequencesLogitsProcessor.validate_params(SamplingParams(extra_args={BANNED_SEQUENCES: [[]]}))
