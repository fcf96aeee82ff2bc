"""Merge candidates as LoRA adapters in the session's vLLM engine: the greedy answers of the merged weights.

Every candidate (wise-ft of one adapter, weighted sums of two adapters of different ranks and targets,
and the base) answers every question in one engine call (``shoplm.merging.vllm_scoring``); each must
give the transformers backend's greedy answers on the weights ``MergeWorkspace.apply`` merged. The
adapters are small (ranks 4 and 2, so the widest candidate, rank 6, fits the session engine's
max_lora_rank 8 and no second engine is started).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shoplm.params.generation import GenerationSettings
from shoplm.params.merging import MergeSpec
from shoplm.shopbench.records import load_questions

SAMPLE_QUESTIONS = "data/sample/shopbench/questions.jsonl"
N_QUESTIONS = 12
SPECS = {
    "wise-ft p α=0.5": MergeSpec(adapters={"p": 1.0}, alpha=0.5),
    "p/q 0.3/0.7 α=1": MergeSpec(adapters={"p": 0.3, "q": 0.7}, alpha=1.0),
    "p/q 1/0.5 α=0.8": MergeSpec(adapters={"p": 1.0, "q": 0.5}, alpha=0.8),
    "base (α=0)": MergeSpec(adapters={"p": 1.0, "q": 1.0}, alpha=0.0),
}


def random_adapter(base_dir: Path, out: Path, seed: int, r: int, targets) -> Path:
    """A peft LoRA adapter with random A and B, large enough to change greedy answers."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    peft_model = get_peft_model(model, LoraConfig(r=r, lora_alpha=2 * r, target_modules=targets,
                                                  init_lora_weights=False))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.3)
    peft_model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def form_adapters(tiny_base_dir, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("form_adapters")
    return {"p": random_adapter(tiny_base_dir, root / "p", seed=1, r=4, targets="all-linear"),
            "q": random_adapter(tiny_base_dir, root / "q", seed=2, r=2, targets=["q_proj", "v_proj", "o_proj"])}


@pytest.fixture(scope="module")
def questions():
    return load_questions(SAMPLE_QUESTIONS)[:N_QUESTIONS]


@pytest.fixture(scope="module")
def merged_answers(tiny_base_dir, form_adapters, questions) -> dict[str, list[str]]:
    """Greedy raw answers of the transformers backend on the merged weights, per candidate (the reference)."""
    from transformers import AutoTokenizer

    from shoplm.evaluation import run_zero_shot
    from shoplm.merging import MergeWorkspace
    from shoplm.merging.scoring import LoadedModelBackend

    workspace = MergeWorkspace(tiny_base_dir, form_adapters)
    tokenizer = AutoTokenizer.from_pretrained(tiny_base_dir)
    answers = {}
    for label, spec in SPECS.items():
        workspace.apply(spec)
        backend = LoadedModelBackend(workspace.model, tokenizer, batch_size=8, max_input_tokens=3072)
        answers[label] = run_zero_shot(questions, backend, GenerationSettings()).raw_outputs
    return answers


def count_engine_calls(engine, monkeypatch) -> list[int]:
    """Requests per ``LLM.generate`` call of ``engine`` from now on (the list fills as calls happen)."""
    calls: list[int] = []
    generate = engine.llm.generate

    def counted(prompts, *args, **kwargs):
        calls.append(len(prompts))
        return generate(prompts, *args, **kwargs)

    monkeypatch.setattr(engine.llm, "generate", counted)
    return calls


@pytest.mark.vllm
@pytest.mark.slow
def test_lora_form_candidates_in_one_engine_answer_as_the_merged_weights(vllm_engine, tiny_base_dir, form_adapters,
                                                                          questions, merged_answers, tmp_path,
                                                                          monkeypatch):
    from shoplm.merging.vllm_scoring import candidate_folders, generate_candidates

    folders, unsupported = candidate_folders(form_adapters, SPECS.values(), tmp_path / "forms")
    assert not unsupported and folders[SPECS["base (α=0)"].fingerprint()] is None
    candidates = {label: folders[spec.fingerprint()] for label, spec in SPECS.items()}
    engine = vllm_engine(tiny_base_dir, dtype="float32")
    assert len(engine._lora_ids) + len(SPECS) - 1 < engine.max_loras  # room: base and adapters share a call
    calls = count_engine_calls(engine, monkeypatch)
    answers = generate_candidates(engine, candidates, questions, GenerationSettings())
    assert calls == [len(SPECS) * N_QUESTIONS]  # every (candidate, question) in one engine call

    lines, differ = [], []
    for label, expected in merged_answers.items():
        got = answers[label].raw_outputs
        lines.append(f"{label}: {sum(a == b for a, b in zip(got, expected))}/{len(expected)}")
        differ += [(label, i, got[i], expected[i]) for i in range(len(expected)) if got[i] != expected[i]]
    print("\nvLLM LoRA form (one call) vs transformers on the merged weights, fp32 greedy, identical: "
          + "; ".join(lines))
    assert not differ, differ[:5]
    base = merged_answers["base (α=0)"]
    assert all(merged_answers[label] != base for label in SPECS if label != "base (α=0)")  # candidates matter


@pytest.mark.vllm
@pytest.mark.slow
def test_base_requests_stay_the_base_when_every_lora_slot_is_taken(vllm_engine, tiny_base_dir, form_adapters,
                                                                   questions, merged_answers, tmp_path, monkeypatch):
    """vLLM's CPU LoRA ops give a request without adapter the last slot's adapter (index -1) in a mixed
    batch; once every slot has been used the backend answers the base in a call of its own."""
    from shoplm.merging.lora_form import lora_form
    from shoplm.merging.vllm_scoring import generate_candidates

    engine = vllm_engine(tiny_base_dir, dtype="float32")
    extra = engine.max_loras - len(engine._lora_ids) + 1  # enough new adapters to fill every slot
    candidates = {f"p α={0.05 * (k + 1):.2f}": lora_form(form_adapters, MergeSpec(adapters={"p": 1.0},
                                                                                   alpha=0.05 * (k + 1)),
                                                         tmp_path / "forms")
                  for k in range(extra)}
    candidates["base"] = None
    calls = count_engine_calls(engine, monkeypatch)
    answers = generate_candidates(engine, candidates, questions[:4], GenerationSettings())
    assert len(engine._lora_ids) > engine.max_loras
    assert answers["base"].raw_outputs == merged_answers["base (α=0)"][:4]
    assert sorted(calls) == [4, extra * 4]  # the base apart, the adapters together
