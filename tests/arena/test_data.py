"""The competition reader: real schema in, clear one-line errors out (file, row, column)."""

from __future__ import annotations

import numpy as np
import pytest

from arena.data import ArenaDataError, read_arena_csv, swap_probabilities, swap_sides

SAMPLE = "data/sample/arena"


def test_reader_parses_turn_lists_with_null_and_one_hot_labels(tmp_path, arena_csv):
    frame = read_arena_csv(arena_csv.write(tmp_path / "t.csv", arena_csv.length_battles(1)))
    assert frame["response_b"][3] == [None]  # an unanswered turn stays a null turn
    assert frame["label"].tolist() == [0, 1, 2, 0]


@pytest.mark.parametrize("cell, reason", [
    ('["unclosed', "not valid JSON"),
    ('{"a": 1}', "expected a JSON list of strings"),
    ("[1, 2]", "expected a JSON list of strings"),
])
def test_malformed_json_list_names_file_row_and_column(tmp_path, arena_csv, cell, reason):
    rows = arena_csv.length_battles(1)
    rows[2]["response_b"] = cell
    path = arena_csv.write(tmp_path / "bad.csv", rows)
    with pytest.raises(ArenaDataError) as err:
        read_arena_csv(path)
    assert str(err.value).startswith(f"{path}: row 4: field 'response_b': {reason}")


def test_winners_that_do_not_sum_to_one_are_rejected(tmp_path, arena_csv):
    rows = arena_csv.length_battles(1)
    rows[1]["winner_tie"] = 1  # b and tie both marked
    path = arena_csv.write(tmp_path / "bad.csv", rows)
    with pytest.raises(ArenaDataError, match=r"row 3: field 'winner_model_a/winner_model_b/winner_tie': "
                                             r"one-hot winners must be 0/1 and sum to 1"):
        read_arena_csv(path)


def test_missing_column_is_named(tmp_path, arena_csv):
    rows = [{k: v for k, v in arena_csv.battle(0, "p", "a", "b", "a").items() if k != "response_b"}]
    path = arena_csv.write(tmp_path / "bad.csv", rows, columns=list(rows[0]))
    with pytest.raises(ArenaDataError, match="missing column.s. response_b"):
        read_arena_csv(path)


def test_test_split_needs_no_model_or_winner_columns(tmp_path, arena_csv):
    rows = [{k: arena_csv.battle(0, "p", "a", None, "a")[k] for k in ("id", "prompt", "response_a", "response_b")}]
    frame = read_arena_csv(arena_csv.write(tmp_path / "test.csv", rows, columns=list(rows[0])), "test")
    assert "label" not in frame and frame["response_b"][0] == [None]


def test_a_user_mistake_exits_2_with_one_line(tmp_path, arena_csv, monkeypatch, capsys):
    from tasks._runner import run

    rows = arena_csv.length_battles(1)
    rows[0]["prompt"] = "not json"
    path = arena_csv.write(tmp_path / "bad.csv", rows)
    with pytest.raises(SystemExit) as exit_:
        run(lambda argv: read_arena_csv(path) is None)
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {path}: row 2: field 'prompt': "
                                                            "not valid JSON (Expecting value at character 0)"]


def test_swapping_twice_gives_the_battle_back(length_frame):
    twice = swap_sides(swap_sides(length_frame))
    assert twice.equals(length_frame)
    assert (swap_sides(length_frame)["label"].tolist()[:3]) == [1, 0, 2]
    probs = np.array([[0.7, 0.2, 0.1]])
    assert swap_probabilities(probs).tolist() == [[0.2, 0.7, 0.1]]


def test_committed_sample_reads_and_is_balanced():
    train = read_arena_csv(f"{SAMPLE}/train.csv")
    test = read_arena_csv(f"{SAMPLE}/test.csv", "test")
    assert len(train) >= 200 and len(test) >= 30
    counts = np.bincount(train["label"], minlength=3)
    assert counts.min() > 0.2 * len(train)  # every class, ties included, is common
    assert not set(train["prompt"].map(str)) & set(test["prompt"].map(str))


@pytest.mark.slow
def test_committed_sample_is_the_generator_output(tmp_path):
    from data.generators.arena import write_arena_sample

    for path in write_arena_sample(tmp_path):
        assert path.read_bytes() == (__import__("pathlib").Path(SAMPLE) / path.name).read_bytes(), path.name
