"""Candidates as adapters per request, without an engine: request layout, splitting, ranks, folders."""

from __future__ import annotations

import pytest

from shoplm.inference.backends import DummyBackend
from shoplm.merging.vllm_scoring import (
    candidate_folders,
    engine_lora_rank,
    generate_candidates,
    score_candidates,
)
from shoplm.params.generation import GenerationSettings
from shoplm.params.merging import MergeSpec
from shoplm.shopbench.records import load_questions

SAMPLE_QUESTIONS = "data/sample/shopbench/questions.jsonl"


class OneCallDouble(DummyBackend):
    """The dummy answers, tagged with each request's adapter; accepts ``one_call`` like the vllm backend."""

    def generate(self, requests, *, one_call=False):
        self.one_call = one_call
        answers = super().generate(requests)
        return [f"{answer}|{request.adapter}" for answer, request in zip(answers, requests)]


def test_every_candidate_answers_every_question_in_one_call(tmp_path):
    questions = load_questions(SAMPLE_QUESTIONS)[:5]
    backend = OneCallDouble()
    results = generate_candidates(backend, {"a": tmp_path / "a", "b": tmp_path / "b", "base": None}, questions,
                                  GenerationSettings(postprocess=False))
    assert backend.one_call and len(backend.calls) == 1 and len(backend.calls[0]) == 15
    assert list(results) == ["a", "b", "base"]
    assert all(raw.endswith(f"|{(tmp_path / 'a').resolve()}") for raw in results["a"].raw_outputs)
    assert all(raw.endswith("|None") for raw in results["base"].raw_outputs)
    assert results["a"].task_types == results["b"].task_types and results["a"].n_questions == 5


def test_scores_come_per_candidate(tmp_path):
    questions = load_questions(SAMPLE_QUESTIONS)
    scores = score_candidates(DummyBackend(), {"x": tmp_path / "x", "y": None}, questions)
    assert set(scores) == {"x", "y"} and scores["x"].score == scores["y"].score  # the double ignores adapters
    assert 0.0 <= scores["x"].score <= 1.0 and "track5" in scores["x"].report


def test_engine_rank_is_a_value_vllm_accepts():
    assert [engine_lora_rank(r) for r in (1, 2, 8, 12, 16, 17, 300)] == [1, 8, 8, 16, 16, 32, 320]
    with pytest.raises(ValueError, match="as a merge"):
        engine_lora_rank(513)


def test_candidate_folders_route_each_spec(tiny_adapters, tmp_path):
    specs = [MergeSpec(adapters={"v7": 0.3, "v8": 0.7}), MergeSpec(adapters={"v7": 0.3, "v8": 0.7}, alpha=0.0),
             MergeSpec(method="ties", adapters={"v7": 0.5, "v8": 0.5}, density=0.5)]
    folders, unsupported = candidate_folders(tiny_adapters, specs, tmp_path)
    assert folders[specs[1].fingerprint()] is None  # the base: no adapter
    assert (folders[specs[0].fingerprint()] / "adapter_config.json").is_file()
    assert unsupported == [specs[2]]
