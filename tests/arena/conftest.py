"""Small arena frames built in memory: the reader, the baselines and the classifier tests share them."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from arena.data import read_arena_csv

TRAIN_HEADER = ["id", "model_a", "model_b", "prompt", "response_a", "response_b",
                "winner_model_a", "winner_model_b", "winner_tie"]


def battle(i: int, prompt: str, a: str | None, b: str | None, winner: str) -> dict:
    return {"id": i, "model_a": "m1", "model_b": "m2", "prompt": json.dumps([prompt]),
            "response_a": json.dumps([a]), "response_b": json.dumps([b]),
            "winner_model_a": int(winner == "a"), "winner_model_b": int(winner == "b"),
            "winner_tie": int(winner == "tie")}


def write_csv(path: Path, rows: list[dict], columns: list[str] = TRAIN_HEADER) -> Path:
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def length_battles(n_prompts: int = 12) -> list[dict]:
    """Battles where the longer answer wins and equal lengths tie: a signal a model can learn."""
    rows, i = [], 0
    for p in range(n_prompts):
        prompt = f"Question {p}: which blender should I buy for smoothies?"
        short, long = "Brand X.", "Brand X, because its 1200 W motor crushes ice and it has a 5-year warranty."
        for a, b, winner in ((long, short, "a"), (short, long, "b"), (short, short, "tie"), (long, None, "a")):
            rows.append(battle(i, prompt, a, b, winner))
            i += 1
    return rows


@pytest.fixture
def arena_csv() -> SimpleNamespace:
    """The helpers above, for test modules (conftest is not importable under --import-mode=importlib)."""
    return SimpleNamespace(battle=battle, length_battles=length_battles, write=write_csv)


@pytest.fixture
def length_frame(tmp_path: Path) -> pd.DataFrame:
    return read_arena_csv(write_csv(tmp_path / "train.csv", length_battles()))
