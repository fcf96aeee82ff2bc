"""Write the arena sample: battles in the Kaggle "LLM Classification Finetuning" schema, judged by the
official ShopBench metric instead of a person.

Prompts are the project's ShopBench sample questions (``data/sample/shopbench/questions.jsonl``).
Each gets six responses of known quality, from six invented "models":

    gold-bot      the reference answer, in the shape the parser expects
    sample-bot    the committed sample prediction (a plausible, sometimes sloppy answer)
    chatty-bot    the reference answer wrapped in pleasantries
    wrong-bot     a well-formed wrong answer
    ramble-bot    a long, friendly answer that never answers (a parse failure)
    silent-bot    no answer at all: a JSON ``[null]`` turn

Ten of the fifteen pairs per prompt are kept (seeded), in a seeded A/B order. The winner is the
response the official metric scores higher, a tie when the scores are equal. The last
``TEST_PROMPTS`` prompts form ``test.csv`` (no model or winner columns), the rest ``train.csv``, so
no prompt is in both. Deterministic: the committed files are this module's output.

    python -m data.generators.arena [ROOT]      # from the repository root; default ROOT: data/sample/arena
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import random
import sys
from pathlib import Path

from shoplm.shopbench.metrics import f1_from_counts
from shoplm.shopbench.records import Question, load_questions, read_json_lines
from shoplm.shopbench.scoring import score

QUESTIONS = Path("data/sample/shopbench/questions.jsonl")
PREDICTIONS = Path("data/sample/shopbench/predictions.jsonl")
DEFAULT_ROOT = Path("data/sample/arena")
SEED = 4
PAIRS_PER_PROMPT = 10
TEST_PROMPTS = 6
BOTS = ("gold-bot", "sample-bot", "chatty-bot", "wrong-bot", "ramble-bot", "silent-bot")
OPENERS = ("Sure! Happy to help.", "Great question!", "Of course.", "Here you go:")
CLOSERS = ("Let me know if you need anything else.", "Hope this helps with your shopping!",
           "Happy shopping!")
RAMBLE = (
    "When you shop online it is worth comparing several listings before you decide.",
    "Reading the reviews carefully tells you a lot about how a product holds up over time.",
    "Price is important, but so are the return policy, the warranty and the delivery time.",
    "Many customers also look at the materials and the size chart before they buy.",
    "Brands differ a lot in quality, so it can pay to spend a little more.",
    "If you are unsure, a product with many ratings is usually a safer choice.",
)


def gold_text(q: Question) -> str:
    """The reference answer written the way a model should answer."""
    gold = q.output_field
    if q.task_type == "ranking":  # relevance per candidate → candidates, most relevant first
        return ",".join(str(i + 1) for i in sorted(range(len(gold)), key=lambda i: -gold[i]))
    if q.task_type == "retrieval":
        return ",".join(str(i) for i in gold)
    if q.task_type == "named_entity_recognition":
        return json.dumps(gold, ensure_ascii=False)
    return str(gold)


def wrong_text(q: Question, others: list[Question]) -> str:
    """A well-formed answer the metric scores low."""
    gold = q.output_field
    if q.task_type == "multiple-choice":
        return str((gold + 1) % 4)
    if q.task_type == "ranking":
        return ",".join(reversed(gold_text(q).split(",")))
    if q.task_type == "retrieval":
        return ",".join(str(i) for i in range(1, 11) if i not in gold)[:5]
    same = [o for o in others if o.metric == q.metric and o.output_field != gold]
    return gold_text(same[0]) if same else "I do not know."


def responses(q: Question, sample: str, others: list[Question], rng: random.Random) -> dict[str, str | None]:
    gold = gold_text(q)
    ramble = " ".join(rng.sample(RAMBLE, k=rng.randint(3, len(RAMBLE))))
    return {"gold-bot": gold, "sample-bot": sample,
            "chatty-bot": f"{rng.choice(OPENERS)} {gold}\n{rng.choice(CLOSERS)}",
            "wrong-bot": wrong_text(q, others), "ramble-bot": ramble, "silent-bot": None}


def _metric_values(questions: list[Question], texts: list[str]) -> list[float]:
    report = score(questions, texts)  # the official scorer, one sample per (question, response)
    return [f1_from_counts([tuple(s["score"])]) if isinstance(s["score"], list) else s["score"]
            for s in report.samples]


def battles(seed: int = SEED) -> list[dict]:
    """Every battle as a dict of the train schema plus ``split`` (train or test)."""
    rng = random.Random(seed)
    questions = load_questions(QUESTIONS)
    samples = [row["prediction"] for _, row in read_json_lines(PREDICTIONS)]
    per_question = [responses(q, s, questions, rng) for q, s in zip(questions, samples)]
    flat_q = [q for q, r in zip(questions, per_question) for _ in r]
    flat_text = [text or "" for r in per_question for text in r.values()]
    values = iter(_metric_values(flat_q, flat_text))
    metric = [{bot: next(values) for bot in r} for r in per_question]
    rows = []
    for number, (q, resp, value) in enumerate(zip(questions, per_question, metric)):
        pairs = rng.sample(list(itertools.combinations(BOTS, 2)), PAIRS_PER_PROMPT)
        for left, right in pairs:
            a, b = (left, right) if rng.random() < 0.5 else (right, left)
            diff = value[a] - value[b]
            winner = (int(diff > 1e-9), int(diff < -1e-9), int(abs(diff) <= 1e-9))
            key = f"{seed}:{number}:{a}:{b}".encode()
            rows.append({
                "id": int(hashlib.sha256(key).hexdigest()[:8], 16),
                "model_a": a, "model_b": b, "prompt": json.dumps([q.input_field], ensure_ascii=False),
                "response_a": json.dumps([resp[a]], ensure_ascii=False),
                "response_b": json.dumps([resp[b]], ensure_ascii=False),
                "winner_model_a": winner[0], "winner_model_b": winner[1], "winner_tie": winner[2],
                "split": "test" if number >= len(questions) - TEST_PROMPTS else "train"})
    return rows


def _csv(rows: list[dict], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_arena_sample(root: Path = DEFAULT_ROOT) -> list[Path]:
    rows = battles()
    train_columns = ["id", "model_a", "model_b", "prompt", "response_a", "response_b",
                     "winner_model_a", "winner_model_b", "winner_tie"]
    root.mkdir(parents=True, exist_ok=True)
    train, test = root / "train.csv", root / "test.csv"
    train.write_bytes(_csv([r for r in rows if r["split"] == "train"], train_columns).encode("utf-8"))
    test.write_bytes(_csv([r for r in rows if r["split"] == "test"],
                          ["id", "prompt", "response_a", "response_b"]).encode("utf-8"))
    return [train, test]


if __name__ == "__main__":
    for path in write_arena_sample(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROOT):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
