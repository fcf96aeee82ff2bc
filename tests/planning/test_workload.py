from __future__ import annotations

import collections
from pathlib import Path

import pytest

from shoplm.planning.workload import (PromptTokens, _apportion, eval_set_workload, hidden_test_workload,
                                      scaled_to_hidden, shopbench_data)
from shoplm.shopbench.records import load_questions

REPO = Path(__file__).resolve().parents[2]
DEV_SET = REPO.parent / "shared" / "data" / "shopbench" / "development.json"
PLAIN = PromptTokens(system=lambda task: "", template_tokens=0, chars_per_token=4.0)


def test_hidden_test_counts_are_the_published_ones():
    workload = hidden_test_workload(PLAIN)
    # seed 003 §4.6: 6102, 1896, 2373, 1349 questions; 11720 in all (Track 5)
    assert [t.questions for t in workload.tracks] == [6102, 1896, 2373, 1349]
    assert sum(t.questions for t in workload.tracks) == 11720
    assert [t.limit_s / 60 for t in workload.tracks] == [70, 20, 30, 20]
    assert workload.all_around_limit_s == 140 * 60
    concepts = workload.tracks[0]
    # the development set's Track 1: 12 generation, 12 MC, 8 NER, 8 retrieval of 40 → 30% / 30% / 20% / 20%
    assert {load.task_type: load.questions for load in concepts.loads} == {
        "generation": 1831, "multiple-choice": 1831, "named_entity_recognition": 1220, "retrieval": 1220}
    mc = next(load for load in concepts.loads if load.task_type == "multiple-choice")
    assert mc.mean_prompt_tokens == pytest.approx(232 / 4)


@pytest.mark.skipif(not DEV_SET.is_file(), reason=f"the official development set is not at {DEV_SET}")
def test_the_development_shape_in_the_data_file_is_the_development_sets():
    lengths = collections.defaultdict(list)
    for question in load_questions(DEV_SET):
        lengths[(question.track, question.task_type)].append(len(question.input_field))
    stored = {(track, task): figures for track, entry in shopbench_data()["tracks"].items()
              for task, figures in entry["development"].items()}
    assert set(stored) == set(lengths)
    for key, values in lengths.items():
        assert stored[key] == {"questions": len(values), "mean_chars": round(sum(values) / len(values)),
                               "max_chars": max(values)}, key


def test_an_eval_set_gives_its_own_counts_and_prompt_lengths_and_can_be_scaled():
    questions = load_questions(REPO / "data/sample/shopbench/questions.jsonl")
    workload = eval_set_workload(questions, PLAIN, source="sample")
    assert sum(t.questions for t in workload.tracks) == len(questions)
    by_type = collections.defaultdict(list)
    for q in questions:
        by_type[(q.track, q.task_type)].append(len(q.input_field))
    for track in workload.tracks:
        for load in track.loads:
            chars = by_type[(track.track, load.task_type)]
            assert load.questions == len(chars)
            assert load.max_prompt_tokens == -(-max(chars) // 4)  # ceil(chars / 4)
    scaled = scaled_to_hidden(workload)
    hidden = {t: e["questions"] for t, e in shopbench_data()["tracks"].items()}
    assert all(t.questions == hidden[t.track] for t in scaled.tracks)


def test_apportion_keeps_the_total_and_the_shares():
    assert _apportion(10, {"a": 1, "b": 1, "c": 1}) in ({"a": 4, "b": 3, "c": 3}, {"a": 3, "b": 4, "c": 3},
                                                        {"a": 3, "b": 3, "c": 4})
    assert sum(_apportion(1349, {"generation": 5, "multiple-choice": 8}).values()) == 1349
