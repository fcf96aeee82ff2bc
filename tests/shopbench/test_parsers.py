"""Every parsing rule and quirk of shared/docs/shopbench-eval-spec.md, "Parsing the model's text"."""

from __future__ import annotations

import pytest

from shoplm.registry import UnknownNameError
from shoplm.shopbench.parsers import (
    MAX_RESPONSE_CHARS,
    PARSERS,
    get_parser,
    is_parse_failure,
    parse,
    parse_generation,
    parse_multiple_choice,
    parse_named_entity_recognition,
    parse_ranking,
    parse_retrieval,
)
from shoplm.shopbench.records import TASK_TYPES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", 2),
        ("10", 1),  # only the first character counts
        ("2. foo", 2),
        ("  3\n", 3),  # stripped first
        ("Answer: 2", -1),  # first character "A"
        ("(1)", -1),  # first character "("
        ("", -1),  # nothing to read (the original raised IndexError here)
        ("   \n", -1),
        ("-1", -1),  # "-" is not a digit
    ],
)
def test_multiple_choice_reads_only_the_first_character(text: str, expected: int) -> None:
    assert parse_multiple_choice(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,2,3,4,5", [1, 2, 3, 4, 5]),
        ("[2, 5, 1, 3, 4]", [2, 5, 1, 3, 4]),  # brackets are cleaned away
        ("1, 7, 2, 9, 3", [1, 2, 3]),  # numbers > 5 dropped
        ("0, 1, 2", [0, 1, 2]),  # 0 is not > 5: it passes
        ("1,2,2,3", []),  # a repeat empties the whole list
        ("7, 1, 7, 2", [1, 2]),  # the repeated 7 is dropped (> 5) before the repeat check
        ("3,1,2,4,5,3", [3, 1, 2, 4, 5]),  # the repeat is 6th: cut to 5 first, so no repeat
        ("1,2,3,4,5,6,7", [1, 2, 3, 4, 5]),
        ("1, 4, 5, aicrowd, 6", [1, 4, 5]),  # the emptied piece fails int() and is skipped
        ("1 2 3", []),  # one piece "1 2 3" fails int()
        ("6\n9\n15", []),  # newlines deleted -> "6915", which is > 5
        ("none", []),
        ("", []),
    ],
)
def test_ranking(text: str, expected: list[int]) -> None:
    assert parse_ranking(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100, 200, 300, 400", [100, 200, 300]),  # first 3, no upper bound
        ("2,2,2", [2, 2, 2]),  # no de-duplication
        ("6\n9\n15", [6915]),  # newlines are deleted, not separators
        ("1 2 3", []),
        ("[3, 8, 9]", [3, 8, 9]),
        ("Answer: 3, 8", [3, 8]),  # letters vanish, " 3" still int()s
        ("I think 1 and 3", []),  # " 1  3" is one piece
    ],
)
def test_retrieval(text: str, expected: list[int]) -> None:
    assert parse_retrieval(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("['New York', 'Amazon']", ["New York", "Amazon"]),  # Python literal
        ('["tablette", "asus"]', ["tablette", "asus"]),  # JSON is a Python literal too
        ("['a, b']", ["a, b"]),  # a literal keeps commas inside items
        ("New York, Amazon", ["New York", "Amazon"]),
        ("[New York, Amazon]", ["[New York", "Amazon]"]),  # brackets stay in the pieces
        ("['a', 1]", ["['a'", "1]"]),  # a non-string item: comma fallback, quotes stay
        ("'a', 'b'", ["'a'", "'b'"]),  # a tuple literal is not a list
        ("'nike'", ["'nike'"]),  # a string literal is not a list
        ("a\nb, c", ["a\nb", "c"]),  # a newline is not a separator
        (" , mens,, women ,", ["mens", "women"]),  # pieces stripped, empty ones dropped
        ("[]", []),  # an empty list literal is a list of strings
        ("", []),
    ],
)
def test_named_entity_recognition(text: str, expected: list[str]) -> None:
    assert parse_named_entity_recognition(text) == expected


def test_generation_strips_whitespace_only() -> None:
    assert parse_generation("\n  A soft blanket. \n\n") == "A soft blanket."


def test_every_response_is_cut_to_5000_characters_first() -> None:
    assert MAX_RESPONSE_CHARS == 5000
    # 5000 spaces then "2": the cut keeps only the spaces, nothing to read.
    assert parse_multiple_choice(" " * 5000 + "2") == -1
    # 4999 "x" then "12": the cut keeps "x"*4999 + "1".
    assert parse_retrieval("x" * 4999 + "12") == [1]
    assert parse_ranking("x" * 4999 + "12") == [1]
    # "a"*4999 + ",bc": the 5000th character is the comma, "bc" is cut off.
    assert parse_named_entity_recognition("a" * 4999 + ",bc") == ["a" * 4999]
    assert parse_generation("a" * 6000) == "a" * 5000


HOSTILE = [
    "[" * 10000,  # literal_eval: too many nested parentheses
    "(" * 300 + ")" * 300,
    "9" * 5000,  # int() digit limit (4300)
    "\x00",
    "'",
    "½,²,3",  # isnumeric but not int()-able
    "١٢٣",  # Arabic-Indic digits: isnumeric and int()-able
    "\ud800",  # lone surrogate
    "lambda: 1",
]


@pytest.mark.parametrize("task_type", TASK_TYPES)
@pytest.mark.parametrize("text", HOSTILE)
def test_no_parser_raises_on_model_output(task_type: str, text: str) -> None:
    parse(task_type, text)


def test_unicode_digits_follow_int() -> None:
    # The cleaning keeps str.isnumeric characters and int() accepts other scripts' digits.
    assert parse_retrieval("١,٢") == [1, 2]
    assert parse_retrieval("½,²,3") == [3]


def test_registry_covers_every_task_type_and_rejects_unknown_names() -> None:
    assert set(PARSERS) == set(TASK_TYPES)
    with pytest.raises(UnknownNameError, match="unknown parser for task type 'multichoice'. Did you mean "
                       "'multiple-choice'"):
        get_parser("multichoice")


@pytest.mark.parametrize(
    ("task_type", "parsed", "failed"),
    [
        ("multiple-choice", -1, True),
        ("multiple-choice", 0, False),
        ("ranking", [], True),
        ("ranking", [0], False),
        ("retrieval", [], True),
        ("named_entity_recognition", [], False),  # NER never fails
        ("generation", "", False),
    ],
)
def test_parse_failure_means_the_failure_value(task_type: str, parsed: object, failed: bool) -> None:
    assert is_parse_failure(task_type, parsed) is failed
