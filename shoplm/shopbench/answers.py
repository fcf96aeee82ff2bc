"""The ideal model text for a question's gold answer.

`render_gold` is the inverse of the parsers: its text parses back to the gold answer and scores the
metric's maximum. Tests use it to check the scorer, and the training-data builders use it as the
target a model should learn to emit, so it is also the format constrained decoding allows
(digits and commas for choices, rankings and retrievals).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from shoplm.registry import Registry
from shoplm.shopbench.records import Question

# Task type → the renderer of its gold answer (the inverse of its parser).
RENDERERS: Registry[Callable[[Any], str]] = Registry("gold renderer for task type")


@RENDERERS.register("multiple-choice", doc='the option number: "2"')
def render_multiple_choice(gold: int) -> str:
    return str(gold)  # the parser reads the first character: "2"


@RENDERERS.register("retrieval", doc='the gold numbers joined by commas: "1,3,5"')
def render_retrieval(gold: list[int]) -> str:
    return ",".join(str(index) for index in gold)  # "1,3,5"


@RENDERERS.register("ranking", doc='candidate numbers by descending gold relevance: "1,4,3,2,5"')
def render_ranking(gold: list[float]) -> str:
    """Candidate numbers (1-based, as the ranking prompts number their products) in descending gold
    relevance. Ties keep prompt order (a stable sort), which does not change the NDCG.

    gold [1, 0.01, 0.1, 1, 0] -> "1,4,3,2,5".
    """
    order = sorted(range(len(gold)), key=lambda i: -gold[i])
    return ",".join(str(i + 1) for i in order)


@RENDERERS.register("named_entity_recognition", doc="a JSON array of the entities")
def render_named_entities(gold: list[str]) -> str:
    # A JSON array of strings is also a Python list literal, which the NER parser takes as is, so
    # entities that contain commas survive (the comma fallback would split them).
    return json.dumps(gold, ensure_ascii=False)


@RENDERERS.register("generation", doc="the (first) reference")
def render_generation(gold: str | list[str]) -> str:
    return gold if isinstance(gold, str) else gold[0]


def render_gold(question: Question) -> str:
    """The text a perfect model would answer `question` with."""
    return RENDERERS.get(question.task_type)(question.output_field)
