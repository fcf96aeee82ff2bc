"""ShopBench-style questions for the synthetic corpus; each builder returns ``(prompt, answer)``.

Answers follow the shapes the winning system emitted: one digit, comma-separated indices without spaces,
a Python list literal of strings, or a sentence. Review-based builders take the review writer from
``corpus.py`` as an argument so this module stays free of prose generation.
"""

from __future__ import annotations

from collections.abc import Callable
from random import Random

from data.generators.corpus_items import (
    CATEGORIES, COUNTED_CATEGORIES, MASS_NOUNS, PRODUCT_NAMES, Item, article, complements_of, define, is_plural,
    random_item, substitutes_of, title_case,
)
from data.generators.corpus_vocabulary import ASPECTS, CATEGORY_TRAITS, COLORS, MATERIALS, PRODUCTS, SUBSTITUTES

ReviewWriter = Callable[[Random, Item, int], tuple[str, str, str]]
CANNOT = "It cannot be inferred."


def _numbered(options: list[str], start: int) -> str:
    return "\n".join(f"{i}. {option}" for i, option in enumerate(options, start))


def _choice_question(rng: Random, question: str, right: str, wrong: list[str]) -> tuple[str, str]:
    """Four shuffled options numbered 0-3; the answer is the right option's digit."""
    options = [right, *wrong[:3]]
    rng.shuffle(options)
    return f"{question}\n{_numbered(options, 0)}\nAnswer: ", str(options.index(right))


def _unrelated(rng: Random, product: str, k: int) -> list[str]:
    near = {product, *complements_of(product)}
    pool = [p for p in PRODUCT_NAMES if p not in near and PRODUCTS[p][0] != PRODUCTS[product][0]]
    return rng.sample(pool, k)


def mc_complement(rng: Random) -> tuple[str, str]:
    product = rng.choice([p for p in PRODUCT_NAMES if complements_of(p)])
    right = rng.choice(complements_of(product))
    question = f"Which of the following product categories best complement the product type {product}?"
    return _choice_question(rng, question, right, _unrelated(rng, product, 3))


def mc_category(rng: Random) -> tuple[str, str]:
    product = rng.choice(PRODUCT_NAMES)
    right = PRODUCTS[product][0]
    wrong = rng.sample([c for c in CATEGORIES if c != right], 3)
    return _choice_question(rng, f"Which department of an online store sells the product type {product}?", right, wrong)


def mc_attribute(rng: Random) -> tuple[str, str]:
    item = random_item(rng)
    materials = CATEGORY_TRAITS[item.category]["materials"]
    materials = materials if len(materials) >= 4 else MATERIALS
    attribute, value, pool = rng.choice([("color", item.color, COLORS), ("material", item.material, materials)])
    question = f"The product '{item.title}' appears on an e-commerce website. What is the {attribute} of the product?"
    if value is None:
        return _choice_question(rng, question, CANNOT, rng.sample(pool, 3))
    wrong = rng.sample([v for v in pool if v != value], 3)
    if rng.random() < 0.5:
        wrong[0] = CANNOT
    return _choice_question(rng, question, value, wrong)


def mc_total_count(rng: Random) -> tuple[str, str]:
    product = rng.choice([p for p in PRODUCT_NAMES if PRODUCTS[p][0] in COUNTED_CATEGORIES])
    item = random_item(rng, product, count=rng.choice([6, 10, 12, 20, 24, 50]), pack=rng.choice([2, 3, 4, 6]))
    total = item.count * item.pack  # type: ignore[operator]
    wrong = [total + item.count, total - item.pack, item.count, total * 2]  # type: ignore[operator]
    wrong = [f"{w} count" for w in dict.fromkeys(w for w in wrong if w != total and w > 0)]
    question = f"The product '{item.title}' is sold online. How many items are there in total in this package?"
    return _choice_question(rng, question, f"{total} count", wrong)


def mc_query_relation(rng: Random) -> tuple[str, str]:
    relation = rng.choice(["irrelevant", "substitute", "complement", "narrowing"])
    if relation == "substitute":
        first, second = rng.choice(SUBSTITUTES)
    else:
        first = rng.choice([p for p in PRODUCT_NAMES if complements_of(p)])
        second = {
            "irrelevant": lambda: _unrelated(rng, first, 1)[0],
            "complement": lambda: rng.choice(complements_of(first)),
            "narrowing": lambda: f"{rng.choice(COLORS)} {first}",
        }[relation]()
    options = ["irrelevant", "substitute", "complement", "narrowing"]
    rng.shuffle(options)
    question = (f'Which of the following statements best describes the relation from query "{first}" '
                f'to query "{second}"?')
    return f"{question}\n{_numbered(options, 0)}\nAnswer: ", str(options.index(relation))


def mc_review_rating(rng: Random, write_review: ReviewWriter) -> tuple[str, str]:
    item, stars = random_item(rng), rng.randint(1, 5)
    text, _, _ = write_review(rng, item, stars)
    prompt = (f"Rate the following review of a(n) {item.product} product from 1 (very negative) to 5 (very positive).\n"
              f"Review: {text}\nAnswer: ")
    return prompt, str(stars)


def ranking_query(rng: Random) -> tuple[str, str]:
    """Five products ranked by relevance to a query: exact match > same type > complement > unrelated."""
    target = random_item(rng, color=rng.choice(COLORS))
    others = [c for c in COLORS if c != target.color]
    graded = [(3, target), (2, random_item(rng, target.product, color=rng.choice(others)))]
    partners = complements_of(target.product)
    if partners:
        graded.append((1, random_item(rng, rng.choice(partners))))
    graded += [(0, random_item(rng, p)) for p in _unrelated(rng, target.product, 5 - len(graded))]
    rng.shuffle(graded)
    query = f"{target.color} {target.product}"
    order = sorted(range(5), key=lambda i: (-graded[i][0], i))
    prompt = (
        f"The following numbered list contains 5 products. Please rank the products by their relevance to the "
        f"query '{query}'.\nProduct List:\n{_numbered([item.title for _, item in graded], 1)}\n"
        "You should output a permutation of 1 to 5, separated by commas. Do not give explanations."
    )
    return prompt, ",".join(str(i + 1) for i in order)


def retrieval_also_buy(rng: Random) -> tuple[str, str]:
    bought = random_item(rng)
    related = [p for p in PRODUCT_NAMES if p != bought.product and
               (PRODUCTS[p][0] == bought.category or p in complements_of(bought.product))]
    picks = rng.sample(related, min(3, len(related)))
    size = rng.choice([8, 10, 12])
    listing = [(True, random_item(rng, p)) for p in picks]
    listing += [(False, random_item(rng, p)) for p in _unrelated(rng, bought.product, size - len(listing))]
    rng.shuffle(listing)
    prompt = (
        f"A user on an online shopping website has just purchased the product '{bought.title}'. The following "
        f"numbered list contains {size} products. Please select 3 products from the list that the user may also "
        f"purchase.\nProduct List:\n{_numbered([item.title for _, item in listing], 1)}\n"
        "Answer with three numbers separated by commas."
    )
    return prompt, ",".join(str(i) for i, (hit, _) in enumerate(listing, 1) if hit)


def retrieval_aspects(rng: Random, write_review: ReviewWriter) -> tuple[str, str]:
    item = random_item(rng)
    text, aspect, _ = write_review(rng, item, rng.randint(1, 5))
    aspects = rng.sample(sorted(ASPECTS), 6)
    if aspect not in aspects:
        aspects[rng.randrange(6)] = aspect
    prompt = (
        f"You are given a review of a(n) {item.product} product and a numbered list of 6 aspects. Please choose "
        f"the aspect that the review talks about.\nReview: {text}\nAspects:\n{_numbered(aspects, 1)}\n"
        "Output only the number."
    )
    return prompt, str(aspects.index(aspect) + 1)


def ner_query(rng: Random) -> tuple[str, str]:
    item = random_item(rng)
    entities = {"brand": item.brand.lower(), "product type": item.product, "color": item.color,
                "material": item.material, "audience": item.audience}
    present = [(k, v) for k, v in entities.items() if v]
    rng.shuffle(present)
    words = [v for _, v in present]
    entity_type, value = rng.choice(present)
    values = [value]
    if entity_type == "color" and rng.random() < 0.3:
        second = rng.choice([c for c in COLORS if c != value])
        words[words.index(value)] = f"{value} and {second}"
        values.append(second)
    prompt = (
        "A customer on an online shopping platform typed the following query. Extract the phrases of the query "
        f"that belong to the entity type '{entity_type}'. If there are several, separate them with commas. "
        f"Do not give explanations.\nQuery: {' '.join(words)}"
    )
    return prompt, repr(values)


def gen_explain(rng: Random) -> tuple[str, str]:
    product = rng.choice(PRODUCT_NAMES)
    opener = rng.choice(["Explain the product type", "Describe what this product category is:", "What is a"])
    return f"{opener} {title_case(product)}\nOutput: ", define(product)


def gen_keyphrase(rng: Random, write_review: ReviewWriter) -> tuple[str, str]:
    item = random_item(rng)
    text, aspect, phrase = write_review(rng, item, rng.randint(1, 5))
    prompt = (
        f"You are given a review of a(n) {item.product} product and an aspect it covers. Extract the one keyphrase "
        f"of the review that mentions the aspect. Do not give explanations.\nReview: {text}\nAspect: {aspect}\nOutput: "
    )
    return prompt, phrase


def gen_describe(rng: Random) -> tuple[str, str]:
    item = random_item(rng)
    made = f", made of {item.material}" if item.material else ""
    countable = not (is_plural(item.product) or item.product in MASS_NOUNS)
    offered = f"{article(item.feature)} {item.feature}" if countable else item.feature
    answer = f"This listing offers {offered} {item.product} from {item.brand}{made}. {define(item.product)}"
    synonyms = substitutes_of(item.product)
    if synonyms:
        answer += f" It is also sold as {synonyms[0]}."
    return f"Write a short description of the product '{item.title}'.\nOutput: ", answer
