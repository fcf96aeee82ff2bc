"""The built tiny base model: loads with the Auto classes, quantizable dims, reproducible, answers in shape."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, GenerationConfig, Qwen2ForCausalLM

from shoplm.modeling import SUMMARY_FILE, build_tiny_base
from shoplm.modeling.probe import probe_questions
from shoplm.params.base import TinyModelSpec
from shoplm.shopbench.prompts import build_messages

EXPECTED_FILES = {"config.json", "model.safetensors", "generation_config.json", "tokenizer.json",
                  "tokenizer_config.json", "chat_template.jinja", SUMMARY_FILE}


@pytest.fixture(scope="module")
def model(tiny_base_dir) -> Qwen2ForCausalLM:
    return AutoModelForCausalLM.from_pretrained(tiny_base_dir).eval()


@pytest.fixture(scope="module")
def tokenizer(tiny_base_dir):
    return AutoTokenizer.from_pretrained(tiny_base_dir)


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_folder_has_the_hugging_face_files(tiny_base_dir) -> None:
    assert EXPECTED_FILES <= {p.name for p in tiny_base_dir.iterdir()}
    size = (tiny_base_dir / "model.safetensors").stat().st_size
    assert 1e6 < size < 2e7  # a few MB


def test_loads_as_qwen2_with_quantizable_dims(tiny_base_dir, model, tokenizer, tiny_base_spec) -> None:
    config = model.config
    assert AutoConfig.from_pretrained(tiny_base_dir).architectures == ["Qwen2ForCausalLM"]
    assert isinstance(model, Qwen2ForCausalLM) and config.model_type == "qwen2"
    assert model.dtype == torch.float32
    for group in (64, 128):
        assert config.hidden_size % group == 0 and config.intermediate_size % group == 0
    assert config.hidden_size // config.num_attention_heads == 64
    assert config.num_key_value_heads == tiny_base_spec.num_kv_heads
    assert config.max_position_embeddings >= 3072
    assert config.vocab_size == tiny_base_spec.vocab_size >= len(tokenizer)
    assert config.tie_word_embeddings
    assert model.lm_head.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    assert config.eos_token_id == tokenizer.convert_tokens_to_ids("<|im_end|>")


def test_generation_config_stops_at_end_of_turn(tiny_base_dir) -> None:
    generation = GenerationConfig.from_pretrained(tiny_base_dir)
    assert generation.eos_token_id == [2, 0] and generation.pad_token_id == 0
    assert not generation.do_sample


def test_summary(tiny_base_dir, model, tiny_base_spec) -> None:
    summary = json.loads((tiny_base_dir / SUMMARY_FILE).read_text())
    assert summary["spec"] == json.loads(tiny_base_spec.model_dump_json())
    assert summary["parameters"]["total"] == sum(p.numel() for p in model.parameters())
    assert summary["sha256"]["model.safetensors"] == _sha(tiny_base_dir / "model.safetensors")
    pretrain = summary["pretrain"]
    assert pretrain["steps"] == tiny_base_spec.pretrain_steps
    assert pretrain["final_loss"] < pretrain["initial_loss"] - 3  # from ~8 (uniform over 3072) to ~2
    assert set(summary["probe"]["per_task_type"]) == {
        "multiple-choice", "ranking", "retrieval", "named_entity_recognition", "generation"}


@pytest.mark.slow
def test_build_is_deterministic(tmp_path) -> None:
    spec = TinyModelSpec(pretrain_steps=3)
    dirs = [tmp_path / name for name in ("a", "b", "c")]
    build_tiny_base(spec, dirs[0], progress=False, probe=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # the build pins one thread, so the caller's setting does not matter
    try:
        build_tiny_base(spec, dirs[1], progress=False, probe=False)
    finally:
        torch.set_num_threads(threads)
    build_tiny_base(spec.model_copy(update={"seed": 1}), dirs[2], progress=False, probe=False)
    # The whole folder, build_summary.json included (no wall-clock figures in it): a forced rebuild of
    # the base stage leaves the models/base output every later stage depends on unchanged.
    files = sorted(p.name for p in dirs[0].iterdir())
    assert files == sorted(p.name for p in dirs[1].iterdir()) and SUMMARY_FILE in files
    for name in files:
        assert _sha(dirs[0] / name) == _sha(dirs[1] / name), name
    assert _sha(dirs[0] / "model.safetensors") != _sha(dirs[2] / "model.safetensors")
    assert _sha(dirs[0] / "tokenizer.json") == _sha(dirs[2] / "tokenizer.json")


def _greedy_answers(model, tokenizer, task_type: str, n: int, max_new_tokens: int) -> list[str]:
    questions = [q for q in probe_questions(per_task=n) if q[0] == task_type]
    answers = []
    for _, prompt, _ in questions:
        ids = tokenizer.apply_chat_template(build_messages(prompt, task_type), add_generation_prompt=True,
                                            return_dict=True, return_tensors="pt")
        out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False)
        answers.append(tokenizer.decode(out[0, ids["input_ids"].shape[1]:]))
    return answers


# The session's model is pre-trained for fewer steps than the default (conftest.py), so these checks ask
# for the kind of answer, not the right one: checked robust over seeds 0-2 at the fixture's 100 steps.
def test_answers_multiple_choice_with_one_digit(model, tokenizer) -> None:
    answers = _greedy_answers(model, tokenizer, "multiple-choice", 8, max_new_tokens=8)
    good = [a for a in answers if re.fullmatch(r"\d<\|im_end\|>", a)]
    assert len(good) >= 6, answers


def test_answers_ranking_and_retrieval_with_digits_and_commas(model, tokenizer) -> None:
    answers = [a for task in ("ranking", "retrieval") for a in _greedy_answers(model, tokenizer, task, 8, 4)]
    good = [a for a in answers if re.match(r"\d(,|<\|im_end\|>)", a)]
    assert len(good) >= 12, answers


def test_answers_are_non_empty_and_end_the_turn(model, tokenizer) -> None:
    task_types = ("multiple-choice", "ranking", "retrieval", "named_entity_recognition", "generation")
    answers = [a for task in task_types for a in _greedy_answers(model, tokenizer, task, 4, 48)]
    assert all(a.split("<|im_end|>")[0].strip() for a in answers), answers
    assert sum("<|im_end|>" in a for a in answers) >= len(answers) // 2, answers


@pytest.mark.parametrize(
    ("task_type", "answer", "ok"),
    [("multiple-choice", "2", True), ("multiple-choice", "12", False), ("ranking", "3,1,2,5,4", True),
     ("ranking", "1,1,1,1,2", False), ("retrieval", "4,9,12", True), ("retrieval", "4, 9", False),
     ("named_entity_recognition", "['navy', 'wool']", True), ("named_entity_recognition", "['navy", False),
     ("generation", "A mug.", True), ("generation", "", False)],
)
def test_probe_shapes(task_type, answer, ok) -> None:
    from shoplm.modeling.probe import has_shape

    assert has_shape(task_type, answer) is ok
