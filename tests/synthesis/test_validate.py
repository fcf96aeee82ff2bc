"""Reply checks and assemblers on hand-written replies: each malformed item is rejected for its reason,
and an accepted item is a ShopBench question whose gold answer scores 1.0."""

from __future__ import annotations

import json
import random

import pytest

from shoplm.builders.registry import get_builder
from shoplm.shopbench.answers import render_gold
from shoplm.shopbench.scoring import score
from shoplm.synthesis.assembly import ASSEMBLERS, AssembleContext, Item
from shoplm.synthesis.cache import Reply
from shoplm.synthesis.templates import get_template, load_templates
from shoplm.synthesis.validate import Rejected, parse_reply

RELATION = "ecinstruct-relation-mc"


def reply(data, finish="stop") -> Reply:
    return Reply(json.dumps(data) if not isinstance(data, str) else data, finish, 10, 10)


def assemble(name: str, frames, records_and_data, wanted: int = 10):
    ctx = AssembleContext(get_builder(name), get_template(name), random.Random(0), frames, wanted)
    items = [Item(i, record, data) for i, (record, data) in enumerate(records_and_data)]
    return list(ASSEMBLERS.get(get_template(name).assembler)(items, ctx))


def reasons(outcomes) -> list[str]:
    return [o.reason for _, o in outcomes if isinstance(o, Rejected)]


def self_scores(outcomes) -> float:
    questions = [o for _, o in outcomes if not isinstance(o, Rejected)]
    assert questions
    return score(questions, [render_gold(q) for q in questions]).mean_over_tasks


def test_every_llm_row_has_a_template_and_an_assembler():
    from shoplm.builders import BUILDERS

    llm_rows = {name for name, spec in BUILDERS.items() if spec.needs_llm}
    assert set(load_templates()) == llm_rows
    assert all(get_template(name).assembler in ASSEMBLERS for name in llm_rows)


@pytest.mark.parametrize(("text", "finish", "reason"), [
    ('{"question": "q", "options": ["a", "b"], "answer_index": 0}', "length", "truncated"),
    ('{"question": "q", "options": ["a", "b"], ', "stop", "malformed_json"),
    ('["a", "b"]', "stop", "malformed_json"),
    ('{"question": "q", "options": "a, b", "answer_index": 0}', "stop", "schema"),
    ('{"question": " ", "options": ["a", "b"], "answer_index": 0}', "stop", "empty_text"),
    ('{"question": "' + "x" * 3000 + '", "options": ["a", "b"], "answer_index": 0}', "stop", "too_long"),
])
def test_malformed_replies_are_rejected_for_their_reason(text, finish, reason):
    with pytest.raises(Rejected) as caught:
        parse_reply(reply(text, finish), get_template(RELATION).schema, max_chars=2000)
    assert caught.value.reason == reason


@pytest.fixture
def relation_record(sample_frames):
    frame = sample_frames["ecinstruct"]
    return frame[frame["task"] == "Product_Relation_Prediction"].iloc[0].to_dict()


def _options(record) -> tuple[list[str], int]:
    texts = [str(o).split(":", 1)[1].strip() for o in record["options"]]
    return texts, "ABCDEFGH".index(str(record["output"]).strip()[0])


def test_a_faithful_rephrasing_is_accepted_and_scores_1(relation_record, sample_frames):
    options, answer = _options(relation_record)
    data = {"question": "Two products: X and Y. How are they related?", "options": options, "answer_index": answer}
    outcomes = assemble(RELATION, sample_frames, [(relation_record, data)])
    assert reasons(outcomes) == [] and self_scores(outcomes) == pytest.approx(1.0)
    (_, question), = outcomes
    assert question.input_field.endswith("Answer: ") and question.output_field == answer


@pytest.mark.parametrize(("change", "reason"), [
    (lambda o, a: (o[:-1], a), "wrong_option_count"),
    (lambda o, a: (o, len(o)), "answer_out_of_range"),
    (lambda o, a: ([o[0]] * len(o), a), "duplicate_options"),
    (lambda o, a: (o, (a + 1) % len(o)), "label_not_in_source"),
    (lambda o, a: ([x if i != a else "something else" for i, x in enumerate(o)], a), "answer_not_among_options"),
])
def test_unfaithful_rephrasings_are_rejected(relation_record, sample_frames, change, reason):
    options, answer = change(*_options(relation_record))
    data = {"question": "How are they related?", "options": options, "answer_index": answer}
    assert reasons(assemble(RELATION, sample_frames, [(relation_record, data)])) == [reason]


def test_extracted_values_must_be_in_the_source_record(sample_frames):
    frame = sample_frames["ecinstruct"]
    record = frame[frame["task"] == "Attribute_Value_Extraction"].iloc[0].to_dict()
    text = "Tidewater Stainless Steel Water Bottle 32 oz, Vacuum Insulated. 18/8 stainless steel; leak-proof lid"
    good = {"product_text": text, "attribute": "material", "values": ["Stainless Steel"]}
    made_up = {**good, "values": ["titanium"]}
    if "Tidewater" not in str(record["input"]):
        pytest.skip("the sample's first extraction record changed")
    assert reasons(assemble("ecinstruct-attribute-ner", sample_frames, [(record, good)])) == []
    assert reasons(assemble("ecinstruct-attribute-ner", sample_frames, [(record, made_up)])) == ["label_not_in_source"]


def test_esci_wordings_need_their_placeholder_and_get_options_from_judgements(sample_frames):
    name = "esci-title-for-query-mc"
    data = {"instructions": ["A user searched for '{query}'. Which product matches exactly?",
                             "Which product is right?", "Pick the title for {product_title}"]}
    outcomes = assemble(name, sample_frames, [({}, data)], wanted=4)
    assert reasons(outcomes) == ["placeholder", "placeholder"]
    questions = [o for _, o in outcomes if not isinstance(o, Rejected)]
    assert questions and self_scores(outcomes) == pytest.approx(1.0)
    frame = sample_frames["esci"]
    exact = set(frame[frame["esci_label"] == "E"]["product_title"])
    for question in questions:
        lines = question.input_field.splitlines()
        gold_line = lines[1 + question.output_field]
        assert gold_line.split(". ", 1)[1] in {" ".join(t.split()) for t in exact}
