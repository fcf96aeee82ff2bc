"""ECInstruct (NingLab/ECInstruct on the Hugging Face hub; eCeLLM, Peng et al., ICML 2024).

The hub repository ships one file, ``dataset.json``, loaded by ``load_dataset("NingLab/ECInstruct")``
as a single ``train`` split whose records carry::

    task, setting, split, instruction, input, options, output, few_shot_example

``split`` is ``train`` / ``val`` / ``test``; ``setting`` is e.g. ``IND_Diverse_Instruction`` or
``OOD_Unseen_Instruction``. ``input`` is free text or a JSON-encoded object (``{"query": ...,
"product title": ...}``); ``options`` is null or a list of option strings, which the publisher's
processing code stored as a JSON-encoded string (``json.dumps(list)``) or a Python list repr
(``str(list)``, sequential recommendation). Both JSON arrays and JSON Lines are accepted.

Earlier releases (GitHub / Google Drive) laid files out as ``ECInstruct/<Task>/<Setting>/
{train,val,test}.json`` with only instruction/input/options/output; the reader infers task, setting
and split from such paths.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .base import (
    LINE,
    ROW_INDEX,
    FieldError,
    ReadResult,
    RowErrors,
    SourceError,
    check_choices,
    check_decoded,
    check_limit,
    iter_json_lines,
    open_text,
    progress_bar,
    req_str,
    require_path,
    str_frame,
)

DATASET_FILE = "dataset.json"
TASKS = (
    "Answerability_Prediction", "Answer_Generation", "Attribute_Value_Extraction",
    "Multiclass_Product_Classification", "Product_Matching", "Product_Relation_Prediction",
    "Product_Substitute_Identification", "Query_Product_Rank", "Sentiment_Analysis",
    "Sequential_Recommendation",
)
SETTINGS = (
    "IND_Diverse_Instruction", "IND_Diverse_Instruction_1-shot", "IND_Single_Instruction",
    "IND_Unseen_Instruction", "OOD_Diverse_Instruction", "OOD_Diverse_Instruction_1-shot",
    "OOD_Single_Instruction", "OOD_Unseen_Instruction",
)
SPLITS = ("train", "val", "test")
_SPLIT_ALIASES = {"train": "train", "val": "val", "validation": "val", "dev": "val", "test": "test"}

COLUMNS: dict[str, str] = {
    "task": "str", "setting": "str", "split": "str", "instruction": "str", "input": "str",
    "options": "object", "output": "str", "few_shot_example": "str", "input_fields": "object",
}


def parse_options(value: Any) -> list[str] | None:
    """Normalise ``options`` (null, a list, a JSON list string or a Python list repr) to a list."""
    if value is None:
        return None
    items = value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            try:
                items = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                raise FieldError("options", "a string that is not a JSON or Python list") from None
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise FieldError("options", f"expected a list of strings or null, got {value!r:.60}")
    return items


def parse_input_fields(text: str) -> dict[str, Any] | None:
    """``input`` decoded when it is a JSON object (most structured tasks), else None."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError:
        return None
    return decoded if isinstance(decoded, dict) else None


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if (path / DATASET_FILE).exists():
        return [path / DATASET_FILE]
    files = sorted(
        p for p in path.rglob("*") if p.suffix in (".json", ".jsonl") and
        not p.name.startswith("label") and p.is_file()
    )
    if not files:
        raise FileNotFoundError(f"ECInstruct: no {DATASET_FILE} (or other *.json files) in {path}")
    return files


def _path_defaults(path: Path) -> dict[str, str]:
    """task / setting / split implied by an ``ECInstruct/<Task>/<Setting>/<split>.json`` path."""
    defaults: dict[str, str] = {}
    if path.parent.parent.name in TASKS:
        defaults["task"] = path.parent.parent.name
    if path.parent.name in SETTINGS:
        defaults["setting"] = path.parent.name
    stem = path.stem.split("_")[0].lower()
    if stem in _SPLIT_ALIASES:
        defaults["split"] = _SPLIT_ALIASES[stem]
    return defaults


def _records(path: Path, errors: RowErrors, progress: bool | None) -> Iterator[tuple]:
    """Yield ``(row, row_kind, record)`` from a JSON array or a JSON Lines file."""
    with open_text(path) as handle:
        head = handle.read(4096).lstrip()
    if not head.startswith("["):
        for line, record in iter_json_lines(path, errors, progress, f"ECInstruct {path.name}"):
            yield line, LINE, record
        return
    with open_text(path) as handle:
        try:
            records = json.load(handle)
        except json.JSONDecodeError as exc:
            raise SourceError(path, f"not valid JSON ({exc.msg} at line {exc.lineno} "
                                    f"column {exc.colno})") from None
    for index, record in enumerate(progress_bar(records, f"ECInstruct {path.name}", progress)):
        if not isinstance(record, dict):
            errors.handle(SourceError(path, "not a JSON object", row=index, row_kind=ROW_INDEX))
            continue
        yield index, ROW_INDEX, record


def _row(record: dict[str, Any], defaults: dict[str, str]) -> dict[str, Any]:
    check_decoded(record)  # JSON arrays; iter_json_lines has checked JSON Lines already
    row: dict[str, Any] = {}
    for key, known in (("task", TASKS), ("setting", SETTINGS), ("split", SPLITS)):
        value = record.get(key, defaults.get(key))
        if value is None:
            raise FieldError(key, "missing (and not implied by the file path)")
        if not isinstance(value, str):
            raise FieldError(key, f"expected a string, got {type(value).__name__}")
        row[key] = value
    text = req_str(record, "input")
    shot = record.get("few_shot_example")
    row |= {
        "instruction": req_str(record, "instruction", allow_empty=False),
        "input": text,
        "options": parse_options(record.get("options")),
        "output": req_str(record, "output"),
        "few_shot_example": shot if shot is None or isinstance(shot, str) else json.dumps(shot),
        "input_fields": parse_input_fields(text),
    }
    return row


def read_ecinstruct(
    path: str | Path,
    *,
    tasks: str | list[str] | None = None,
    settings: str | list[str] | None = None,
    splits: str | list[str] | None = None,
    limit: int | None = None,
    on_error: str = "raise",
    progress: bool | None = None,
) -> ReadResult:
    """Read ECInstruct instruction records.

    Args:
        path: ``dataset.json`` (JSON array or JSON Lines), a folder holding it, or an older
            ``ECInstruct/`` tree of ``<Task>/<Setting>/<split>.json`` files.
        tasks: keep only these tasks (the publisher's names, e.g. ``"Sentiment_Analysis"``;
            see :data:`TASKS`).
        settings: keep only these settings (see :data:`SETTINGS`).
        splits: keep only these splits (``train``, ``val``, ``test``).
        limit: at most this many records (after filtering).
        on_error: ``"raise"`` or ``"skip"``; rows are named by 1-based ``line`` (JSON Lines) or
            0-based ``row index`` (JSON array). Malformed: not an object, bytes that are not UTF-8,
            a missing or non-string task/setting/split/instruction/input/output, ``options`` that
            is not a list.

    Returns a :class:`ReadResult` whose frame has one row per record:

    ================  ======  ==================================================================
    column            dtype   meaning
    ================  ======  ==================================================================
    task              str     e.g. ``Product_Matching``
    setting           str     e.g. ``IND_Diverse_Instruction``
    split             str     ``train`` / ``val`` / ``test``
    instruction       str     the task instruction
    input             str     raw input text (often a JSON-encoded object)
    options           object  list[str] such as ``["A: ...", "B: ..."]``, or None
    output            str     the reference answer (an option, ``yes``/``no``, a ranking ``A,C,B``,
                              or a JSON list for attribute value extraction)
    few_shot_example  str     the one-shot example for ``*_1-shot`` settings, else NaN
    input_fields      object  derived: ``input`` decoded when it is a JSON object, else None
    ================  ======  ==================================================================
    """
    check_limit(limit)
    filters = {
        "task": check_choices("tasks", tasks, TASKS),
        "setting": check_choices("settings", settings, SETTINGS),
        "split": check_choices("splits", splits, SPLITS),
    }
    errors = RowErrors(on_error)
    files = _files(require_path(path, "ECInstruct"))
    rows: list[dict[str, Any]] = []
    for file in files:
        defaults = _path_defaults(file)
        for row_number, row_kind, record in _records(file, errors, progress):
            if limit is not None and len(rows) >= limit:
                break
            try:
                row = _row(record, defaults)
            except FieldError as exc:
                errors.handle(SourceError(file, exc.reason, row=row_number, field=exc.field,
                                          row_kind=row_kind))
                continue
            if all(wanted is None or row[key] in wanted for key, wanted in filters.items()):
                rows.append(row)
        if limit is not None and len(rows) >= limit:
            break
    return errors.result(str_frame(rows, COLUMNS), files)
