"""Turn a model's raw text into the answer the official evaluator scores.

The rules are the organisers' `parsers.py` VERSION 0.1.1 as written down in
shared/docs/shopbench-eval-spec.md ("Parsing the model's text"). They are odd in places; each odd rule is
kept on purpose, because a scorer that parsed "better" would report numbers the leaderboard never gave.
No parser raises on model output: unparseable text yields the failure value of its task type.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from shoplm.registry import Registry

MAX_RESPONSE_CHARS = 5000  # spec: "Every response is first cut to its first 5000 characters."

MULTIPLE_CHOICE_FAILURE = -1
LIST_FAILURE: list[int] = []
RANKING_MAX_ITEM = 5
RANKING_KEEP = 5
RETRIEVAL_KEEP = 3

Parser = Callable[[str], Any]

# Task type → its official parser; an unknown task type raises UnknownNameError, listing the known ones.
PARSERS: Registry[Parser] = Registry("parser for task type")


def cut(response: str) -> str:
    return response[:MAX_RESPONSE_CHARS]


@PARSERS.register("multiple-choice")
def parse_multiple_choice(response: str) -> int:
    """Spec: strip, then the FIRST character as an int.

    So "10" -> 1 and "2. foo" -> 2, while "Answer: 2" and "(1)" fail: only the first character is
    read. An empty answer fails too (the original raised IndexError there; we return -1).
    """
    try:
        return int(cut(response).strip()[0])
    except Exception:
        return MULTIPLE_CHOICE_FAILURE


def _numbers(response: str) -> list[int]:
    """Spec cleaning shared by ranking and retrieval.

    Keep only digits, commas and spaces (str.isnumeric, as the original), so brackets vanish and
    "[2, 5, 1, 3, 4]" parses, but newlines vanish too: "6\\n9\\n15" becomes "6915", one number.
    Split on commas only and int() each piece; a piece that fails int() is skipped, so "1 2 3"
    (one piece) yields nothing.
    """
    cleaned = "".join(c for c in cut(response) if c.isnumeric() or c in (",", " "))
    numbers: list[int] = []
    for piece in cleaned.split(","):
        try:
            numbers.append(int(piece))
        except Exception:
            continue
    return numbers


@PARSERS.register("ranking")
def parse_ranking(response: str) -> list[int]:
    """Spec: drop numbers > 5, keep the first 5, and if any number repeats the WHOLE list is [].

    "0" is not > 5 so it passes the filter (and NDCG then reads the last candidate, see metrics).
    """
    try:
        ranked = [n for n in _numbers(response) if n <= RANKING_MAX_ITEM][:RANKING_KEEP]
        return ranked if len(ranked) == len(set(ranked)) else list(LIST_FAILURE)
    except Exception:
        return list(LIST_FAILURE)


@PARSERS.register("retrieval")
def parse_retrieval(response: str) -> list[int]:
    """Spec: the first 3 numbers, no de-duplication and no upper bound ("2,2,2" -> [2, 2, 2])."""
    try:
        return _numbers(response)[:RETRIEVAL_KEEP]
    except Exception:
        return list(LIST_FAILURE)


@PARSERS.register("named_entity_recognition")
def parse_named_entity_recognition(response: str) -> list[str]:
    """Spec: a Python list literal whose items are all strings is taken as is; anything else
    (a list holding a number, a tuple, a bare string, bad syntax) is split on commas, each piece
    stripped, empty pieces dropped. Brackets and quotes stay in the pieces ("[a, b]" ->
    ["[a", "b]"]) and a newline is not a separator. Never fails.

    ast.literal_eval can raise far more than SyntaxError/ValueError on hostile text
    (RecursionError, MemoryError, TypeError...), so every exception means "not a literal".
    """
    text = cut(response)
    try:
        value = ast.literal_eval(text)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
    except Exception:
        pass
    return [piece.strip() for piece in text.split(",") if piece.strip()]


@PARSERS.register("generation")
def parse_generation(response: str) -> str:
    """Spec: strip whitespace. Never fails."""
    return cut(response).strip()


def get_parser(task_type: str) -> Parser:
    """The official parser of ``task_type``; an unknown task type raises ``UnknownNameError``."""
    return PARSERS.get(task_type)


def parse(task_type: str, response: str) -> Any:
    return get_parser(task_type)(response)


def is_parse_failure(task_type: str, parsed: Any) -> bool:
    """True when the parser returned its failure value.

    multiple-choice: -1 (no digit can parse to it, so it only means failure); ranking and retrieval:
    [] (nothing usable, a repeated ranking number included). NER and generation never fail.
    """
    if task_type == "multiple-choice":
        return parsed == MULTIPLE_CHOICE_FAILURE
    if task_type in ("ranking", "retrieval"):
        return parsed == LIST_FAILURE
    return False
