"""The ShopBench question record: schema, strict validation, JSON Lines I/O.

One question a line, fields exactly as in the organisers' files (see shared/docs/shopbench-eval-spec.md,
"Data record"). Validation is strict on purpose: a scorer that silently coerced `"true"` to True or
dropped a malformed line would report a number for data it never saw.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from shoplm.registry import Registry, UnknownNameError
from shoplm.shopbench.jsonl import RecordError, read_json_lines

__all__ = [
    "FIELD_ORDER",
    "METRICS",
    "TASK_TYPES",
    "TRACKS",
    "TRACK_SHORT_NAMES",
    "Question",
    "RecordError",
    "load_questions",
    "question_from_dict",
    "questions_from_dicts",
    "read_json_lines",
    "write_questions",
]

# The five answer formats, in the organisers' order (reports list them so). Parsers, gold renderers and
# generation limits are registered per task type in their own modules.
TASK_TYPES: Registry[str] = Registry("task type")
for _name, _doc in {
    "multiple-choice": "one option number, e.g. 2",
    "ranking": "candidate numbers, best first, e.g. 1,4,3,2,5",
    "retrieval": "the numbers of the 3 matching candidates, e.g. 1,3,5",
    "named_entity_recognition": "a list of strings, e.g. ['Nike', 'running shoes']",
    "generation": "free text (explanations, translations, titles)",
}.items():
    TASK_TYPES.add(_name, _name, doc=_doc)

# The nine metrics, in the spec's order; each entry holds the task type it scores. The official
# evaluator dispatches on `metric` alone, so a metric on the wrong answer type would crash or score
# nonsense; Question refuses such a row up front. Implementations: shoplm.shopbench.metrics.
METRICS: Registry[str] = Registry("metric")
for _name, _task_type in (
    ("accuracy", "multiple-choice"),
    ("hit rate@3", "retrieval"),
    ("ndcg", "ranking"),
    ("micro f1", "named_entity_recognition"),
    ("rougel", "generation"),
    ("sent-transformer", "generation"),
    ("multilingual-sent-transformer", "generation"),
    ("bleu", "generation"),
    ("jp-bleu", "generation"),
):
    METRICS.add(_name, TASK_TYPES.check(_task_type), doc=f"scores {_task_type} questions")

TRACKS: tuple[str, ...] = (
    "amazon-kdd-cup-24-understanding-shopping-concepts",
    "amazon-kdd-cup-24-shopping-knowledge-reasoning",
    "amazon-kdd-cup-24-user-behavior-alignment",
    "amazon-kdd-cup-24-multi-lingual-abilities",
)

# Short names for tables; the numbering is the competition's (Track 5 = all-around).
TRACK_SHORT_NAMES: dict[str, str] = {
    TRACKS[0]: "track1-concepts",
    TRACKS[1]: "track2-reasoning",
    TRACKS[2]: "track3-behavior",
    TRACKS[3]: "track4-multilingual",
}

FIELD_ORDER: tuple[str, ...] = (
    "input_field",
    "output_field",
    "task_name",
    "task_type",
    "metric",
    "is_multiple_choice",
    "track",
)


def _field_error(field: str, detail: str) -> PydanticCustomError:
    # The field travels in ctx so that RecordError can name it even for cross-field checks.
    return PydanticCustomError("shopbench_field", "{detail}", {"field": field, "detail": detail})


def _check_known(field: str, value: str, known: Registry[str] | tuple[str, ...]) -> str:
    if value not in known:  # the message every registry gives: did-you-mean and the known names
        kind = known.kind if isinstance(known, Registry) else field
        raise _field_error(field, str(UnknownNameError(kind, value, known)))
    return value


def _is_int(x: Any) -> bool:
    return type(x) is int  # bool is a subclass of int; it must not pass as a number


def _is_number(x: Any) -> bool:
    return (type(x) is int) or (type(x) is float and math.isfinite(x))


def _gold_type_problem(task_type: str, gold: Any) -> str | None:
    """None if `gold` has the type the spec gives for `task_type`, else what is wrong."""
    got = type(gold).__name__
    if task_type == "multiple-choice":
        return None if _is_int(gold) else f"multiple-choice needs an int, got {got}"
    if task_type in ("retrieval", "ranking"):
        check, wanted = (_is_int, "ints") if task_type == "retrieval" else (_is_number, "numbers")
        if not isinstance(gold, list) or not gold:
            return f"{task_type} needs a non-empty list of {wanted}, got {got}"
        bad = [x for x in gold if not check(x)]
        return f"{task_type} needs a list of {wanted}, found {bad[0]!r}" if bad else None
    if task_type == "named_entity_recognition":
        if not isinstance(gold, list) or not all(isinstance(x, str) for x in gold):
            return f"named_entity_recognition needs a list of str, got {got}"
        return None
    # generation: one reference, or a non-empty list of references
    if isinstance(gold, str):
        return None
    if isinstance(gold, list) and gold and all(isinstance(x, str) for x in gold):
        return None
    return f"generation needs a str or a non-empty list of str, got {got}"


class Question(BaseModel):
    """One ShopBench question, exactly the organisers' record (field order = file order)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    input_field: str
    output_field: Any
    task_name: str = Field(min_length=1)
    task_type: str
    metric: str
    is_multiple_choice: bool
    track: str

    @field_validator("task_type")
    @classmethod
    def _known_task_type(cls, value: str) -> str:
        return _check_known("task_type", value, TASK_TYPES)

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        return _check_known("metric", value, METRICS)

    @field_validator("track")
    @classmethod
    def _known_track(cls, value: str) -> str:
        return _check_known("track", value, TRACKS)

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        problem = _gold_type_problem(self.task_type, self.output_field)
        if problem:
            raise _field_error("output_field", problem)
        if METRICS[self.metric] != self.task_type:
            raise _field_error(
                "metric",
                f"metric {self.metric!r} scores {METRICS[self.metric]!r} questions, "
                f"not {self.task_type!r}",
            )
        if self.is_multiple_choice != (self.task_type == "multiple-choice"):
            raise _field_error(
                "is_multiple_choice",
                f"is {self.is_multiple_choice} but task_type is {self.task_type!r}",
            )
        return self


def _describe(error: Mapping[str, Any]) -> tuple[str | None, str]:
    """(field, message) for one pydantic error, in RecordError's words."""
    ctx = error.get("ctx") or {}
    if error["type"] == "shopbench_field":
        return ctx["field"], ctx["detail"]
    field = str(error["loc"][0]) if error["loc"] else None
    if error["type"] == "missing":
        return field, "missing"
    if error["type"] == "extra_forbidden":
        return field, f"unknown field (known: {', '.join(FIELD_ORDER)})"
    value = error.get("input")
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    return field, f"{error['msg']}, got {type(value).__name__} {shown}"


def question_from_dict(row: Any, source: str | Path = "<memory>", line: int | None = None) -> Question:
    """Validate one record; any problem becomes a RecordError naming source, line and field."""
    if not isinstance(row, dict):
        raise RecordError(source, line, None, f"expected a JSON object, got {type(row).__name__}")
    try:
        return Question.model_validate(row)
    except ValidationError as exc:
        described = [_describe(e) for e in exc.errors()]
        field, message = described[0]
        if len(described) > 1:
            others = ", ".join(f"'{f}'" for f, _ in described[1:])
            message += f" (also wrong: {others})"
        raise RecordError(source, line, field, message) from None


def questions_from_dicts(rows: Iterable[Any], source: str | Path = "<memory>") -> list[Question]:
    """Validate many records; line numbers are 1-based positions in `rows`."""
    return [question_from_dict(row, source, i) for i, row in enumerate(rows, start=1)]


def load_questions(path: str | Path) -> list[Question]:
    """Read and validate a ShopBench JSON Lines file; the first bad line raises RecordError."""
    return [question_from_dict(row, path, number) for number, row in read_json_lines(path)]


def write_questions(path: str | Path, questions: Iterable[Question]) -> None:
    """Write questions as JSON Lines in the official layout (compact, UTF-8, official field order)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as handle:
        for question in questions:
            record = question.model_dump()
            ordered = {name: record[name] for name in FIELD_ORDER}
            handle.write(json.dumps(ordered, ensure_ascii=False, separators=(",", ":")) + "\n")
