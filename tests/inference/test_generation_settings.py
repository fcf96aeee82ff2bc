"""Generation limits, post-processing of raw completions, and questions → requests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from shoplm.inference.generation import build_requests, postprocess_prediction, trim_generation
from shoplm.params.generation import DEFAULT_MAX_NEW_TOKENS, GenerationSettings
from shoplm.shopbench.prompts import system_prompt


def test_settings_defaults_and_partial_overrides() -> None:
    settings = GenerationSettings()
    assert settings.batch_size == 16 and settings.max_input_tokens == 3072
    assert settings.max_new_tokens == DEFAULT_MAX_NEW_TOKENS
    assert DEFAULT_MAX_NEW_TOKENS["generation"] == 50
    custom = GenerationSettings(max_new_tokens={"ranking": 9})
    assert custom.limit_for("ranking") == 9 and custom.limit_for("generation") == 50


def test_settings_reject_typos() -> None:
    with pytest.raises(ValidationError, match="Did you mean 'retrieval'"):
        GenerationSettings(max_new_tokens={"retreival": 8})
    with pytest.raises(ValidationError, match="batch_sise"):
        GenerationSettings(batch_sise=4)
    with pytest.raises(ValidationError):
        GenerationSettings(max_new_tokens={"ranking": 0})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("  A bag.  ", "A bag."),
        # the sentence that crosses 15 words is kept whole, the rest dropped
        (
            "A handbag is a bag. It is carried by hand and holds small personal items like keys and "
            "a phone. Many are leather. Some are not.",
            "A handbag is a bag. It is carried by hand and holds small personal items like keys and a phone.",
        ),
        # one long sentence is never cut mid-sentence
        ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen. x.",
         "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen."),
        # decimals are not sentence ends; an unfinished tail under the cap stays
        ("A 2.5 inch lift kit raises the truck", "A 2.5 inch lift kit raises the truck"),
        # newlines between kept sentences survive (BLEU reads the first line)
        ("Title one.\nSecond line here.", "Title one.\nSecond line here."),
        # no spaces (Japanese): counted as few words, so kept, the 50-token cap bounds it
        ("これはバッグです。とても便利です。", "これはバッグです。とても便利です。"),
    ],
)
def test_trim_generation(text: str, expected: str) -> None:
    assert trim_generation(text) == expected


def test_trim_generation_word_limit_is_configurable() -> None:
    assert trim_generation("One two three. Four five. Six.", max_words=2) == "One two three."
    assert trim_generation("One two three. Four five. Six.", max_words=4) == "One two three. Four five."


@pytest.mark.parametrize(
    ("text", "task_type", "expected"),
    [
        (" 2\n", "multiple-choice", "2"),
        ("6\n9\n15", "retrieval", "6,9,15"),
        ("1 2 3", "retrieval", "1,2,3"),
        ("[2, 5, 1, 3, 4]", "ranking", "2,5,1,3,4"),
        ("1,2,3,4,5", "ranking", "1,2,3,4,5"),
        ("Answer: 1, 2", "ranking", "Answer: 1, 2"),  # not a bare list: left to the parser
        ("brand a, brand b\nexplanation: ...", "named_entity_recognition", "brand a, brand b"),
        ("\n\ncadbury\n", "named_entity_recognition", "cadbury"),
        ("['a',\n 'b']", "named_entity_recognition", "['a',\n 'b']"),
        ("", "named_entity_recognition", ""),
        ("Short. " + "word " * 20 + "end. Dropped.", "generation", "Short. " + "word " * 20 + "end."),
    ],
)
def test_postprocess_prediction(text: str, task_type: str, expected: str) -> None:
    assert postprocess_prediction(text, task_type) == expected


@dataclass
class Q:
    input_field: str
    is_multiple_choice: bool
    task_type: str | None = None


def test_build_requests_classifies_from_prompt_and_flag_only() -> None:
    questions = [
        Q("Which fits?\n0. a\n1. b\nAnswer: ", True, task_type="multiple-choice"),
        {"input_field": "Please select 3 products from the list.\n1. a\n2. b\n3. c\n4. d", "is_multiple_choice": False},
        # a wrong gold type is ignored when classifying: the test set has none
        Q("Explain the product type Handbag", False, task_type="ranking"),
    ]
    settings = GenerationSettings(max_new_tokens={"retrieval": 8})
    requests = build_requests(questions, settings)
    assert [r.task_type for r in requests] == ["multiple-choice", "retrieval", "generation"]
    assert [r.max_new_tokens for r in requests] == [2, 8, 50]
    assert [r.metadata for r in requests] == [
        {"index": 0, "rule": "multiple_choice_flag", "prompt_strategy": "task-type"},
        {"index": 1, "rule": "retrieval_pick_k", "prompt_strategy": "task-type"},
        {"index": 2, "rule": "generation_instruction", "prompt_strategy": "task-type"},
    ]
    assert requests[1].messages[0]["content"] == system_prompt("retrieval")
    assert requests[0].user_content == "Which fits?\n0. a\n1. b\nAnswer:"
    assert all(r.adapter is None for r in requests)


def test_build_requests_with_gold_types_and_adapter() -> None:
    questions = [Q("Explain the product type Handbag", False, task_type="ranking")]
    (req,) = build_requests(questions, classify=False, adapter="/adapters/v8")
    assert (req.task_type, req.metadata["rule"], req.adapter) == ("ranking", "gold", "/adapters/v8")
    with pytest.raises(ValueError, match="gold task_type"):
        build_requests([Q("x", False)], classify=False)
    with pytest.raises(ValueError, match="no input_field"):
        build_requests([{"is_multiple_choice": False}])
