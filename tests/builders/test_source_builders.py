"""Behaviour of the Reviews 2023, Amazon-M2, ECInstruct, MMLU and Alpaca builders and the LLM-row
declarations, on the committed source samples (data/sample/) and on small hand-made frames."""

from __future__ import annotations

import random
import re
import string

import pandas as pd
import pytest

from shoplm.builders import amazon_m2, ecinstruct, general, llm_rows, reviews  # noqa: F401  (registers)
from shoplm.builders.formats import clean
from shoplm.builders.layout import rank_weights
from shoplm.builders.registry import BUILDERS, BuildContext
from shoplm.shopbench.answers import render_gold
from shoplm.shopbench.metrics import ndcg
from shoplm.shopbench.parsers import parse
from shoplm.shopbench.records import Question
from shoplm.shopbench.tasktype import classify_task_type
from shoplm.sources import SOURCES, read_source

MODULES = {"shoplm.builders.reviews", "shoplm.builders.amazon_m2", "shoplm.builders.ecinstruct",
           "shoplm.builders.general"}
MINE = sorted(name for name, spec in BUILDERS.items()
              if spec.build is not None and spec.build.__module__ in MODULES)
LLM_ROWS = {1, 2, 3, 4, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 25, 26}


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    names = {frame for name in MINE for frame in BUILDERS[name].frames}
    return {name: read_source(name).frame for name in sorted(names)}


def build(name: str, frames: dict[str, pd.DataFrame], seed: int = 0, limit: int = 50) -> list[Question]:
    ctx = BuildContext(frames=frames, rng=random.Random(seed), limit=limit)
    return list(BUILDERS[name].build(ctx))


def listed(prompt: str) -> list[str]:
    """The numbered candidates of a retrieval/ranking prompt ("1. ..."), or the options ("0. ...")."""
    return [m.group(2) for m in re.finditer(r"^(\d+)\. (.*)$", prompt, re.MULTILINE)]


# --- every builder of these modules --------------------------------------------------------------


def test_the_modules_register_the_expected_rows():
    rows = {BUILDERS[name].table7_row for name in MINE}
    assert rows == {6, 7, 9, 10, 16, 17, 18, 19, 28, 31, 36, 37, 38}


@pytest.mark.parametrize("name", MINE)
def test_builder_makes_questions_named_after_itself(name, frames):
    questions = build(name, frames)
    spec = BUILDERS[name]
    assert 1 <= len(questions) <= 50
    assert all(q.task_name == name and q.task_type == spec.task_type and q.track == spec.track for q in questions)
    assert len({q.input_field for q in questions}) == len(questions), "a prompt was emitted twice"


@pytest.mark.parametrize("name", MINE)
def test_builder_respects_the_limit(name, frames):
    assert len(build(name, frames, limit=1)) == 1
    assert build(name, frames, limit=0) == []


@pytest.mark.parametrize("name", MINE)
def test_same_seed_same_questions(name, frames):
    assert build(name, frames, seed=7) == build(name, frames, seed=7)


@pytest.mark.parametrize("name", [n for n in MINE if n != "ecinstruct-sentiment-ranking"])  # 1 on the sample
def test_another_seed_other_questions(name, frames):
    assert build(name, frames, seed=1) != build(name, frames, seed=2)


@pytest.mark.parametrize("name", [n for n in MINE if n != "alpaca-generation"])  # Alpaca prompts are free text
def test_the_task_type_classifier_recognises_the_prompts(name, frames):
    for q in build(name, frames):
        assert classify_task_type(q.input_field, q.is_multiple_choice) == q.task_type, q.input_field


@pytest.mark.parametrize("name", [n for n in MINE if BUILDERS[n].task_type == "multiple-choice"
                                  and n != "reviews-rating-mc"])
def test_options_are_distinct_and_gold_position_varies(name, frames):
    questions = build(name, frames)
    for q in questions:
        options = listed(q.input_field)
        assert [int(m) for m in re.findall(r"^(\d+)\. ", q.input_field, re.MULTILINE)][-len(options):] == \
            list(range(len(options)))
        assert len({o.casefold() for o in options}) == len(options)
        assert 0 <= q.output_field < len(options)
        assert q.input_field.endswith("\nAnswer: ")
    assert len({q.output_field for q in questions}) > 1, "options are not shuffled"


def test_builders_give_the_same_questions_after_the_ingest_parquet_round_trip(frames, tmp_path):
    from shoplm.builders.frames import load_frames, save_frames

    save_frames(frames, tmp_path)
    reloaded = load_frames(tmp_path)
    for name in MINE:
        assert build(name, reloaded) == build(name, frames), name


# --- reviews ------------------------------------------------------------------------------------


def test_rating_gold_is_the_reviews_rating_and_prompt_is_task15s(frames):
    reviews_frame = frames["reviews2023"]
    rating_of = {clean(text): int(rating) for text, rating in zip(reviews_frame["text"], reviews_frame["rating"])}
    questions = build("reviews-rating-mc", frames, limit=10_000)
    assert len(questions) == len(reviews_frame)  # every sample review is usable
    for q in questions:
        lines = q.input_field.split("\n")
        assert lines[0].startswith("Instructions: Evaluate the following product review on a scale of 1 to 5")
        assert re.fullmatch(r"Input: a review text for a\(n\) .+ product", lines[1])
        assert lines[-2:] == ["Output:", "Answer: "]
        assert q.output_field == rating_of[lines[-3]]
        assert parse("multiple-choice", render_gold(q)) == q.output_field
    assert {q.output_field for q in questions} == {1, 2, 3, 4, 5}


def test_rating_classes_are_balanced(frames):
    assert frames["reviews2023"]["rating"].value_counts().min() >= 4
    for limit in (5, 10, 20):
        first = [q.output_field for q in build("reviews-rating-mc", frames, limit=limit)]
        assert all(first.count(r) == limit // 5 for r in range(1, 6))


def test_helpfulness_gold_orders_reviews_by_helpful_votes(frames):
    reviews_frame = frames["reviews2023"]
    votes = {clean(f"{t}: {x}"): v for t, x, v in zip(reviews_frame["title"], reviews_frame["text"],
                                                       reviews_frame["helpful_vote"])}
    questions = build("reviews-helpfulness-ranking", frames)
    for q in questions:
        shown = listed(q.input_field)
        assert 3 <= len(shown) <= 5 and len(q.output_field) == len(shown)
        counts = [votes[s] for s in shown]
        assert q.output_field == rank_weights(counts)
        ideal = [int(i) for i in render_gold(q).split(",")]
        assert [counts[i - 1] for i in ideal] == sorted(counts, reverse=True)
        assert ndcg(ideal, q.output_field) == pytest.approx(1.0)
        assert ndcg(ideal[::-1], q.output_field) < 0.9
        assert f"permutation of 1 to {len(shown)}" in q.input_field


def test_rank_weights_are_linear_in_rank():
    assert rank_weights([3, 22, 0, 14, 6]) == [0.25, 1.0, 0.0, 0.75, 0.5]
    assert rank_weights([5, 1, 9]) == [0.5, 0.0, 1.0]
    with pytest.raises(ValueError):
        rank_weights([1, 1, 2])


def test_also_buy_gold_products_are_linked_to_the_purchase(frames):
    meta = frames["reviews2023_meta"]
    title = dict(zip(meta["parent_asin"], meta["title"].map(clean)))
    linked = {(a, b) for a, together in zip(meta["parent_asin"], meta["bought_together"]) for b in together or []}
    linked |= {(b, a) for a, b in linked}
    asin_of = {t: a for a, t in title.items()}
    questions = build("reviews-also-buy", frames)
    assert questions
    for q in questions:
        anchor = asin_of[re.search(r"product '(.*?)'\. ", q.input_field).group(1)]
        candidates = [asin_of[t] for t in listed(q.input_field)]
        assert len(candidates) <= 15 and anchor not in candidates
        gold = q.output_field
        assert gold == sorted(gold) and 1 <= len(gold) <= 3
        assert all((anchor, candidates[i - 1]) in linked for i in gold)
        others = [c for i, c in enumerate(candidates, 1) if i not in gold]
        assert len(others) >= 3 and not any((anchor, c) in linked for c in others)


def test_also_buy_uses_same_user_purchases_rated_4_or_more():
    reviews_frame = pd.DataFrame({
        "category": ["Toys"] * 3 + ["Toys"] * 5,
        "rating": [5.0, 5.0, 2.0] + [4.0] * 5,
        "title": ["t"] * 8, "text": ["x"] * 8,
        "parent_asin": ["A", "B", "C", "D", "E", "F", "G", "H"],
        "user_id": ["u1", "u1", "u1", "u2", "u3", "u4", "u5", "u6"],
        "helpful_vote": [0] * 8,
    })
    meta = pd.DataFrame({
        "category": ["Toys"] * 8, "parent_asin": list("ABCDEFGH"),
        "title": [f"Product {c} with a name" for c in "ABCDEFGH"],
        "categories": [["Toys", "Puzzles"]] * 8, "bought_together": [None] * 8,
    })
    ctx = BuildContext(frames={"reviews2023": reviews_frame, "reviews2023_meta": meta}, rng=random.Random(0), limit=10)
    questions = list(BUILDERS["reviews-also-buy"].build(ctx))
    by_anchor = {re.search(r"product '(.*?)'", q.input_field).group(1): q for q in questions}
    # A and B were both liked by u1: each is the other's positive; C (rated 2) is nobody's positive and
    # is never a negative for A or B either, since u1 bought it.
    assert set(by_anchor) == {"Product A with a name", "Product B with a name", "Product C with a name"}
    for anchor, other in (("A", "B"), ("B", "A")):
        q = by_anchor[f"Product {anchor} with a name"]
        shown = listed(q.input_field)
        assert [shown[i - 1] for i in q.output_field] == [f"Product {other} with a name"]
        assert "Product C with a name" not in shown


# --- Amazon-M2 ----------------------------------------------------------------------------------

LANGUAGE_LOCALE = {"German": "DE", "Japanese": "JP", "Spanish": "ES", "French": "FR", "Italian": "IT"}


def test_translation_reference_is_the_same_product_in_the_target_locale(frames):
    products = frames["amazon_m2_products"]
    titles = {(loc, i): clean(t) for loc, i, t in zip(products["locale"], products["id"], products["title"])}
    questions = build("m2-title-translation", frames)
    assert {q.metric for q in questions} == {"bleu", "jp-bleu"}
    for q in questions:
        source = re.search(r"title '(.*?)'|entitled '(.*?)'", q.input_field)
        source = source.group(1) or source.group(2)
        language = re.search(r"(German|Japanese|Spanish|French|Italian)", q.input_field).group(1)
        locale = LANGUAGE_LOCALE[language]
        (asin,) = [i for (loc, i), t in titles.items() if loc == "UK" and t == source]
        assert q.output_field == titles[(locale, asin)]
        assert q.metric == ("jp-bleu" if locale == "JP" else "bleu")
        assert q.output_field != source


def test_translation_skips_references_bleu_cannot_score():
    products = pd.DataFrame({
        "id": ["X1", "X1", "X2", "X2"], "locale": ["UK", "DE", "UK", "DE"],
        "title": ["Big red kettle with a long spout", "Wasserkocher", "Blue bottle 1 litre steel",
                  "Blaue Flasche 1 Liter Edelstahl"],
        "desc": [""] * 4,
    })
    ctx = BuildContext(frames={"amazon_m2_products": products}, rng=random.Random(0), limit=10)
    questions = list(BUILDERS["m2-title-translation"].build(ctx))
    assert [q.output_field for q in questions] == ["Blaue Flasche 1 Liter Edelstahl"]


def test_description_match_gold_is_the_same_product_in_another_language(frames):
    products = frames["amazon_m2_products"]
    ids_of: dict[str, set[str]] = {}
    for loc, i, d in zip(products["locale"], products["id"], products["desc"]):
        ids_of.setdefault(clean(d), set()).add((loc, i))
    for q in build("m2-description-match-mc", frames):
        source = re.search(r"description '(.*?)' ", q.input_field).group(1)
        (source_key,) = ids_of[source]
        assert source_key[0] == "UK"
        options = listed(q.input_field)
        (gold_key,) = ids_of[options[q.output_field]]
        assert gold_key[1] == source_key[1] and gold_key[0] != "UK"
        for k, option in enumerate(options):
            if k != q.output_field:
                assert all(i != source_key[1] for _, i in ids_of[option])


def test_previous_clicks_gold_items_were_viewed_before_the_purchase(frames):
    sessions, products = frames["amazon_m2_sessions"], frames["amazon_m2_products"]
    titles = {(loc, clean(t)): i for loc, i, t in zip(products["locale"], products["id"], products["title"])}
    purchases = {}
    for prev, nxt, loc in zip(sessions["prev_items"], sessions["next_item"], sessions["locale"]):
        purchases.setdefault((loc, nxt), []).append(set(prev))
    questions = build("m2-session-previous-clicks", frames)
    assert questions
    for q in questions:
        shown = listed(q.input_field)
        purchase = re.search(r"product '(.*?)'", q.input_field).group(1)
        (locale,) = {loc for (loc, t) in titles if t == purchase}
        assert all((locale, t) in titles for t in shown), "a candidate from another locale"
        candidate_ids = [titles[(locale, t)] for t in shown]
        gold = [candidate_ids[i - 1] for i in q.output_field]
        rest = [c for k, c in enumerate(candidate_ids, 1) if k not in q.output_field]
        sessions_ok = [s for s in purchases[(locale, titles[(locale, purchase)])]
                       if set(gold) <= s and not set(rest) & s]
        assert sessions_ok, "gold not viewed in a session that ended with the purchase"
        assert q.output_field == sorted(q.output_field) and len(rest) >= 3


# --- ECInstruct ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "task"), [
    ("ecinstruct-answerability-mc", "Answerability_Prediction"),
    ("ecinstruct-product-matching-mc", "Product_Matching"),
    ("ecinstruct-substitute-mc", "Product_Substitute_Identification"),
])
def test_yes_no_gold_is_the_records_answer(name, task, frames):
    records = frames["ecinstruct"]
    records = records[records["task"] == task]
    questions = build(name, frames, limit=10_000)
    assert len(questions) == len(records)  # one per distinct input
    answers = sorted(records["output"].str.lower())
    assert sorted(listed(q.input_field)[q.output_field] for q in questions) == answers
    assert all(sorted(listed(q.input_field)) == ["no", "yes"] for q in questions)


def test_sentiment_gold_is_the_records_label(frames):
    records = frames["ecinstruct"]
    labels = {clean(i): o.split(": ", 1)[1] for i, o in zip(records["input"], records["output"])
              if ": " in o}
    for q in build("ecinstruct-sentiment-mc", frames):
        review = re.search(r"^Review: (.*)$", q.input_field, re.MULTILINE).group(1)
        assert listed(q.input_field)[q.output_field] == labels[review]
        assert len(listed(q.input_field)) == 5


def test_sentiment_label_reads_letters_text_and_rejects_others():
    options = ["A: very positive", "B: positive", "C: neutral", "D: negative", "E: very negative"]
    assert ecinstruct.sentiment_label("B: positive", options) == "positive"
    assert ecinstruct.sentiment_label("E", options) == "very negative"
    assert ecinstruct.sentiment_label("Neutral.", None) == "neutral"
    assert ecinstruct.sentiment_label("mixed", options) is None


def test_sentiment_ranking_ideal_order_is_positive_to_negative(frames):
    records = frames["ecinstruct"]
    label = {clean(i): ecinstruct.sentiment_label(o, opts) for i, o, opts, t in
             zip(records["input"], records["output"], records["options"], records["task"])
             if t == "Sentiment_Analysis"}
    questions = build("ecinstruct-sentiment-ranking", frames)
    assert questions
    for q in questions:
        shown = listed(q.input_field)
        assert q.output_field == [ecinstruct.SENTIMENT_WEIGHTS[label[s]] for s in shown]
        ideal = [shown[int(i) - 1] for i in render_gold(q).split(",")]
        levels = [label[s] for s in ideal]
        assert levels == sorted(levels, key=ecinstruct.SENTIMENT_LEVELS.index)  # most positive first
    assert any(len(listed(q.input_field)) == 5 for q in questions)


# --- MMLU and Alpaca ----------------------------------------------------------------------------


def test_mmlu_gold_index_points_at_the_answer_letters_option(frames):
    mmlu = frames["mmlu"]
    answer_of = {q: row[a] for q, a, row in zip(mmlu["question"], mmlu["answer"], mmlu.to_dict("records"))}
    questions = build("mmlu-mc", frames, limit=10_000)
    assert len(questions) == len(mmlu)
    moved = 0
    for q in questions:
        stem = q.input_field.split("\n0. ")[0]
        options = listed(q.input_field)
        assert options[q.output_field] == answer_of[stem]
        moved += q.output_field != "ABCD".index(mmlu.loc[mmlu["question"] == stem, "answer"].iloc[0])
    assert moved > 0, "options were never shuffled"


def _mmlu_frame(rows: list[tuple[str, str, str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["question", "A", "B", "C", "D", "answer"]).assign(subject="s", split="test")


def test_mmlu_keeps_the_order_of_options_that_point_at_other_options():
    frame = _mmlu_frame([
        (f"Question {i}?", "red", "green", "blue", "All of the above", "D") for i in range(5)
    ] + [(f"Pick {i}", "x", "y", "Both A and B", "z", "C") for i in range(5)])
    ctx = BuildContext(frames={"mmlu": frame}, rng=random.Random(0), limit=20)
    for q in BUILDERS["mmlu-mc"].build(ctx):
        options = listed(q.input_field)
        assert options in (["red", "green", "blue", "All of the above"], ["x", "y", "Both A and B", "z"])
        assert q.output_field in (3, 2) and options[q.output_field] in ("All of the above", "Both A and B")


def test_mmlu_skips_repeated_or_empty_options_and_bad_letters():
    frame = _mmlu_frame([
        ("Same twice?", "yes", "Yes", "no", "maybe", "A"),
        ("Empty one?", "a", "", "c", "d", "A"),
        ("Bad letter?", "a", "b", "c", "d", "E"),
        ("Fine?", "1", "2", "3", "4", "B"),
    ])
    ctx = BuildContext(frames={"mmlu": frame}, rng=random.Random(0), limit=20)
    questions = list(BUILDERS["mmlu-mc"].build(ctx))
    assert [q.input_field.split("\n")[0] for q in questions] == ["Fine?"]
    assert listed(questions[0].input_field)[questions[0].output_field] == "2"


def test_alpaca_prompt_holds_instruction_and_input_and_gold_is_the_output(frames):
    alpaca = frames["alpaca"]
    by_instruction = {i: (x, o) for i, x, o in zip(alpaca["instruction"], alpaca["input"], alpaca["output"])}
    questions = build("alpaca-generation", frames, limit=10_000)
    assert len(questions) == len(alpaca)
    for q in questions:
        first = q.input_field.split("\n")[0]
        assert first.startswith("Instructions: ")
        input_text, output = by_instruction[first.removeprefix("Instructions: ")]
        assert q.output_field == output.strip()
        assert ("\nInput: " + input_text + "\n" in q.input_field) == bool(input_text)
        assert q.input_field.endswith("\nOutput:")


def test_alpaca_skips_outputs_rouge_cannot_score():
    frame = pd.DataFrame({"instruction": ["Say hi in Japanese", "Say hi"], "input": ["", ""],
                          "output": ["こんにちは", "Hi"]})
    ctx = BuildContext(frames={"alpaca": frame}, rng=random.Random(0), limit=5)
    assert [q.output_field for q in BUILDERS["alpaca-generation"].build(ctx)] == ["Hi"]


# --- LLM rows -----------------------------------------------------------------------------------


def test_llm_rows_cover_exactly_the_rows_that_need_an_llm():
    rows = sorted(spec.table7_row for spec in BUILDERS.values() if spec.needs_llm)
    assert rows == sorted(LLM_ROWS)  # each row once, and no row built without an LLM is declared here


@pytest.mark.parametrize("row", sorted(LLM_ROWS))
def test_llm_row_declaration_is_complete(row):
    (spec,) = [s for s in BUILDERS.values() if s.table7_row == row]
    assert spec.needs_llm and spec.input_frames == ("synthetic",)  # build reads the synth stage's output
    request = spec.llm
    assert request.purpose.strip() and request.inputs and request.outputs and request.template.strip()
    assert all(key.strip() and meaning.strip() for key, meaning in request.outputs.items())
    assert spec.adapters and spec.description.strip()
    assert set(spec.frames) <= set(SOURCES)
    placeholders = {field for _, field, _, _ in string.Formatter().parse(request.template) if field}
    # {few_shot}: development questions shown as examples (synth.few_shot), the one extra placeholder
    assert placeholders - {"few_shot"} == set(request.inputs), "template placeholders must be the inputs"
    filled = request.template.format(**{name: f"<{name}>" for name in (*request.inputs, "few_shot")})
    assert all(f"<{name}>" in filled for name in request.inputs)
    assert "JSON" in filled and all(key in filled for key in request.outputs)
