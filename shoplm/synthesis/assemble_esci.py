"""ESCI multiple choice with LLM-written instruction wordings (Table 7 rows 21-26).

The LLM wrote wordings that hold one placeholder (``{product_description}``, ``{query}``, ...). Each
question takes a wording, an anchor from ESCI and options from ESCI judgements: the correct one from an
E entry, the others from S/C/I entries of the same query (or, for query options, queries that judged
the product S/C/I, then queries that never judged it and share no word with the right one).
"""

from __future__ import annotations

from collections.abc import Iterator

from shoplm.builders.esci_index import EsciIndex, Product, Query
from shoplm.builders.formats import mc_prompt, multiple_choice, norm, words
from shoplm.synthesis.assembly import ASSEMBLERS, AssembleContext, Item, Outcome
from shoplm.synthesis.validate import Rejected, check_options

DISTRACTORS = 3


def _shown(product: Product, query: Query, field: str) -> str:
    return {"product_description": product.description, "product_bullet_point": "; ".join(product.bullets),
            "product_title": product.title, "query": query.text}[field]


def _query_options(index: EsciIndex, product: Product, query: Query, ctx: AssembleContext) -> list[str]:
    judged = [q.text for q, label in index.queries_of(product) if label in "SCI"]
    avoid = words(query.text, 3) | {norm(query.text)}
    others = [q.text for q in index.by_locale.get(query.locale, [])
              if index.label(product, q) is None and not (words(q.text, 3) & avoid)]
    picked = list(dict.fromkeys(ctx.rng.sample(judged, len(judged)) + ctx.rng.sample(others, len(others))))
    return [t for t in picked if norm(t) != norm(query.text)][:DISTRACTORS]


def _title_options(query: Query, product: Product, ctx: AssembleContext) -> list[str]:
    titles = list(dict.fromkeys(j.product.title for j in query.with_labels("SCI")
                                if norm(j.product.title) != norm(product.title)))
    return ctx.rng.sample(titles, min(DISTRACTORS, len(titles)))


@ASSEMBLERS.register("esci_wordings", doc="rows 21-26: LLM wordings × ESCI anchors and judged options")
def esci_wordings(items: list[Item], ctx: AssembleContext) -> Iterator[Outcome]:
    shown, choose = ctx.row.assemble["shown"], ctx.row.assemble["choose"]
    placeholder = "{" + shown + "}"
    wordings: list[tuple[int, str]] = []
    for item in items:
        for wording in item.data["instructions"]:
            if wording.count(placeholder) != 1 or wording.count("{") != 1:
                yield item.index, Rejected("placeholder", wording)
            elif norm(wording) not in {norm(w) for _, w in wordings}:
                wordings.append((item.index, wording))
    if not wordings:
        return
    index = EsciIndex(ctx.frames["esci"], sorted(set(ctx.frames["esci"]["product_locale"])))
    anchors = [(q, j.product) for q in index.queries for j in q.with_labels("E")
               if _shown(j.product, q, shown)]
    ctx.rng.shuffle(anchors)
    made = 0
    for query, product in anchors:
        if made >= ctx.wanted:
            break
        item_index, wording = wordings[made % len(wordings)]
        distractors = (_query_options(index, product, query, ctx) if choose == "query"
                       else _title_options(query, product, ctx))
        correct = query.text if choose == "query" else product.title
        if len(distractors) < DISTRACTORS:
            continue  # this anchor lacks judged options; another anchor may have them
        options, gold = multiple_choice(ctx.rng, correct, distractors)
        try:
            check_options(options, gold, DISTRACTORS + 1)
        except Rejected as exc:
            yield item_index, exc
            continue
        text = wording.replace(placeholder, _shown(product, query, shown))
        made += 1
        yield item_index, ctx.task.question(mc_prompt(text, options), gold)
