"""ECInstruct tasks rephrased as ShopBench questions (Table 7 rows 11-15).

The LLM restates a record; the record itself is the answer key. A reply is kept only when it keeps the
record's options (same texts, same order), its answer and, for extraction, values found verbatim both
in the passage it wrote and in the record's correct output.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from shoplm.builders.formats import mc_prompt, norm, numbered
from shoplm.synthesis.assembly import ASSEMBLERS, AssembleContext, Item, per_item
from shoplm.synthesis.validate import Rejected, check_options, distinct, require_in

_LETTERED = re.compile(r"^\s*([A-Z])\s*[:.)]\s*(.*)$", re.S)


def _lettered(values: Sequence[str]) -> list[tuple[str, str]]:
    """('A', text) for each 'A: text' entry."""
    pairs = []
    for value in values:
        match = _LETTERED.match(str(value))
        if not match:
            raise Rejected("no_source_data", f"record option {value!r} has no letter")
        pairs.append((match.group(1), match.group(2).strip()))
    return pairs


def _record_options(record: Mapping[str, Any]) -> tuple[list[str], int]:
    """The record's option texts and the index of its correct output."""
    options = record.get("options")
    if isinstance(options, str):
        options = json.loads(options)
    pairs = _lettered(list(options or []))
    output = str(record.get("output") or "").strip()
    letter = output[:1]
    for index, (key, _) in enumerate(pairs):
        if key == letter:
            return [text for _, text in pairs], index
    raise Rejected("no_source_data", f"record output {output!r} names no option")


@ASSEMBLERS.register("rephrased_mc", doc="rows 12, 13, 15: the record restated as one MC question")
@per_item
def rephrased_mc(item: Item, ctx: AssembleContext):
    options, answer = list(item.data["options"]), item.data["answer_index"]
    expected, correct = _record_options(item.record)
    check_options(options, answer, len(expected))
    if norm(expected[correct]) not in {norm(o) for o in options}:
        raise Rejected("answer_not_among_options", expected[correct])
    if [norm(o) for o in options] != [norm(e) for e in expected]:
        raise Rejected("label_not_in_source", "options are not the record's options in its order")
    if answer != correct:
        raise Rejected("label_not_in_source", f"answer {answer} but the record's is {correct}")
    return ctx.task.question(mc_prompt(item.data["question"].strip(), options), answer)


@ASSEMBLERS.register("attribute_ner", doc="row 11: one attribute's values, verbatim in the passage and the record")
@per_item
def attribute_ner(item: Item, ctx: AssembleContext):
    values = distinct([v.strip() for v in item.data["values"]], "values")
    attribute = item.data["attribute"].strip()
    require_in(attribute, str(item.record.get("input") or ""), "attribute")
    for value in values:
        if value not in item.data["product_text"]:
            raise Rejected("label_not_in_source", f"value {value!r} is not verbatim in product_text")
        require_in(value, str(item.record.get("output") or ""), "value")
    prompt = ctx.wording("question", attribute=attribute, product_text=item.data["product_text"].strip())
    return ctx.task.question(prompt, values)


@ASSEMBLERS.register("query_product_retrieval", doc="row 14: the top of the record's ranking among its products")
@per_item
def query_product_retrieval(item: Item, ctx: AssembleContext):
    record_input = item.record.get("input")
    fields = json.loads(record_input) if isinstance(record_input, str) else dict(record_input or {})
    expected = [text for _, text in _lettered(fields.get("product list") or [])]
    letters = [key for key, _ in _lettered(fields.get("product list") or [])]
    order = [letters.index(x.strip()) + 1 for x in str(item.record.get("output") or "").split(",")
             if x.strip() in letters]
    products, ranking = list(item.data["products"]), list(item.data["ranking"])
    require_in(item.data["query"], str(fields.get("query") or ""), "query")
    if len(products) != len(expected):
        raise Rejected("wrong_option_count", f"{len(products)} products, the record has {len(expected)}")
    distinct(products, "products")
    if [norm(p) for p in products] != [norm(e) for e in expected]:
        raise Rejected("label_not_in_source", "products are not the record's products in its order")
    if sorted(ranking) != list(range(1, len(products) + 1)):
        raise Rejected("answer_out_of_range", f"ranking {ranking} is not a permutation of 1..{len(products)}")
    if ranking != order:
        raise Rejected("label_not_in_source", f"ranking {ranking} but the record ranks {order}")
    top = min(3, len(products) - 1)
    prompt = (ctx.wording("question", query=item.data["query"].strip()) + "\n" + numbered(products) + "\n"
              + ctx.wording("tail", count=top))
    return ctx.task.question(prompt, sorted(ranking[:top]))
