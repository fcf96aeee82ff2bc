"""Question records: strict validation, errors naming file/line/field, JSON Lines I/O."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from shoplm.shopbench.records import (
    FIELD_ORDER,
    METRICS,
    TASK_TYPES,
    TRACK_SHORT_NAMES,
    TRACKS,
    Question,
    RecordError,
    load_questions,
    questions_from_dicts,
    write_questions,
)


def test_constants() -> None:
    assert len(TASK_TYPES) == 5
    assert len(METRICS) == 9 and "hit rate@3" in METRICS and "jp-bleu" in METRICS
    assert len(TRACKS) == 4 and set(TRACK_SHORT_NAMES) == set(TRACKS)


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_a_valid_record_of_each_task_type_loads(tmp_path, make_row, write_jsonl, task_type) -> None:
    path = write_jsonl(tmp_path / "q.jsonl", [make_row(task_type)])
    [question] = load_questions(path)
    assert question.task_type == task_type


@pytest.mark.parametrize(
    ("task_type", "gold"),
    [
        ("ranking", [1, 0, 0, 0, 0]),  # ints are numbers
        ("named_entity_recognition", []),
        ("generation", ["first reference", "second reference"]),
        ("multiple-choice", 5),  # the review-rating task uses 1-5
    ],
)
def test_gold_types_the_spec_allows(make_question, task_type, gold) -> None:
    assert make_question(task_type, output_field=gold).output_field == gold


def _change(row: dict, key: str, value: object) -> dict:
    if value is _DELETE:
        del row[key]
    else:
        row[key] = value
    return row


_DELETE = object()

BAD_FIELDS = [
    # (task type, key, value, field named in the error, words in the error)
    ("multiple-choice", "metric", _DELETE, "metric", "missing"),
    ("multiple-choice", "metric", "acc", "metric", "unknown metric 'acc'. Known: accuracy, bleu, hit rate@3"),
    ("multiple-choice", "task_type", "multichoice", "task_type", "unknown task type 'multichoice'. Did you mean 'multiple-choice'?"),
    ("multiple-choice", "track", "understanding-shopping-concepts", "track", "unknown track"),
    ("multiple-choice", "is_multiple_choice", "true", "is_multiple_choice", "valid boolean, got str"),
    ("multiple-choice", "is_multiple_choice", False, "is_multiple_choice", "task_type is 'multiple-choice'"),
    ("multiple-choice", "task_name", 3, "task_name", "valid string, got int"),
    ("multiple-choice", "task_name", "", "task_name", "at least 1 character"),
    ("multiple-choice", "output_field", True, "output_field", "needs an int, got bool"),
    ("multiple-choice", "output_field", "2", "output_field", "needs an int, got str"),
    ("multiple-choice", "metric", "rougel", "metric", "scores 'generation' questions"),
    ("retrieval", "output_field", "1,2", "output_field", "non-empty list of ints"),
    ("retrieval", "output_field", [], "output_field", "non-empty list of ints"),
    ("retrieval", "output_field", [1, 2.0], "output_field", "found 2.0"),
    ("ranking", "output_field", [1, "a", 0], "output_field", "found 'a'"),
    ("ranking", "output_field", [1, True, 0], "output_field", "found True"),  # bool is no number
    ("named_entity_recognition", "output_field", [1], "output_field", "list of str"),
    ("generation", "output_field", 5, "output_field", "str or a non-empty list of str"),
    ("generation", "output_field", [], "output_field", "str or a non-empty list of str"),
    ("generation", "answer", "x", "answer", "unknown field"),  # extra keys are forbidden
]


@pytest.mark.parametrize(("task_type", "key", "value", "field", "words"), BAD_FIELDS)
def test_a_bad_field_names_file_line_and_field(
    tmp_path, make_row, write_jsonl, task_type, key, value, field, words
) -> None:
    rows = [make_row(task_type), make_row(task_type), _change(make_row(task_type), key, value)]
    path = write_jsonl(tmp_path / "x.jsonl", rows)
    with pytest.raises(RecordError) as caught:
        load_questions(path)
    error = caught.value
    assert (error.path, error.line, error.field) == (str(path), 3, field)
    assert str(error).startswith(f"{path}:3: field '{field}': ")
    assert words in str(error)


def test_the_message_format(tmp_path, make_row, write_jsonl) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [make_row(metric="acc")])
    with pytest.raises(RecordError, match=r"x\.jsonl:1: field 'metric': unknown metric 'acc'\. Known: accuracy, "):
        load_questions(path)


def test_several_problems_are_all_named(make_row) -> None:
    row = make_row(metric="acc", track="t1")
    with pytest.raises(RecordError, match="also wrong: 'track'"):
        questions_from_dicts([row])


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("{not json}\n", 1, None, "not valid JSON"),
        ('[1, 2]\n', 1, None, "expected a JSON object, got list"),
        ('{"a": 1, "a": 2}\n', 1, "a", "duplicate key"),
        ('{"a": NaN}\n', 1, None, "not valid JSON"),
        (b"\xff\xfe\n", 1, None, "not UTF-8"),
    ],
)
def test_lines_that_are_not_records(tmp_path, text, line, field, words) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(RecordError) as caught:
        load_questions(path)
    assert (caught.value.line, caught.value.field) == (line, field)
    assert words in str(caught.value) and str(path) in str(caught.value)


def test_blank_lines(tmp_path, make_row) -> None:
    record = json.dumps(make_row())
    path = tmp_path / "q.jsonl"
    path.write_text(f"{record}\n{record}\n")  # the final newline is fine
    assert len(load_questions(path)) == 2
    path.write_text(f"{record}\n{record}")  # so is its absence
    assert len(load_questions(path)) == 2
    path.write_text(f"{record}\n\n{record}\n")  # an empty line in the middle is not
    with pytest.raises(RecordError, match=":2: empty line"):
        load_questions(path)
    path.write_bytes(f"{record}\n \n{record}\n".encode())  # nor one of spaces
    with pytest.raises(RecordError, match=":2: empty line"):
        load_questions(path)


@pytest.mark.parametrize("tail", ["\n\n", "\n\n\n", "\r\n\r\n", "\n  \n\t\n"])
def test_blank_lines_at_the_end_are_ignored(tmp_path, make_row, tail) -> None:
    """Editors add a blank line at the end of a file; it is not a lost record."""
    record = json.dumps(make_row())
    path = tmp_path / "q.jsonl"
    path.write_bytes(f"{record}\n{record}{tail}".encode())
    assert len(load_questions(path)) == 2


def test_a_line_separator_inside_a_record_does_not_split_it(tmp_path, make_row, write_jsonl) -> None:
    path = write_jsonl(tmp_path / "q.jsonl", [make_row(input_field="a\u2028b\u0085c")])
    assert load_questions(path)[0].input_field == "a\u2028b\u0085c"


def test_questions_from_dicts_names_the_source(make_row) -> None:
    with pytest.raises(RecordError, match=r"^builder:2: field 'output_field'"):
        questions_from_dicts([make_row(), make_row(output_field="x")], source="builder")


def test_the_model_itself_is_strict(make_row) -> None:
    with pytest.raises(ValidationError):
        Question(**make_row(is_multiple_choice=1))


def test_write_then_load_round_trips_in_the_official_layout(tmp_path, make_question) -> None:
    questions = [
        make_question("generation", output_field="陶器製 コーヒーマグ", metric="jp-bleu"),
        make_question("ranking"),
    ]
    path = tmp_path / "out" / "q.jsonl"
    write_questions(path, questions)
    assert load_questions(path) == questions
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 3
    assert "陶器製" in lines[0]  # ensure_ascii=False
    assert list(json.loads(lines[1])) == list(FIELD_ORDER)
    assert lines[1].startswith('{"input_field":"Question?\\nAnswer: ","output_field":[1,0.01,0.1,1,0],')


def test_the_development_set_keeps_its_layout(development_set: Path, tmp_path) -> None:
    questions = load_questions(development_set)
    copy = tmp_path / "dev.jsonl"
    write_questions(copy, questions)
    assert load_questions(copy) == questions
    # Same keys in the same order on every line as the organisers' file.
    original = development_set.read_text(encoding="utf-8").splitlines()
    assert [list(json.loads(line)) for line in original] == [list(FIELD_ORDER)] * len(original)
