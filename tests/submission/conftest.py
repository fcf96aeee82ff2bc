"""Fixtures for the submission tests: questions scored without metric models, and hand-written packages."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE_QUESTIONS = REPO / "data/sample/shopbench/questions.jsonl"
#: Metrics that need no sentence-embedding model, so scoring takes milliseconds.
CHEAP_METRICS = {"accuracy", "hit rate@3", "ndcg", "micro f1"}


def cheap_question_lines() -> list[str]:
    return [line for line in SAMPLE_QUESTIONS.read_text(encoding="utf-8").splitlines()
            if json.loads(line)["metric"] in CHEAP_METRICS]


@pytest.fixture
def cheap_questions_file(tmp_path: Path) -> Path:
    """The sample questions whose metric needs no model (multiple-choice, ranking, retrieval, NER)."""
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(cheap_question_lines()) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def many_mc_questions_file(tmp_path: Path) -> Path:
    """24 multiple-choice questions (the sample's, repeated) and the rest: one task type fills batches of 1, 7 and 16."""
    lines = cheap_question_lines()
    mc = [line for line in lines if json.loads(line)["task_type"] == "multiple-choice"]
    rest = [line for line in lines if json.loads(line)["task_type"] != "multiple-choice"]
    path = tmp_path / "many_mc.jsonl"
    path.write_text("\n".join((mc * 24)[:24] + rest) + "\n", encoding="utf-8")
    return path


def write_fake_package(folder: Path, body: str) -> Path:
    """A package whose models/user_config.py is ``body`` (a UserModel written by the test)."""
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "user_config.py").write_text(textwrap.dedent(body), encoding="utf-8")
    return folder
