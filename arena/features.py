"""Hand-made features of a battle: response lengths and their differences, overlap with the prompt.

Length is the strongest single signal in the arena data (longer answers win more often), which is why
the published baselines are built on it. Every a/b feature comes with its b/a twin, so a model that
sees the swapped battle sees the swapped features.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from arena.data import joined

_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _side(prompt: str, response: str, null_turns: int) -> dict[str, float]:
    words = _WORD.findall(response)
    prompt_words = _words(prompt)
    overlap = len(_words(response) & prompt_words) / max(len(prompt_words), 1)
    return {
        "chars": len(response), "words": len(words), "lines": response.count("\n") + 1,
        "digits": sum(ch.isdigit() for ch in response), "punct": sum(ch in ",.;:!?" for ch in response),
        "prompt_overlap": overlap, "null_turns": null_turns, "empty": float(not response.strip()),
    }


#: The per-side features that measure size only: what a "length-only" model sees.
LENGTH_FEATURES = ("chars", "words", "lines")


def length_columns(features: pd.DataFrame) -> list[str]:
    """The columns of ``battle_features`` that are a length (a's, b's and their difference)."""
    return [c for c in features.columns
            if c.split("_", 1)[0] in ("a", "b", "diff") and c.split("_", 1)[-1] in LENGTH_FEATURES]


def length_difference(frame: pd.DataFrame) -> np.ndarray:
    """len(response_a) - len(response_b) in characters: the difference-bucket baseline's one feature."""
    a = frame["response_a"].map(lambda t: len(joined(t)))
    b = frame["response_b"].map(lambda t: len(joined(t)))
    return (a - b).to_numpy(dtype=float)


def battle_features(frame: pd.DataFrame) -> pd.DataFrame:
    """One row of numbers per battle: a's and b's features, their differences, the prompt's length."""
    rows = []
    for prompt, resp_a, resp_b in zip(frame["prompt"], frame["response_a"], frame["response_b"]):
        text = joined(prompt)
        a = _side(text, joined(resp_a), sum(t is None for t in resp_a))
        b = _side(text, joined(resp_b), sum(t is None for t in resp_b))
        row = {f"a_{k}": v for k, v in a.items()} | {f"b_{k}": v for k, v in b.items()}
        row |= {f"diff_{k}": a[k] - b[k] for k in a}
        row |= {"prompt_chars": len(text), "turns": len(prompt),
                "same_response": float(joined(resp_a).strip() == joined(resp_b).strip())}
        rows.append(row)
    return pd.DataFrame(rows)
