"""Deterministic generator of the tiny model's shipped text: ``data/corpus/tiny_corpus.txt`` (training
text) and ``data/corpus/probe_questions.jsonl`` (held-out questions for its answer-format probe).

The corpus mixes plain shopping text (listings, reviews, buying guides, search logs) with ShopBench-style
chat exchanges in ChatML, one per task type, whose answers have the competition's shapes: a digit
(multiple-choice), a permutation ``3,1,2,5,4`` (ranking), indices ``2,7,9`` (retrieval), a list literal
``['navy']`` (NER) or a sentence (generation). Every answer is computed from the composed question, so
the text is self-consistent. The wording and word lists are the project's own (``corpus_vocabulary.py``).
The probe questions come from the same builders on another seed, so the corpus does not hold them.

File formats: :mod:`shoplm.modeling.corpus`, which reads them. Regenerate from the repository root with
``python -m data.generators.corpus`` (a test checks the committed files match).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from random import Random

from data.generators import corpus_tasks as tasks
from data.generators.corpus_items import Item, complements_of, random_item, this
from data.generators.corpus_vocabulary import ASPECTS, COLORS, REVIEW_TONE, SHOPPING_SENTENCES
from shoplm.modeling.chat_format import render_chatml
from shoplm.modeling.corpus import DEFAULT_CORPUS_PATH, PROBE_FILE, render_corpus, render_probe_questions
from shoplm.shopbench.prompts import build_messages

DEFAULT_SEED = 2024
DEFAULT_PLAIN_DOCS = 380
DEFAULT_CHAT_DOCS = 800
PROBE_SEED = 10_000  # the corpus uses seed 2024; probe questions come from another stream
PROBE_PER_TASK_TYPE = 16


def _review(rng: Random, item: Item, stars: int) -> tuple[str, str, str]:
    """A short review with its star rating's tone; returns (text, aspect, keyphrase)."""
    aspect = rng.choice(sorted(ASPECTS))
    good, bad = ASPECTS[aspect]
    phrase = rng.choice(good if stars >= 4 else bad if stars <= 2 else good + bad)
    opener, closer = (rng.choice(options) for options in REVIEW_TONE[stars])
    place = rng.choice(["home", "trip", "family", "office", "kids", "partner"])
    text = f"{opener} I bought {this(item.product)} {item.product} for my {place}. {phrase.capitalize()}. {closer}"
    return text, aspect, phrase


def _plain_listing(rng: Random, item: Item) -> str:
    facts = [item.definition_sentence(), f"Made of {item.material}." if item.material else None,
             f"{item.feature.capitalize()} design.",
             "Available in {}, {} and {}.".format(*rng.sample(COLORS, 3)) if item.color else None,
             f"Rated {rng.randint(2, 4)}.{rng.randint(0, 9)} out of 5 stars by {rng.randint(3, 4999)} customers."]
    bullets = "".join(f"- {fact}\n" for fact in facts if fact)
    return f"{item.title}\nAbout this item:\n{bullets}Price: ${rng.randint(3, 249)}.{rng.randint(0, 99):02d}\n"


def _plain_review(rng: Random, item: Item) -> str:
    stars = rng.randint(1, 5)
    text, _, _ = _review(rng, item, stars)
    return f"{item.title}\n{stars} out of 5 stars. {text}\n"


def _plain_guide(rng: Random, item: Item) -> str:
    partners = complements_of(item.product)
    extra = f" Shoppers who buy {item.product} often add {rng.choice(partners)} to the same order." if partners else ""
    tips = " ".join(rng.sample(SHOPPING_SENTENCES, 2))
    return f"Buying guide: {item.product}. {item.definition_sentence()}{extra} {tips}\n"


def _plain_session(rng: Random, item: Item) -> str:
    other = random_item(rng)
    return (
        f"Search: {item.query(rng)}\nClicked: {other.title}\nClicked: {item.title}\n"
        f"Purchased: {item.title}\nQuantity: {rng.randint(1, 4)}\n"
    )


PLAIN_KINDS: list[Callable[[Random, Item], str]] = [_plain_listing, _plain_review, _plain_guide, _plain_session]

# (task type, weight, builder returning (prompt, answer)); several phrasings per task type
CHAT_KINDS: list[tuple[str, int, Callable[[Random], tuple[str, str]]]] = [
    ("multiple-choice", 3, tasks.mc_complement),
    ("multiple-choice", 2, tasks.mc_category),
    ("multiple-choice", 3, tasks.mc_attribute),
    ("multiple-choice", 2, tasks.mc_total_count),
    ("multiple-choice", 2, tasks.mc_query_relation),
    ("multiple-choice", 2, lambda rng: tasks.mc_review_rating(rng, _review)),
    ("ranking", 5, tasks.ranking_query),
    ("retrieval", 3, tasks.retrieval_also_buy),
    ("retrieval", 2, lambda rng: tasks.retrieval_aspects(rng, _review)),
    ("named_entity_recognition", 6, tasks.ner_query),
    ("generation", 3, tasks.gen_explain),
    ("generation", 2, lambda rng: tasks.gen_keyphrase(rng, _review)),
    ("generation", 2, tasks.gen_describe),
]


def generate_documents(
    seed: int = DEFAULT_SEED, plain_docs: int = DEFAULT_PLAIN_DOCS, chat_docs: int = DEFAULT_CHAT_DOCS
) -> list[str]:
    """The corpus as a list of documents, interleaved in a seeded order (same arguments, same list)."""
    rng = Random(seed)
    kinds = ["plain"] * plain_docs + ["chat"] * chat_docs
    rng.shuffle(kinds)
    weights = [weight for _, weight, _ in CHAT_KINDS]
    docs = []
    for kind in kinds:
        if kind == "plain":
            docs.append(rng.choice(PLAIN_KINDS)(rng, random_item(rng)))
        else:
            task_type, _, build = rng.choices(CHAT_KINDS, weights=weights)[0]
            prompt, answer = build(rng)
            docs.append(render_chatml(build_messages(prompt, task_type, answer)))
    return docs


def generate_probe_questions(per_task: int = PROBE_PER_TASK_TYPE, seed: int = PROBE_SEED
                             ) -> list[tuple[str, str, str]]:
    """``per_task`` held-out ``(task type, prompt, reference answer)`` triples per task type."""
    rng = Random(seed)
    by_type: dict[str, list] = {}
    for task_type, _, build in CHAT_KINDS:
        by_type.setdefault(task_type, []).append(build)
    return [(task_type, *rng.choice(builds)(rng)) for task_type, builds in by_type.items() for _ in range(per_task)]


def write_corpus(path: Path = DEFAULT_CORPUS_PATH, **kwargs: int) -> Path:
    """Write the corpus to ``path`` and the probe questions beside it; returns the corpus path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_corpus(generate_documents(**kwargs)), encoding="utf-8")
    (path.parent / PROBE_FILE).write_text(render_probe_questions(generate_probe_questions()), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_CORPUS_PATH)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--plain-docs", type=int, default=DEFAULT_PLAIN_DOCS)
    parser.add_argument("--chat-docs", type=int, default=DEFAULT_CHAT_DOCS)
    args = parser.parse_args(argv)
    path = write_corpus(args.out, seed=args.seed, plain_docs=args.plain_docs, chat_docs=args.chat_docs)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB) and {path.parent / PROBE_FILE}")


if __name__ == "__main__":
    main()
