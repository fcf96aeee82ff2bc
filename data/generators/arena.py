"""Write the arena sample: battles in the Kaggle "LLM Classification Finetuning" schema, judged by the
official ShopBench metric instead of a person.

Prompts are the project's ShopBench sample questions (``data/sample/shopbench/questions.jsonl``).
Each gets six responses from six invented "models" whose quality is how often they answer right:

    ace-bot 0.90   sharp-bot 0.75   fair-bot 0.60   coin-bot 0.45   shaky-bot 0.30   poor-bot 0.15

For each question a bot gives the reference answer with its probability, else a well-formed wrong one
(another choice, another order, other items, another question's answer of the same kind). Quality shows
in content only, never in size: every answer is phrased with one of ``WRAPPERS`` (a bare answer, a
pleasantry around it, ...), drawn for each response from the same distribution whatever the bot and
whether the answer is right, so lengths overlap across bots; wrong answers are the reference's shape
(same number of choices or items) or another reference answer of the same kind, so they are neither
systematically longer nor shorter. The winner is the response whose answer the official scorer
(``shoplm.shopbench.scoring.score``) rates higher, a tie when the scores are equal. The scorer reads
the answer a bot gives, not the phrasing around it (a judge asked who is right does the same; scoring
the wrapped text would make ROUGE/BLEU reward the shorter wrapper, a length signal again).

Ten of the fifteen pairs per prompt are kept (seeded), in a seeded A/B order. The last
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
from shoplm.shopbench.records import Question, load_questions
from shoplm.shopbench.scoring import score

QUESTIONS = Path("data/sample/shopbench/questions.jsonl")
DEFAULT_ROOT = Path("data/sample/arena")
SEED = 4
PAIRS_PER_PROMPT = 10
TEST_PROMPTS = 6
#: Bot → probability of giving the reference answer to a question.
QUALITY = {"ace-bot": 0.90, "sharp-bot": 0.75, "fair-bot": 0.60, "coin-bot": 0.45, "shaky-bot": 0.30,
           "poor-bot": 0.15}
BOTS = tuple(QUALITY)
#: How a response phrases its answer; one is drawn per response, the same way for every bot (no digits,
#: so a parser reads only the answer's).
WRAPPERS = (
    "{}",
    "{}",
    "Answer: {}",
    "The answer is {}.",
    "Sure! {}",
    "Of course.\n{}",
    "{}\nHope this helps with your shopping!",
    "Great question! Here is what I would say:\n{}",
    "Here you go:\n{}\nLet me know if you need anything else.",
    "Happy to help. After comparing the listings and what customers say about them, my answer is:\n{}\n"
    "Reviews and return policies are worth a look before you buy. Happy shopping!",
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


def wrong_text(q: Question, others: list[Question], rng: random.Random) -> str:
    """A well-formed answer of the reference's shape that the metric scores lower (sometimes partly right)."""
    gold = q.output_field
    if q.task_type == "multiple-choice":
        return str(rng.choice([c for c in range(max(4, gold + 1)) if c != gold]))
    if q.task_type == "ranking":
        order = gold_text(q).split(",")
        while order == gold_text(q).split(","):
            rng.shuffle(order)
        return ",".join(order)
    if q.task_type == "retrieval":
        picks = sorted(rng.sample([i for i in range(1, 11)], len(gold)))
        while picks == sorted(gold):
            picks = sorted(rng.sample([i for i in range(1, 11)], len(gold)))
        return ",".join(map(str, picks))
    pool = [o for o in others if o.metric == q.metric and o.output_field != gold] or \
        [o for o in others if o.task_type == q.task_type and o.output_field != gold]
    return gold_text(rng.choice(pool))


def responses(q: Question, others: list[Question], rng: random.Random) -> tuple[dict[str, str], dict[str, str]]:
    """Per bot: the answer it gives (what the scorer judges) and the response text (the answer, phrased)."""
    answers = {bot: gold_text(q) if rng.random() < p else wrong_text(q, others, rng) for bot, p in QUALITY.items()}
    return answers, {bot: rng.choice(WRAPPERS).format(answer) for bot, answer in answers.items()}


def _metric_values(questions: list[Question], texts: list[str]) -> list[float]:
    report = score(questions, texts)  # the official scorer, one sample per (question, answer)
    return [f1_from_counts([tuple(s["score"])]) if isinstance(s["score"], list) else s["score"]
            for s in report.samples]


def battles(seed: int = SEED) -> list[dict]:
    """Every battle as a dict of the train schema plus ``split`` (train or test)."""
    rng = random.Random(seed)
    questions = load_questions(QUESTIONS)
    per_question = [responses(q, questions, rng) for q in questions]
    flat_q = [q for q, (answers, _) in zip(questions, per_question) for _ in answers]
    values = iter(_metric_values(flat_q, [a for answers, _ in per_question for a in answers.values()]))
    metric = [{bot: next(values) for bot in answers} for answers, _ in per_question]
    rows = []
    for number, (q, (_, resp), value) in enumerate(zip(questions, per_question, metric)):
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
