"""The competition's CSV files, read and checked: a malformed row fails naming file, row and column.

Schema (Kaggle "LLM Classification Finetuning" / LMSYS Chatbot Arena): ``id``, ``model_a``,
``model_b``, ``prompt``, ``response_a``, ``response_b``, ``winner_model_a``, ``winner_model_b``,
``winner_tie``. ``prompt`` and the responses are JSON lists of strings, one per turn, and a list may
hold ``null`` (a turn the model did not answer). The test file has no model and no winner columns.
Rows are numbered as a spreadsheet shows them: the header is row 1, the first record row 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from shoplm.errors import UserError

TEXT_COLUMNS = ("prompt", "response_a", "response_b")
LABEL_COLUMNS = ("winner_model_a", "winner_model_b", "winner_tie")
TRAIN_COLUMNS = ("id", "model_a", "model_b", *TEXT_COLUMNS, *LABEL_COLUMNS)
TEST_COLUMNS = ("id", *TEXT_COLUMNS)
#: Class order of every probability array in this package: a wins, b wins, tie.
CLASSES = ("a", "b", "tie")
#: Swapping responses a and b swaps classes a and b; a tie stays a tie.
SWAP_ORDER = [1, 0, 2]


class ArenaDataError(UserError, ValueError):
    """A competition file that does not follow the schema; the message names file, row and column.

    Its message reads like shoplm.sources' SourceError (``file: row N: field 'column': reason``), but it
    does not derive from it: the arena package shares only shoplm's registry, errors, tracking and params
    loader, so that editing a ShopBench reader does not rerun the arena DAG.
    """

    def __init__(self, file: str | Path, reason: str, row: int | None = None, column: str | None = None) -> None:
        self.file = str(file)
        self.reason = reason
        self.row = row
        self.column = column
        parts = [self.file]
        if row is not None:
            parts.append(f"row {row}")
        if column is not None:
            parts.append(f"field '{column}'")
        super().__init__(": ".join(parts) + f": {reason}")


def _turns(path: Path, row: int, column: str, text: object) -> list[str | None]:
    if not isinstance(text, str) or not text:
        raise ArenaDataError(path, "empty cell, expected a JSON list of strings", row, column)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArenaDataError(path, f"not valid JSON ({exc.msg} at character {exc.pos})", row, column) from None
    if not isinstance(value, list) or not all(v is None or isinstance(v, str) for v in value):
        raise ArenaDataError(path, f"expected a JSON list of strings (or null), got {text[:60]!r}", row, column)
    return value


def _check_winners(path: Path, frame: pd.DataFrame) -> np.ndarray:
    values = frame[list(LABEL_COLUMNS)]
    for offset, row in enumerate(values.itertuples(index=False)):
        cells = list(row)
        if not all(str(c) in {"0", "1"} for c in cells) or sum(int(c) for c in cells) != 1:
            shown = ", ".join(f"{name}={cell}" for name, cell in zip(LABEL_COLUMNS, cells))
            raise ArenaDataError(path, f"one-hot winners must be 0/1 and sum to 1, got {shown}",
                                 offset + 2, "/".join(LABEL_COLUMNS))
    return values.astype(int).to_numpy().argmax(axis=1)


def read_arena_csv(path: str | Path, split: str = "train") -> pd.DataFrame:
    """The file as a frame whose text columns hold lists of turns; train adds ``label`` (0 a, 1 b, 2 tie)."""
    path = Path(path)
    if split not in {"train", "test"}:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such arena {split} file")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    required = TRAIN_COLUMNS if split == "train" else TEST_COLUMNS
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ArenaDataError(path, f"missing column(s) {', '.join(missing)}; a {split} file needs "
                             f"{', '.join(required)}", 1, "header")
    if duplicated := frame["id"][frame["id"].duplicated()].tolist():
        raise ArenaDataError(path, f"duplicated id(s) {', '.join(map(str, duplicated[:5]))}", column="id")
    for column in TEXT_COLUMNS:
        frame[column] = [_turns(path, i + 2, column, text) for i, text in enumerate(frame[column])]
    if split == "train":
        frame["label"] = _check_winners(path, frame)
    return frame


def swap_sides(frame: pd.DataFrame) -> pd.DataFrame:
    """The same battles with responses (and models, and winners) a and b exchanged."""
    swapped = frame.copy()
    for left, right in (("response_a", "response_b"), ("model_a", "model_b"),
                        ("winner_model_a", "winner_model_b")):
        if left in frame.columns:
            swapped[left], swapped[right] = frame[right], frame[left]
    if "label" in frame.columns:
        swapped["label"] = np.asarray(SWAP_ORDER)[frame["label"].to_numpy()]
    return swapped


def swap_probabilities(probs: np.ndarray) -> np.ndarray:
    """P(a), P(b), P(tie) of the swapped battle, read back as the original battle's."""
    return np.asarray(probs)[:, SWAP_ORDER]


def joined(turns: list[str | None]) -> str:
    """All turns of one cell as one text; an unanswered (null) turn counts as empty."""
    return "\n\n".join(t or "" for t in turns)
