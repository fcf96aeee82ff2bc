"""The synth stage's output folder, and the ``synthetic`` frame the build stage reads from it.

``questions.jsonl`` holds the accepted questions (ShopBench records), ``rows.json`` the LLM row of each,
line by line: the records stay exactly the ShopBench schema, and ``build`` joins the two back into one
frame (:func:`synthetic_frame`) so that each LLM row's builder yields its own questions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from shoplm.shopbench.records import Question, load_questions, write_questions

QUESTIONS = "questions.jsonl"
ROWS = "rows.json"


def write_questions_with_rows(folder: Path, questions: list[tuple[str, Question]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_questions(folder / QUESTIONS, [q for _, q in questions])
    (folder / ROWS).write_text(json.dumps([row for row, _ in questions]) + "\n", encoding="utf-8")


def synthetic_frame(folder: str | Path) -> pd.DataFrame:
    """One row per accepted question: the LLM row's name (``row``) and the record's fields."""
    folder = Path(folder)
    if not (folder / QUESTIONS).is_file():
        raise FileNotFoundError(f"no {folder / QUESTIONS}: run the synth stage first (dvc repro synth)")
    questions = load_questions(folder / QUESTIONS)
    rows = json.loads((folder / ROWS).read_text(encoding="utf-8"))
    if len(rows) != len(questions):
        raise ValueError(f"{folder / ROWS} names {len(rows)} rows for {len(questions)} questions")
    return pd.DataFrame([{"row": row, **q.model_dump()} for row, q in zip(rows, questions)])
