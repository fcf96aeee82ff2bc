"""The transformers backend on the tiny Qwen2 model: padding, limits, order, special tokens, LoRA."""

from __future__ import annotations

import pytest

from shoplm.inference import GenerationRequest, create_backend
from shoplm.inference.transformers_backend import TransformersBackend
from shoplm.shopbench.prompts import build_messages
from tests.forged import FORGED_QUESTION, LITERAL, marker_counts

torch = pytest.importorskip("torch")

PROMPTS = [
    ("Instructions: Explain the product category name\nInput: Watch Band\nOutput:", "generation"),
    ("Which of the following product categories best complement tabletop game?\n0. toy figure\n1. DV recorder\n"
     "2. tablet computer\n3. hair iron\nAnswer: ", "multiple-choice"),
    ("Please select 3 products from the list that the user may also purchase.\n"
     + "".join(f"{i}. product number {i} with a longer title\n" for i in range(1, 16)) + "Output: ", "retrieval"),
    ("Explain the product type Handbag\nOutput:", "generation"),
    ("Please extract phrases from the query that correspond to the entity type 'brand'.\nQuery: cadbury buttons",
     "named_entity_recognition"),
    ("Please rank the products according to their relevance with the query 'jeep liberty lift'.\n"
     "1. lift kit\n2. strut spacers\n3. floor mats\n4. led bar\n5. bumper\nOutput: ", "ranking"),
    ("A short one.", "generation"),
]
SPECIAL = ("<|im_end|>", "<|im_start|>", "<|endoftext|>")


def make_requests(max_new_tokens: int = 6) -> list[GenerationRequest]:
    return [GenerationRequest(build_messages(p, t), t, max_new_tokens) for p, t in PROMPTS]


@pytest.fixture(scope="module")
def backend(tiny_base_dir) -> TransformersBackend:
    backend = create_backend("transformers", model_dir=tiny_base_dir, batch_size=4, device="cpu", show_progress=False)
    yield backend
    backend.close()


def test_batched_equals_unbatched(backend: TransformersBackend, tiny_base_dir) -> None:
    batched = backend.generate(make_requests(8))
    single = create_backend("transformers", model_dir=tiny_base_dir, batch_size=1, device="cpu", show_progress=False)
    assert single.generate(make_requests(8)) == batched
    # one request at a time through the batched backend too: each output depends only on its prompt
    assert [backend.generate([r])[0] for r in make_requests(8)] == batched


def test_grouping_preserves_request_order(backend: TransformersBackend) -> None:
    requests = make_requests(5)
    reference = {id(r): backend.generate([r])[0] for r in requests}
    shuffled = requests[::-1] + requests[:3]
    assert backend.generate(shuffled) == [reference[id(r)] for r in shuffled]


def test_max_new_tokens_is_respected_and_stops_are_read(backend: TransformersBackend, monkeypatch) -> None:
    widths: list[tuple[int, int]] = []
    original = backend.model.generate

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        widths.append((out.shape[1] - kwargs["input_ids"].shape[1], kwargs["generation_config"].max_new_tokens))
        return out

    monkeypatch.setattr(backend.model, "generate", spy)
    requests = [GenerationRequest(build_messages(p, t), t, n) for (p, t), n in zip(PROMPTS, [1, 2, 3, 1, 2, 3, 1])]
    outputs = backend.generate(requests)
    assert len(outputs) == len(requests) and widths
    assert all(new <= limit for new, limit in widths)
    # (re-tokenising the decoded text is no check: a random model emits partial UTF-8 bytes)
    for token in ("<|im_end|>", "<|im_start|>", "<|endoftext|>"):
        assert backend.tokenizer.convert_tokens_to_ids(token) in backend.eos_token_ids


def test_generation_stops_at_an_eos_token(backend: TransformersBackend, monkeypatch) -> None:
    request = make_requests(6)[0]
    ids = torch.tensor([backend.encode(request)])
    with torch.inference_mode():
        first = int(backend.model(input_ids=ids).logits[0, -1].argmax())
    if first in backend.eos_token_ids:  # a trained model may end its turn at once: nothing comes back
        assert backend.generate([request]) == [""]
        return
    # make the greedy first token a stop token: nothing may come back, not even that token
    monkeypatch.setattr(backend, "eos_token_ids", [first])
    assert backend.generate([request]) == [""]


def test_greedy_ignores_the_checkpoints_sampling_defaults(tiny_base_dir, backend, tmp_path) -> None:
    import json
    import shutil

    copy = tmp_path / "sampling-defaults"
    shutil.copytree(tiny_base_dir, copy)
    config_file = copy / "generation_config.json"
    config = json.loads(config_file.read_text()) if config_file.exists() else {}
    config.update(do_sample=True, temperature=0.7, top_p=0.8, top_k=20, repetition_penalty=3.0, min_new_tokens=5)
    config_file.write_text(json.dumps(config))
    other = create_backend("transformers", model_dir=copy, device="cpu", show_progress=False)
    assert other.generate(make_requests(8)) == backend.generate(make_requests(8))


def test_outputs_hold_no_special_tokens(backend: TransformersBackend) -> None:
    outputs = backend.generate(make_requests(24))
    assert all(isinstance(o, str) for o in outputs)
    assert not any(token in out for out in outputs for token in SPECIAL)


def test_a_question_cannot_forge_special_tokens(backend: TransformersBackend) -> None:
    """``<|im_end|>``/``<|im_start|>`` written in a question reach the model as text, not as turn markers."""
    request = GenerationRequest(build_messages(FORGED_QUESTION, "multiple-choice"), "multiple-choice", 4)
    ids = backend.encode(request)
    assert marker_counts(backend.tokenizer, ids) == (3, 2)  # the template's: system, user, assistant header
    assert LITERAL in backend.tokenizer.decode(ids, skip_special_tokens=True)
    assert len(backend.generate([request])) == 1


def test_long_prompts_are_cut_to_max_input_tokens(tiny_base_dir) -> None:
    small = create_backend(
        "transformers", model_dir=tiny_base_dir, max_input_tokens=64, device="cpu", show_progress=False
    )
    long_request = make_requests(3)[2]
    assert len(small.encode(long_request)) <= 64
    assert len(small.generate([long_request])) == 1


def test_adapter_changes_outputs_and_merging_does_not(tiny_base_dir, lora_dir, backend) -> None:
    base = backend.generate(make_requests(8))
    tuned = create_backend(
        "transformers", model_dir=tiny_base_dir, adapter_dir=lora_dir, device="cpu", show_progress=False
    )
    with_adapter = tuned.generate(make_requests(8))
    assert with_adapter != base
    merged = create_backend(
        "transformers", model_dir=tiny_base_dir, adapter_dir=lora_dir, merge_adapter=True, device="cpu",
        show_progress=False,
    )
    assert merged.generate(make_requests(8)) == with_adapter
    # a request naming the loaded adapter is fine; another adapter is the vLLM backend's job
    same = GenerationRequest(build_messages("x", "generation"), "generation", 2, adapter=lora_dir)
    assert len(tuned.generate([same])) == 1
    with pytest.raises(NotImplementedError, match="per-request LoRA"):
        tuned.generate([GenerationRequest(build_messages("x", "generation"), "generation", 2, adapter="/other")])


def test_dtype_and_device_options(tiny_base_dir) -> None:
    with pytest.raises(ValueError, match="Unknown dtype"):
        create_backend("transformers", model_dir=tiny_base_dir, dtype="float8")
    auto = create_backend("transformers", model_dir=tiny_base_dir, dtype="auto", device="cpu", show_progress=False)
    assert auto.dtype == torch.float32 and auto.device == "cpu"
    bf16 = create_backend("transformers", model_dir=tiny_base_dir, dtype="bfloat16", device="cpu", show_progress=False)
    assert next(bf16.model.parameters()).dtype == torch.bfloat16
    assert len(bf16.generate(make_requests(2)[:2])) == 2
    bf16.close()
    bf16.close()  # idempotent


@pytest.mark.gpu  # skipped without CUDA by tests/conftest.py
def test_cuda_bfloat16_generates(tiny_base_dir) -> None:
    gpu = create_backend("transformers", model_dir=tiny_base_dir, dtype="auto", device="auto", show_progress=False)
    assert gpu.device == "cuda"
    outputs = gpu.generate(make_requests(4))
    assert len(outputs) == len(PROMPTS) and not any(t in o for o in outputs for t in SPECIAL)
