"""Reply checks shared by every row, and the reject reasons the run counts.

A reply becomes questions only if it passes, in order: it finished (not cut at ``max_tokens``), it is
one JSON object, it matches the row's JSON schema, and its texts are neither empty nor over-long.
Each assembler then checks its own row (option counts, answers among the options, labels found in the
source record) and raises :class:`Rejected` with one of :data:`REASONS`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jsonschema

from shoplm.builders.formats import norm
from shoplm.synthesis.cache import Reply

REASONS: dict[str, str] = {
    "request_failed": "no reply after every retry (timeouts, 429, 5xx, unreadable bodies)",
    "truncated": "the reply was cut at max_tokens",
    "malformed_json": "the reply is not one JSON object",
    "schema": "the JSON does not match the row's schema",
    "empty_text": "a generated text is empty",
    "too_long": "a generated text is longer than synth.max_text_chars",
    "wrong_option_count": "not the number of options the question needs",
    "answer_out_of_range": "the answer index is not an option's index",
    "answer_not_among_options": "the source record's answer is not among the options",
    "duplicate_options": "two options are the same after normalisation",
    "label_not_in_source": "a label that must come from the source record is not in it",
    "no_source_data": "the source data cannot complete the question (too few distractors, no E entry)",
    "placeholder": "an instruction wording does not hold its placeholder exactly once",
    "not_self_scoring": "the gold answer does not score 1.0 on its own question",
    "contaminated": "the question overlaps an evaluation question",
}


class Rejected(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown reject reason {reason!r}")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


def parse_reply(reply: Reply, schema: Mapping[str, Any], max_chars: int) -> dict[str, Any]:
    """The reply's JSON object, checked against ``schema`` and for empty or over-long strings."""
    if reply.finish_reason == "length":
        raise Rejected("truncated", f"{reply.completion_tokens} completion tokens")
    text = reply.text.strip()
    if text.startswith("```"):  # a fenced block from models that ignore "JSON only"
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Rejected("malformed_json", str(exc)) from None
    if not isinstance(data, dict):
        raise Rejected("malformed_json", f"a JSON {type(data).__name__}, not an object")
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        raise Rejected("schema", f"{'/'.join(map(str, exc.absolute_path)) or '<root>'}: {exc.message}") from None
    for path, value in _strings(data):
        if not value.strip():
            raise Rejected("empty_text", path)
        if len(value) > max_chars:
            raise Rejected("too_long", f"{path}: {len(value)} characters")
    return data


def _strings(value: Any, path: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield path or "<root>", value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}/{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}/{index}")


def check_options(options: Sequence[str], answer: int, count: int | tuple[int, int] | None = None) -> None:
    """Distinct, the right number of them, and an answer index among them."""
    low, high = (count, count) if isinstance(count, int) else (count or (2, 10))
    if not low <= len(options) <= high:
        raise Rejected("wrong_option_count", f"{len(options)} options, need {low}-{high}")
    if len({norm(o) for o in options}) != len(options) or not all(norm(o) for o in options):
        raise Rejected("duplicate_options", "; ".join(options))
    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < len(options):
        raise Rejected("answer_out_of_range", f"answer {answer!r} for {len(options)} options")


def require_in(label: str, source: str, what: str) -> None:
    """``label`` must occur in ``source`` (normalised: case, punctuation and spacing ignored)."""
    if not norm(label) or norm(label) not in norm(source):
        raise Rejected("label_not_in_source", f"{what} {label!r}")


def distinct(texts: Sequence[str], what: str) -> list[str]:
    """``texts`` with no two equal after normalisation, else a duplicate_options reject."""
    if len({norm(t) for t in texts}) != len(texts):
        raise Rejected("duplicate_options", f"{what}: {'; '.join(texts)}")
    return list(texts)
