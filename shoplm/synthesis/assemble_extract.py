"""Extract, then build (Table 7 rows 1, 2, 3, 4, 20): the LLM returned facts about one record; the
question and its distractors are built here, so the LLM never writes the answer key alone.

Rows 1 and 2 draw distractors from other records' extractions of the same row (a category lacking the
attribute, snippets of other reviews), so they assemble once all replies are in.
"""

from __future__ import annotations

from collections.abc import Iterator

from shoplm.builders.formats import mc_prompt, multiple_choice, norm, numbered
from shoplm.synthesis.assembly import ASSEMBLERS, AssembleContext, Item, Outcome, per_item
from shoplm.synthesis.validate import Rejected, check_options, distinct, require_in

MC_DISTRACTORS = 3


@ASSEMBLERS.register("category_by_attribute", doc="row 1: the category that has an attribute, among "
                     "other records' categories that lack it")
def category_by_attribute(items: list[Item], ctx: AssembleContext) -> Iterator[Outcome]:
    categories = {norm(i.data["product_category"]): i for i in items}
    for item in items:
        try:
            attributes = distinct(item.data["attributes"], "attributes")
            attribute = ctx.rng.choice(attributes)
            others = [i.data["product_category"] for key, i in sorted(categories.items())
                      if key != norm(item.data["product_category"])
                      and norm(attribute) not in {norm(a) for a in i.data["attributes"]}]
            if len(others) < MC_DISTRACTORS:
                raise Rejected("no_source_data", f"{len(others)} other categories lack {attribute!r}")
            options, gold = multiple_choice(ctx.rng, item.data["product_category"],
                                            ctx.rng.sample(others, MC_DISTRACTORS))
            check_options(options, gold, MC_DISTRACTORS + 1)
            yield item.index, ctx.task.question(mc_prompt(ctx.wording("question", attribute=attribute), options), gold)
        except Rejected as exc:
            yield item.index, exc


@ASSEMBLERS.register("snippet_retrieval", doc="row 2: the review's own snippets of one sentiment among "
                     "other reviews' snippets")
def snippet_retrieval(items: list[Item], ctx: AssembleContext) -> Iterator[Outcome]:
    size = int(ctx.row.assemble["candidates"])
    verified: dict[int, list[dict]] = {}
    outcomes: dict[int, Rejected] = {}
    for item in items:  # verbatim check first: only real snippets serve as anyone's distractors
        review = f"{item.record.get('title') or ''} {item.record.get('text') or ''}"
        try:
            for snippet in item.data["snippets"]:
                require_in(snippet["snippet"], review, "snippet")
            distinct([s["snippet"] for s in item.data["snippets"]], "snippets")
            verified[item.index] = item.data["snippets"]
        except Rejected as exc:
            outcomes[item.index] = exc
    for item in items:
        if item.index in outcomes:
            yield item.index, outcomes[item.index]
            continue
        own = verified[item.index]
        sentiment = ctx.rng.choice(sorted({s["sentiment"] for s in own}))
        gold_texts = [s["snippet"] for s in own if s["sentiment"] == sentiment][:3]
        pool = [s["snippet"] for index, snippets in sorted(verified.items()) if index != item.index
                for s in snippets if norm(s["snippet"]) not in {norm(t) for t in gold_texts}]
        pool = list(dict.fromkeys(pool))
        if len(pool) < 2:
            yield item.index, Rejected("no_source_data", f"{len(pool)} distractor snippets")
            continue
        candidates = gold_texts + ctx.rng.sample(pool, min(size - len(gold_texts), len(pool)))
        ctx.rng.shuffle(candidates)
        gold = sorted(candidates.index(t) + 1 for t in gold_texts)
        prompt = (ctx.wording("question", product_type=item.data["product_type"], sentiment=sentiment)
                  + "\n" + numbered(candidates) + "\n" + ctx.wording("tail"))
        yield item.index, ctx.task.question(prompt, gold)


@ASSEMBLERS.register("aspect_retrieval", doc="row 3: the aspects a review covers among plausible ones it does not")
@per_item
def aspect_retrieval(item: Item, ctx: AssembleContext):
    covered = item.data["covered_aspects"][:3]
    candidates = distinct(covered + item.data["uncovered_aspects"][:7], "aspects")
    ctx.rng.shuffle(candidates)
    gold = sorted(candidates.index(a) + 1 for a in covered)
    review = " ".join(str(item.record.get(k) or "") for k in ("title", "text")).strip()
    prompt = (ctx.wording("question", product_type=item.data["product_type"], review=review)
              + "\n" + numbered(candidates) + "\n" + ctx.wording("tail"))
    return ctx.task.question(prompt, gold)


@ASSEMBLERS.register("complement_mc", doc="row 4: one complementary product type among unrelated ones")
@per_item
def complement_mc(item: Item, ctx: AssembleContext):
    product_type = item.data["product_type"]
    correct = ctx.rng.choice(item.data["complements"])
    distractors = ctx.rng.sample(item.data["unrelated"], MC_DISTRACTORS)
    options, gold = multiple_choice(ctx.rng, correct, distractors)
    check_options(options, gold, MC_DISTRACTORS + 1)
    if norm(product_type) in {norm(o) for o in options}:
        raise Rejected("duplicate_options", f"the product type {product_type!r} is an option")
    return ctx.task.question(mc_prompt(ctx.wording("question", product_type=product_type), options), gold)


@ASSEMBLERS.register("type_explanation", doc="row 20: explain the extracted product type")
@per_item
def type_explanation(item: Item, ctx: AssembleContext):
    return ctx.task.question(ctx.wording("question", product_type=item.data["product_type"]),
                             item.data["explanation"].strip())
