"""Fixtures for the training tests: the shipped sample questions, two small mixtures made from them,
the tiny base model's tokenizer, and hyperparameters small enough for a 2-core CPU (a few steps of
a rank-4 LoRA over 256-token rows, no gradient checkpointing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoplm.params.training import DPOHyperparameters, TrainHyperparameters
from shoplm.shopbench.records import Question, load_questions, write_questions

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_QUESTIONS = REPO_ROOT / "data" / "sample" / "shopbench" / "questions.jsonl"
TINY = dict(learning_rate=5e-3, warmup_steps=1, micro_batch_size=1, gradient_accumulation_steps=1, max_steps=4,
            max_seq_len=512, bf16=False, gradient_checkpointing=False, save_steps=2, logging_steps=1)


@pytest.fixture(scope="session")
def sample_questions() -> list[Question]:
    return load_questions(SAMPLE_QUESTIONS)


@pytest.fixture(scope="session")
def mixtures(sample_questions) -> dict[str, list[Question]]:
    """Two different mixtures: v7 = choice-like questions, v8 = generation and entity questions."""
    choice = {"multiple-choice", "ranking", "retrieval"}
    return {
        "v7": [q for q in sample_questions if q.task_type in choice],
        "v8": [q for q in sample_questions if q.task_type not in choice],
    }


@pytest.fixture(scope="session")
def tokenizer(tiny_base_dir):
    from shoplm.training.model import load_tokenizer

    return load_tokenizer(tiny_base_dir)


@pytest.fixture(scope="session")
def tiny_hp():
    def make(**overrides) -> TrainHyperparameters:
        return TrainHyperparameters.model_validate({**TINY, "lora": {"r": 4, "alpha": 8}, **overrides})

    return make


@pytest.fixture(scope="session")
def tiny_dpo_hp():
    def make(**overrides) -> DPOHyperparameters:
        return DPOHyperparameters.model_validate({**TINY, "learning_rate": 1e-3, "micro_batch_size": 2, **overrides})

    return make


@pytest.fixture(scope="session")
def write_mixture():
    """``write_mixture(root, name, questions)`` → root/data/processed/<name>/train.jsonl, as stage build writes."""
    def write(root: Path, name: str, questions: list[Question]) -> Path:
        path = root / "data" / "processed" / name / "train.jsonl"
        write_questions(path, questions)
        return path

    return write
