"""Fixtures for the source-reader tests: the committed samples and scratch copies of them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from data.generators import sample_extra

SAMPLE_ROOT = Path(__file__).resolve().parents[2] / "data" / "sample"


def _composed() -> dict[str, int]:
    """Rows the samples hold after their hand-written ones (data/generators/sample_extra.py): the tests
    below count the hand-written rows, whose edge cases they check, plus these."""
    products, queries = sample_extra.esci_rows()
    items, reviews = sample_extra.reviews_rows()
    records = sample_extra.ecinstruct_rows()
    return {
        "esci_judgements": sum(len(judged) for *_, judged in queries),  # all in the train split
        "esci_queries": len(queries),
        "esci_local_judgements": sum(len(judged) for _, locale, *_, judged in queries if locale != "us"),
        "m2_products": len(sample_extra.m2_rows()),
        "reviews": sum(len(rows) for rows in reviews.values()),
        "reviews_per_category": {c: sum(len(reviews[row[0]]) for row in rows) for c, rows in items.items()},
        "items": sum(len(rows) for rows in items.values()),
        "items_per_category": {c: len(rows) for c, rows in items.items()},
        "bought_together": sum(row[11] is not None for rows in items.values() for row in rows),
        "ecinstruct": len(records),  # all train, IND_Diverse_Instruction, no few-shot example
        "ecinstruct_per_task": {t: sum(r[0] == t for r in records) for t in {r[0] for r in records}},
        "mmlu_test": sum(len(rows) for rows in sample_extra.mmlu_rows().values()),
        "mmlu_test_per_subject": {s: len(rows) for s, rows in sample_extra.mmlu_rows().items()},
        "alpaca": len(sample_extra.alpaca_rows()),
    }


COMPOSED = _composed()


@pytest.fixture
def sample_root() -> Path:
    return SAMPLE_ROOT


@pytest.fixture
def copy_sample(tmp_path: Path) -> Callable[[str], Path]:
    """Copy ``data/sample/<folder>`` into tmp_path (to corrupt it) and return the copy."""

    def copy(folder: str) -> Path:
        target = tmp_path / folder.replace("/", "_")
        shutil.copytree(SAMPLE_ROOT / folder, target)
        return target

    return copy
