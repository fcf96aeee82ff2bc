"""Questions and helpers shared by the constrained-decoding tests (no fixtures, no engine)."""

from __future__ import annotations

import random
import re
import re._parser as sre  # the stdlib's own regex parser: walk the exact tree `re` matches with
from pathlib import Path
from typing import Any

from shoplm.shopbench.records import Question, load_questions

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_SET = REPO_ROOT / "data" / "sample" / "shopbench" / "questions.jsonl"


def development_set() -> Path:
    """``../shared/data/shopbench/development.json`` beside the clone (CI), or beside the main checkout
    when this clone is a git worktree (its ``.git`` is a file naming ``<main>/.git/worktrees/<name>``)."""
    roots = [REPO_ROOT]
    git = REPO_ROOT / ".git"
    if git.is_file():
        roots.append(Path(git.read_text(encoding="utf-8").split(":", 1)[1].strip()).parents[2])
    paths = [root.parent / "shared" / "data" / "shopbench" / "development.json" for root in roots]
    return next((path for path in paths if path.is_file()), paths[0])


def question_sets() -> dict[str, list[Question]]:
    """The sample set, and the development set when it is present."""
    sets = {"sample": load_questions(SAMPLE_SET)}
    if development_set().is_file():
        sets["development"] = load_questions(development_set())
    return sets


def gold_answer(question: Question) -> str:
    """The gold answer written the way the parser reads it.

    ranking: candidates by gold relevance, best first (ties in prompt order); retrieval: the gold
    indices, padded to three with the lowest other candidates, since the shape always asks for three
    (padding never removes a gold index, so hit rate@3 is unchanged).
    """
    gold = question.output_field
    if question.task_type == "multiple-choice":
        return str(gold)
    if question.task_type == "ranking":
        return ",".join(str(i + 1) for i in sorted(range(len(gold)), key=lambda i: -gold[i]))
    if question.task_type == "retrieval":
        padded = list(gold) + [n for n in range(1, 100) if n not in gold]
        return ",".join(map(str, padded[:3]))
    raise ValueError(question.task_type)


def random_matches(regex: str, rng: random.Random, n: int) -> list[str]:
    """``n`` random strings that ``regex`` matches (literals, groups, |, classes and ? only)."""

    def walk(tree: Any) -> str:
        out = []
        for op, arg in tree:
            if op is sre.LITERAL:
                out.append(chr(arg))
            elif op is sre.SUBPATTERN:
                out.append(walk(arg[3]))
            elif op is sre.BRANCH:
                out.append(walk(rng.choice(arg[1])))
            elif op is sre.IN:
                kind, value = rng.choice(arg)
                out.append(chr(value) if kind is sre.LITERAL else chr(rng.randint(*value)))
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
                low, high, sub = arg
                out.extend(walk(sub) for _ in range(rng.randint(low, min(high, low + 2))))
            else:
                raise NotImplementedError(f"regex op {op} in {regex[:60]!r}")
        return "".join(out)

    tree, compiled = sre.parse(regex), re.compile(regex)
    texts = [walk(tree) for _ in range(n)]
    assert all(compiled.fullmatch(text) for text in texts)
    return texts
