"""Prompt strategies: the default is today's prompt byte for byte; plain, k-shot and cot do what they say."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoplm.evaluation import run_zero_shot
from shoplm.inference.backends import create_backend
from shoplm.inference.generation import build_requests
from shoplm.modeling.chat_format import render_chatml
from shoplm.params.generation import GenerationSettings, PromptSettings
from shoplm.registry import UnknownNameError
from shoplm.shopbench.prompting.examples import ExampleSet, ExampleSetError
from shoplm.shopbench.prompting.strategies import STRATEGIES, PromptPlan, wordings
from shoplm.shopbench.prompts import build_messages
from shoplm.shopbench.records import load_questions, write_questions
from shoplm.shopbench.scoring import score

REPO = Path(__file__).resolve().parents[2]
SAMPLE = load_questions(REPO / "data/sample/shopbench/questions.jsonl")
MC = [q for q in SAMPLE if q.task_type == "multiple-choice"]


def plan(strategy: str, **settings) -> PromptPlan:
    return PromptPlan(PromptSettings(**settings).uniform(strategy), ExampleSet(SAMPLE, source="sample"))


def test_registry_lists_the_four_strategies_and_rejects_a_typo():
    assert STRATEGIES.names() == ["plain", "task-type", "k-shot", "cot"]
    with pytest.raises(UnknownNameError, match="unknown prompt strategy 'kshot'. Did you mean 'k-shot'"):
        STRATEGIES.get("kshot")


def test_the_default_renders_todays_prompt_byte_for_byte():
    question = MC[0]
    (request,) = build_requests([question])
    assert request.messages == build_messages(question.input_field, "multiple-choice")
    assert request.metadata["prompt_strategy"] == "task-type"
    assert render_chatml(request.messages, add_generation_prompt=True) == (
        "<|im_start|>system\nYou are a helpful online shopping assistant. Your task is multiple-choice.<|im_end|>\n"
        f"<|im_start|>user\n{question.input_field.strip()}<|im_end|>\n<|im_start|>assistant\n")
    # every sample question, through the plan as through the old call
    assert [r.messages for r in build_requests(SAMPLE, classify=False)] == [
        build_messages(q.input_field, q.task_type) for q in SAMPLE]


def test_plain_drops_the_task_type_from_the_system_prompt():
    messages = plan("plain")["ranking"].messages("Rank these.", "ranking")
    assert messages[0] == {"role": "system", "content": wordings()["plain_system"]}
    assert "ranking" not in messages[0]["content"]
    assert messages[1] == {"role": "user", "content": "Rank these."}


def test_k_shot_shows_solved_questions_of_the_same_type_never_the_question_itself():
    question = MC[0]
    k_shot = plan("k-shot", k_shot={"k": 3, "examples": "sample"})["multiple-choice"]
    messages = k_shot.messages(question.input_field, "multiple-choice")
    assert [m["role"] for m in messages] == ["system", "user", "assistant"] * 1 + ["user", "assistant"] * 2 + ["user"]
    shown = [m["content"] for m in messages[1:-1:2]]
    others = {q.input_field.strip(): str(q.output_field) for q in MC if q is not question}
    assert len(shown) == 3 and all(text in others for text in shown)  # same type, not the question
    assert [m["content"] for m in messages[2:-1:2]] == [others[text] for text in shown]  # gold answers
    assert messages[-1]["content"] == question.input_field.strip()
    assert k_shot.messages(question.input_field, "multiple-choice") == messages  # the same draw every time


def test_k_shot_refuses_the_set_being_evaluated_and_names_the_key(tmp_path):
    examples = tmp_path / "examples.jsonl"
    write_questions(examples, SAMPLE[:10])
    settings = GenerationSettings(prompts={"strategy": {"multiple-choice": "k-shot"},
                                           "k_shot": {"examples": str(examples)}})
    with pytest.raises(ExampleSetError, match=r"evaluate.generation.prompts.k_shot.examples: .*examples.jsonl "
                       r"shares 10 of the 36 evaluated questions"):
        build_requests(SAMPLE, settings)
    missing = GenerationSettings(prompts={"strategy": {"ranking": "k-shot"}, "k_shot": {"examples": "nowhere.jsonl"}})
    with pytest.raises(ExampleSetError, match="k_shot.examples: nowhere.jsonl: no such file"):
        build_requests(SAMPLE, missing)
    with pytest.raises(ValueError, match="strategy k-shot \\(for ranking\\) needs k_shot.examples"):
        PromptSettings(strategy={"ranking": "k-shot"})


@pytest.mark.parametrize(("text", "answer"), [
    ("The kettle heats water, so wattage applies.\nAnswer: 1", "1"),
    ("Answer: 3 is wrong. Thinking again...\nanswer : 2", "2"),
    ("**Answer:** 1,2,3", "1,2,3"),
    ("no marker at all, cut off by the token lim", "no marker at all, cut off by the token lim"),
])
def test_cot_reads_the_final_answer_after_the_last_marker(text, answer):
    assert plan("cot")["ranking"].final_answer(text) == answer


def test_cot_asks_for_reasoning_gets_more_tokens_and_is_scored_on_its_final_answer():
    settings = GenerationSettings(prompts=PromptSettings().uniform("cot"))
    requests = build_requests(MC, settings)
    assert requests[0].messages[-1]["content"].endswith(wordings()["chain_of_thought"]["instruction"])
    assert {r.max_new_tokens for r in requests} == {256}
    gold = [str(q.output_field) for q in MC]
    reasoning = create_backend("dummy")
    reasoning.generate = lambda reqs: [f"Let me think. Option 0 fits less.\nAnswer: {g}" for g in gold]
    result = run_zero_shot(MC, reasoning, settings)
    assert result.predictions == gold
    assert score(MC, result.predictions).task_types["multiple-choice"] == 1.0
    # the same completions under the default prompt are read from their first character: all wrong
    assert score(MC, run_zero_shot(MC, reasoning, GenerationSettings()).predictions).task_types["multiple-choice"] < 1.0


def test_an_unknown_strategy_in_params_names_the_file_line_and_key(tmp_path):
    from shoplm.params.file import load_section
    from shoplm.params.loader import ParamsError

    text = (REPO / "params.yaml").read_text().replace("        ranking: task-type", "        ranking: chain", 1)
    (tmp_path / "params.yaml").write_text(text)
    line = text.splitlines().index("        ranking: chain") + 1
    with pytest.raises(ParamsError, match=rf"params.yaml:{line}: evaluate.generation.prompts.strategy.ranking: "
                       "unknown prompt strategy 'chain'"):
        load_section("evaluate", tmp_path / "params.yaml")
