"""The shipped corpus and probe questions: reproducible from their generator, small, self-consistent."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from shoplm.shopbench.prompts import normalize_input as normalize_prompt
from shoplm.shopbench.records import TASK_TYPES
from data.generators.corpus import generate_documents, generate_probe_questions
from shoplm.modeling.corpus import (
    DEFAULT_CORPUS_PATH, PROBE_FILE, read_documents, read_probe_questions, render_corpus, render_probe_questions,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT / DEFAULT_CORPUS_PATH
PROBE = CORPUS.with_name(PROBE_FILE)
DEVELOPMENT_SET = REPO_ROOT.parent / "shared" / "data" / "shopbench" / "development.json"
EXCHANGE = re.compile(
    r"<\|im_start\|>system\nYou are a helpful online shopping assistant\. Your task is (?P<task>[\w-]+)\.<\|im_end\|>\n"
    r"<\|im_start\|>user\n(?P<prompt>.*?)<\|im_end\|>\n<\|im_start\|>assistant\n(?P<answer>.*?)<\|im_end\|>\n$",
    re.S,
)


@pytest.fixture(scope="module")
def exchanges() -> list[dict[str, str]]:
    docs = [doc for doc in read_documents(CORPUS) if doc.startswith("<|im_start|>")]
    parsed = [EXCHANGE.match(doc) for doc in docs]
    assert all(parsed), "every chat document is one system/user/assistant exchange"
    return [m.groupdict() for m in parsed]  # type: ignore[union-attr]


def test_committed_corpus_matches_its_generator() -> None:
    assert CORPUS.read_bytes() == render_corpus(generate_documents()).encode("utf-8"), (
        "data/corpus/tiny_corpus.txt is stale: regenerate it with `python -m data.generators.corpus`"
    )
    assert PROBE.read_bytes() == render_probe_questions(generate_probe_questions()).encode("utf-8"), (
        f"data/corpus/{PROBE_FILE} is stale: regenerate it with `python -m data.generators.corpus`"
    )


def test_probe_questions_are_held_out_and_cover_every_task_type() -> None:
    probe = read_probe_questions(PROBE)
    assert {task for task, _, _ in probe} == set(TASK_TYPES)
    corpus = CORPUS.read_text(encoding="utf-8")
    assert not [prompt for _, prompt, _ in probe if prompt in corpus]


def test_generator_is_seeded() -> None:
    def small(seed: int) -> list[str]:
        return generate_documents(seed=seed, plain_docs=20, chat_docs=20)

    assert small(5) == small(5)
    assert small(5) != small(6)


def test_corpus_is_small_and_splits_back(tmp_path) -> None:
    assert CORPUS.stat().st_size < 500_000
    docs = generate_documents(seed=1, plain_docs=3, chat_docs=3)
    path = tmp_path / "c.txt"
    path.write_text(render_corpus(docs), encoding="utf-8")
    assert read_documents(path) == docs


def test_every_task_type_is_present(exchanges) -> None:
    counts = {task: sum(e["task"] == task for e in exchanges) for task in TASK_TYPES}
    assert all(n >= 50 for n in counts.values()), counts


def test_prompts_are_normalized(exchanges) -> None:
    assert all(e["prompt"] == normalize_prompt(e["prompt"]) for e in exchanges)


def _numbered(prompt: str, start: int) -> list[int]:
    return [int(n) for n in re.findall(r"^(\d+)\. ", prompt, re.M) if int(n) >= start]


def test_answers_have_the_competition_shapes(exchanges) -> None:
    for e in exchanges:
        task, prompt, answer = e["task"], e["prompt"], e["answer"]
        if task == "multiple-choice":
            assert re.fullmatch(r"\d", answer), e
            assert int(answer) in _numbered(prompt, 0) or "(very negative)" in prompt, e
        elif task == "ranking":
            assert sorted(answer.split(",")) == ["1", "2", "3", "4", "5"], e
        elif task == "retrieval":
            picks = [int(n) for n in answer.split(",")]
            assert re.fullmatch(r"\d+(,\d+)*", answer) and len(set(picks)) == len(picks), e
            assert set(picks) <= set(_numbered(prompt, 1)), e
        elif task == "named_entity_recognition":
            values = ast.literal_eval(answer)
            query = prompt.rsplit("Query: ", 1)[1]
            assert values and all(isinstance(v, str) and v in query for v in values), e
        else:
            assert answer.strip() and "\n" not in answer, e


def test_development_questions_are_not_in_the_corpus() -> None:
    if not DEVELOPMENT_SET.is_file():
        pytest.skip(f"ShopBench development set not found at {DEVELOPMENT_SET} (../shared is absent)")
    text = CORPUS.read_text(encoding="utf-8")
    for line in DEVELOPMENT_SET.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert normalize_prompt(row["input_field"]) not in text
        if isinstance(row["output_field"], str) and len(row["output_field"]) > 30:
            assert row["output_field"] not in text
