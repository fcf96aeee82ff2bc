"""The solved questions a ``k-shot`` prompt shows before the question.

Two rules keep a k-shot score honest, and both are enforced here rather than trusted to params:

* never the question itself: a question's own text is excluded from its draw (this is all that
  applies in training, where the examples may come from the training set itself);
* never from the set being evaluated: an example set that shares a question with the evaluated set
  fails, naming the params key, before anything is generated.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from shoplm.errors import UserError
from shoplm.shopbench.prompts import normalize_input
from shoplm.shopbench.records import Question, load_questions

EXAMPLES_KEY = "evaluate.generation.prompts.k_shot.examples"


class ExampleSetError(UserError, ValueError):
    """The k-shot example set is missing or overlaps the questions it would be shown with."""


class ExampleSet:
    """Solved questions grouped by task type; draws are deterministic per (seed, question text)."""

    def __init__(self, questions: Iterable[Question], source: str = "<memory>", seed: int = 0) -> None:
        self.source, self.seed = source, seed
        self.by_type: dict[str, list[Question]] = defaultdict(list)
        for question in questions:
            self.by_type[question.task_type].append(question)
        self._texts = {normalize_input(q.input_field) for qs in self.by_type.values() for q in qs}

    @classmethod
    def load(cls, path: str | Path | None, seed: int = 0, key: str = EXAMPLES_KEY) -> ExampleSet:
        if not path:
            raise ExampleSetError(f"{key}: k-shot needs an example set (a ShopBench JSONL); none is set")
        if not Path(path).is_file():
            raise ExampleSetError(f"{key}: {path}: no such file (a built mixture's train.jsonl is made by "
                                  "`dvc repro build@<mixture>`)")
        return cls(load_questions(path), source=str(path), seed=seed)

    def __len__(self) -> int:
        return len(self._texts)

    def check_disjoint(self, evaluated: Sequence[object], key: str = EXAMPLES_KEY) -> None:
        """Fail when any evaluated question is also an example: the set being evaluated is off limits."""
        shared = sum(normalize_input(_input_field(q)) in self._texts for q in evaluated)
        if shared:
            raise ExampleSetError(
                f"{key}: {self.source} shares {shared} of the {len(evaluated)} evaluated questions; k-shot "
                "examples must not come from the set being evaluated (use a training mixture's train.jsonl)")

    def draw(self, task_type: str, k: int, question_text: str) -> list[Question]:
        """Up to ``k`` examples of ``task_type``, never ``question_text`` itself, the same ones every run."""
        own = normalize_input(question_text)
        pool = [q for q in self.by_type.get(task_type, []) if normalize_input(q.input_field) != own]
        digest = hashlib.sha256(f"{self.seed}\0{own}".encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], "big"))  # Python's hash() is salted per process
        return rng.sample(pool, min(k, len(pool)))


def _input_field(question: object) -> str:
    return question["input_field"] if isinstance(question, dict) else question.input_field  # type: ignore[index, attr-defined]
