"""The source records each LLM row sends to the model, and the few-shot block of its prompts.

A row's records are rows of its source frames (``BuilderSpec.frames``), narrowed by the template's
``source`` filter, as plain dicts holding at least the template's inputs. Reviews 2023 rows are reviews
joined with their item's metadata on ``parent_asin`` (the metadata title becomes ``meta_title``). ESCI
wording rows send one grounding example, an E judgement, per call. Records come in a seeded order, so
a run and its resumption ask for the same records in the same order.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from shoplm.shopbench.answers import render_gold
from shoplm.shopbench.records import Question
from shoplm.synthesis.templates import RowTemplate

WORDINGS_PER_CALL = 8  # the ESCI templates ask for 8 wordings per call


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


def _reviews_with_meta(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    meta = frames["reviews2023_meta"][["parent_asin", "title", "categories", "features", "description"]]
    meta = meta.rename(columns={"title": "meta_title"}).drop_duplicates("parent_asin")
    return frames["reviews2023"].merge(meta, on="parent_asin", how="inner")


def source_records(row: RowTemplate, frames_needed: Sequence[str], frames: Mapping[str, pd.DataFrame],
                   wanted: int, rng: random.Random) -> list[dict[str, Any]]:
    """The records to send for ``wanted`` questions, in a seeded order (one request each)."""
    if set(frames_needed) == {"reviews2023", "reviews2023_meta"}:
        frame = _reviews_with_meta(frames)
    else:
        frame = frames[frames_needed[0]]
    for column, value in row.source.items():
        frame = frame[frame[column] == value]
    if row.assembler == "esci_wordings":
        frame = frame[(frame["esci_label"] == "E") & frame[list(row.inputs)].notna().all(axis=1)]
        wanted = math.ceil(wanted / WORDINGS_PER_CALL)
    records = _records(frame.reset_index(drop=True))
    rng.shuffle(records)
    return records[:wanted]


def few_shot_block(examples: Sequence[Question], task_type: str, count: int, rng: random.Random) -> str:
    """``count`` example questions of ``task_type`` with their answers, or '' when none apply."""
    pool = [q for q in examples if q.task_type == task_type]
    if not pool or count <= 0:
        return ""
    chosen = rng.sample(pool, min(count, len(pool)))
    shown = "\n\n".join(f"Example {i}:\n{q.input_field.rstrip()}{render_gold(q)}" for i, q in enumerate(chosen, 1))
    return f"Examples of the question style we want (with their answers):\n\n{shown}\n\n"
