"""Time the ESCI builders and decontamination at a realistic scale, on a synthetic ESCI-shaped frame.

The bundled sample has 70 judgements; the real ESCI has 2.6 M. This script grows an ESCI-shaped frame
(QUERIES queries x 16 judged products each, made-up words; no real data) and times building N rows of
every non-LLM ESCI builder, then decontaminating all of them against the evaluation questions (the
development set when ``../shared`` is present, else the shipped sample questions).

Real ESCI overlaps ShopBench, which was built from it; made-up words alone would not, and would time
only decontamination's empty path. So an ``--overlap`` fraction of the queries take their query words,
product titles and descriptions from consecutive words of an evaluation question: their training
questions share n-grams with the index, some enough to be dropped. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_builders.py [--queries 20000] [--rows 10000] [--overlap 0.1]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
DEVELOPMENT_SET = REPO_ROOT.parent / "shared" / "data" / "shopbench" / "development.json"
SAMPLE_QUESTIONS = REPO_ROOT / "data" / "sample" / "shopbench" / "questions.jsonl"
PRODUCTS_PER_QUERY = 16
MIN_DONOR_WORDS = 60  # evaluation questions long enough to lend a query, titles and a description
TITLE_WORDS = 24  # long enough that a title copied from an evaluation question carries its n-grams


class Words:
    """Where a query's text comes from: made-up words, or consecutive words of one evaluation question."""

    def __init__(self, rng: random.Random, vocab: list[str], donor: list[str] | None) -> None:
        self.rng, self.vocab, self.donor = rng, vocab, donor

    def take(self, n: int) -> str:
        if self.donor is None:
            return " ".join(self.rng.sample(self.vocab, n))
        start = self.rng.randrange(max(1, len(self.donor) - n))
        return " ".join(self.donor[start:start + n])


def synthetic_esci(queries: int, seed: int = 0, donors: list[list[str]] = (), overlap: float = 0.0
                   ) -> pd.DataFrame:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(20_000)]
    brands = [f"Brand{i}" for i in range(3_000)]
    rows = []
    for qid in range(queries):
        words = Words(rng, vocab, rng.choice(donors) if donors and rng.random() < overlap else None)
        query = words.take(3)
        locale = rng.choices(["us", "es", "jp"], [8, 1, 1])[0]
        for k in range(PRODUCTS_PER_QUERY):
            pid = f"B{qid:06d}{k:03d}"
            rows.append({
                "example_id": len(rows), "query": query, "query_id": qid, "product_id": pid,
                "product_locale": locale,
                "esci_label": rng.choices("ESCI", [65, 22, 3, 10])[0], "small_version": 1, "large_version": 1,
                "split": "train", "product_title": f"{rng.choice(brands)} " + words.take(TITLE_WORDS),
                "product_description": words.take(40), "product_bullet_point": None,
                "product_brand": rng.choice(brands), "product_color": None,
                "product_bullets": [words.take(8) for _ in range(4)],
            })
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=10_000, help="rows per builder")
    parser.add_argument("--overlap", type=float, default=0.1,
                        help="fraction of queries whose text is copied from evaluation questions (default 0.1)")
    args = parser.parse_args()

    from shoplm.builders import BUILDERS
    from shoplm.builders.decontam import decontaminate
    from shoplm.builders.esci_index import esci_index
    from shoplm.builders.mixtures import _run_builder
    from shoplm.shopbench.records import load_questions

    eval_path = DEVELOPMENT_SET if DEVELOPMENT_SET.is_file() else SAMPLE_QUESTIONS
    eval_questions = load_questions(eval_path)
    donors = [words for q in eval_questions if len(words := q.input_field.split()) >= MIN_DONOR_WORDS]
    start = time.perf_counter()
    frame = synthetic_esci(args.queries, donors=donors, overlap=args.overlap)
    print(f"synthetic ESCI: {len(frame):,} judgements in {time.perf_counter() - start:.1f} s; "
          f"{args.overlap:.0%} of queries copy text from {len(donors)} of the {len(eval_questions)} "
          f"questions in {eval_path.name}")
    start = time.perf_counter()
    esci_index(frame, ("us",))
    print(f"index (us): {time.perf_counter() - start:.1f} s")
    frames = {"esci": frame}
    questions, groups = [], []
    for name in sorted(n for n, s in BUILDERS.items() if s.frames == ("esci",) and not s.needs_llm):
        made, _, seconds = _run_builder(name, args.rows, 0, frames)
        questions += made
        groups += [name] * len(made)
        print(f"{name:32s} {len(made):7,d} rows {seconds:7.2f} s {len(made) / seconds:10,.0f} rows/s")
    start = time.perf_counter()
    result = decontaminate(questions, eval_questions, groups=groups)
    seconds = time.perf_counter() - start
    print(f"decontaminate {len(questions):,} questions against {len(eval_questions)}: {seconds:.1f} s "
          f"({len(questions) / seconds:,.0f} questions/s), dropped {result.total_dropped} "
          f"({result.total_dropped / max(1, len(questions)):.1%}); per builder: {dict(sorted(result.dropped.items()))}")


if __name__ == "__main__":
    main()
