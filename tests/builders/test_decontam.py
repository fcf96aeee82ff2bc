"""Decontamination removes copies of evaluation questions and keeps ordinary generated ones."""

from __future__ import annotations

import random

import pytest

from shoplm.builders import BUILDERS, BuildContext
from shoplm.builders.decontam import EvalIndex, TemplateGrams, builder_wording, decontaminate, ngrams, tokens
from shoplm.params.build import DecontamSettings

from .conftest import NON_LLM_BUILDERS


@pytest.fixture(scope="module")
def generated(sample_frames):
    """Ordinary questions: up to 20 from every non-LLM builder on the samples."""
    out = []
    for name in NON_LLM_BUILDERS:
        out += list(BUILDERS[name].build(BuildContext(sample_frames, random.Random(7), 20)))
    return out


def _planted(question, text: str, group: str = "esci-query-ranking"):
    return question.model_copy(update={"input_field": text, "task_name": group})


def test_ordinary_generated_questions_are_kept(generated, eval_questions) -> None:
    result = decontaminate(generated, eval_questions, DecontamSettings())
    assert result.total_dropped == 0, result.examples
    assert result.kept == generated


def test_planted_copies_of_evaluation_questions_are_removed(generated, development) -> None:
    by_task = {}
    for question in development:
        by_task.setdefault(question.task_name, question)
    planted = []
    for i, question in enumerate(by_task.values()):
        text = question.input_field
        if i % 3 == 0:    # whitespace and case changed
            text = "  " + text.upper().replace(" ", "   ").replace("\n", " \n ") + "\n"
        elif i % 3 == 1:  # wrapped in other words: not an exact match, caught by n-gram overlap
            text = "Please answer carefully.\n" + text + "\nThank you!"
        planted.append(_planted(question, text))
    mixed = generated[: len(generated) // 2] + planted + generated[len(generated) // 2:]
    result = decontaminate(mixed, development, DecontamSettings(max_examples=50))
    assert result.dropped["esci-query-ranking"] == len(planted)
    assert result.kept == generated
    assert result.total_dropped == len(planted)
    matched = {example["eval_task"] for example in result.examples}
    assert matched == set(by_task)
    assert {example["reason"] for example in result.examples} == {"exact text", "n-gram overlap"}


def test_shared_template_text_is_not_contamination(development) -> None:
    """New content in a development task's exact template (task12) is kept; its content copied is not.
    (The template is both the builder's wording and text that many task12 questions share.)"""
    task12 = [q for q in development if q.task_name == "task12"]
    template = task12[0].input_field
    head, products = template.split("Product List: \n")
    listing, tail = products.rsplit("\n", 2)[0], "\n".join(products.rsplit("\n", 2)[1:])
    fresh = []
    for n in range(6):
        items = "\n".join(f"{i}. Brand{n}{i} Garden Hose {10 * i + n} ft, Kink Free" for i in range(1, 6))
        fresh.append(_planted(task12[0], head.replace("jeep liberty lift", f"garden hose {n}")
                              + "Product List: \n" + items + "\n" + tail, "fresh"))
    copied = _planted(task12[0], head.replace("jeep liberty lift", "jeep lift kit") + "Product List: \n"
                      + listing + "\n" + tail, "copied")
    result = decontaminate([*fresh, copied], development, DecontamSettings())
    assert result.dropped == {"fresh": 0, "copied": 1}


def test_a_leaked_passage_repeated_across_questions_is_caught(eval_questions) -> None:
    """A builder that repeats one evaluation passage in several questions leaks it several times; repetition
    within the builder's output must not turn the passage into "template text"."""
    index = EvalIndex.build(eval_questions, 8)

    def unique_grams(question):  # n-grams no other evaluation question has: content, not template
        return sum(index.df(g) == 1 for g in ngrams(tokens(question.input_field), 8))

    leaked = max(eval_questions, key=unique_grams)
    assert unique_grams(leaked) >= 40
    wrappers = ["Read the listing below.", "Which statement is true?", "Summarise this for a shopper.",
                "Is this product waterproof?", "What would a buyer ask?", "Translate the key facts."]
    planted = [_planted(leaked, f"{head}\n{leaked.input_field}\nAnswer: ", "reviews-rating-mc")
               for head in wrappers]
    result = decontaminate(planted, eval_questions, DecontamSettings())
    assert result.dropped == {"reviews-rating-mc": len(planted)}
    assert {example["reason"] for example in result.examples} == {"n-gram overlap"}


def test_builder_wording_is_template_text_without_any_repetition(generated, eval_questions) -> None:
    """With one evaluation question per task (no n-gram in two of them), every ordinary generated question
    is still kept: the instructions it shares with its task come from its builder's own wording."""
    one_per_task = list({q.task_name: q for q in eval_questions}.values())
    result = decontaminate(generated, one_per_task, DecontamSettings())
    assert result.total_dropped == 0, result.examples


def test_builder_wording_comes_from_its_templates() -> None:
    wording = TemplateGrams.build(builder_wording("esci-query-ranking"), 8)
    instruction = tokens("Only respond with the ranking results. Do not say any word or explanations.")
    assert ngrams(instruction, 8) <= wording.exact
    # a placeholder ({count}, {item}) stands for any one token
    assert " ".join(tokens("separating two numbers. Each product and its number should")[-8:]) in wording
    assert " ".join(tokens("separating two numbers. Each query and its number should")[-8:]) in wording
    assert "wireless mouse with usb c receiver and silent" not in wording
    assert builder_wording("no-such-builder") == ()


def test_a_short_copy_is_caught_by_exact_match(development) -> None:
    short = next(q for q in development if len(tokens(q.input_field)) < 20)
    copy = _planted(short, short.input_field.lower() + "  ", "short")
    result = decontaminate([copy], development, DecontamSettings(ngram=30))
    assert result.dropped == {"short": 1}
    assert result.examples[0]["reason"] == "exact text"


def test_disabled_or_no_evaluation_set_keeps_everything(generated, development) -> None:
    planted = _planted(development[0], development[0].input_field)
    for result in (decontaminate([planted], development, DecontamSettings(enabled=False)),
                   decontaminate([planted], [], DecontamSettings())):
        assert result.kept == [planted] and result.total_dropped == 0


def test_japanese_text_yields_character_tokens() -> None:
    assert tokens("ワイヤレスマウス 静音, USB-C") == [*"ワイヤレスマウス静音", "usb", "c"]
    assert tokens("Café &quot;Olé&quot;") == ["café", "olé"]


def test_index_is_keyed_by_ngram(development) -> None:
    index = EvalIndex.build(development, 8)
    assert len(index.questions) == len(development)
    assert all(len(key.split()) == 8 for key in list(index.postings)[:100])
