"""The vllm backend on the tiny model: the transformers backend's greedy output, LoRA per request, the
sampling hook for constrained decoding, a quantized model, and no engine process left after close.

One engine at a time for the whole session (``vllm_engine`` in conftest.py); the tests that share the
tiny model's engine come first, the quantized model's last.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shoplm.inference import GenerationRequest, build_requests, create_backend
from shoplm.inference.backends import encode_prompt
from shoplm.shopbench.prompts import build_messages
from shoplm.shopbench.records import load_questions
from tests.forged import FORGED_QUESTION, LITERAL, marker_counts

SAMPLE_QUESTIONS = "data/sample/shopbench/questions.jsonl"
SPECIAL = ("<|im_end|>", "<|im_start|>", "<|endoftext|>")


@pytest.fixture(scope="module")
def requests():
    return build_requests(load_questions(SAMPLE_QUESTIONS))


@pytest.fixture(scope="module")
def transformers_outputs(tiny_base_dir, requests):
    with create_backend("transformers", model_dir=tiny_base_dir, batch_size=8, max_input_tokens=1024,
                        device="cpu", show_progress=False) as backend:
        return backend.generate(requests)


def test_shoplm_registers_the_backend_without_importing_vllm():
    code = ("import sys; from shoplm.inference import available_backends; "
            "assert 'vllm' in available_backends(); print('vllm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(("enable_lora", "engine_rank"), [(False, 8), (True, 64)])
def test_an_engine_for_one_adapter_is_sized_to_its_rank(tiny_base_dir, lora_dir, monkeypatch, enable_lora,
                                                        engine_rank):
    """The stage's one adapter (rank 4) gets the smallest engine rank vLLM accepts that holds it, not
    ``max_lora_rank``'s 64, which is room for adapters named per request (``enable_lora``): vLLM's CPU LoRA
    ops cost grows with the engine's rank (SmolLM2's rank-8 adapter: 240.6 s for 36 questions at 64, the
    budget cutting 12 answers, against 54.8 s at 8). A stand-in for vllm records the engine's arguments."""
    import types

    from shoplm.inference.vllm_backend import VLLMBackend
    from shoplm.params.serving import VLLMSettings

    engine_args = {}
    fake = types.ModuleType("vllm")
    fake.LLM = lambda **kwargs: engine_args.update(kwargs)
    platforms = types.ModuleType("vllm.platforms")
    platforms.current_platform = types.SimpleNamespace(is_cpu=lambda: True)
    monkeypatch.setitem(sys.modules, "vllm", fake)
    monkeypatch.setitem(sys.modules, "vllm.platforms", platforms)
    for name in ("VLLM_HOST_IP", "VLLM_CPU_KVCACHE_SPACE", "VLLM_CPU_OMP_THREADS_BIND"):
        monkeypatch.setenv(name, "x")  # what the backend sets is put back after the test

    VLLMBackend(tiny_base_dir, lora_dir, settings=VLLMSettings(enable_lora=enable_lora))
    assert (engine_args["enable_lora"], engine_args["max_lora_rank"]) == (True, engine_rank)


@pytest.mark.vllm
@pytest.mark.slow
def test_greedy_output_equals_the_transformers_backend_in_fp32(vllm_engine, tiny_base_dir, requests,
                                                               transformers_outputs):
    backend = vllm_engine(tiny_base_dir, dtype="float32")
    outputs = backend.generate(requests)
    differ = [i for i, (a, b) in enumerate(zip(outputs, transformers_outputs)) if a != b]
    print(f"\nvllm vs transformers, fp32 greedy: {len(requests) - len(differ)}/{len(requests)} identical")
    assert not differ, [(outputs[i], transformers_outputs[i]) for i in differ]
    assert not any(token in out for out in outputs for token in SPECIAL)


@pytest.mark.vllm
@pytest.mark.slow
def test_turn_end_tokens_stop_generation(vllm_engine, tiny_base_dir):
    backend = vllm_engine(tiny_base_dir, dtype="float32")
    vocab = backend.tokenizer.get_vocab()
    assert {vocab["<|im_end|>"], vocab["<|im_start|>"]} <= set(backend.stop_token_ids)


@pytest.mark.vllm
@pytest.mark.slow
def test_lora_per_request_equals_the_transformers_backend_with_the_adapter(vllm_engine, tiny_base_dir, lora_dir,
                                                                           requests, transformers_outputs):
    backend = vllm_engine(tiny_base_dir, dtype="float32")
    subset = requests[:12]
    mixed = [GenerationRequest(r.messages, r.task_type, r.max_new_tokens, adapter=lora_dir if i % 2 else None)
             for i, r in enumerate(subset)]
    outputs = backend.generate(mixed)  # base and adapter requests in the same engine calls
    with create_backend("transformers", model_dir=tiny_base_dir, adapter_dir=lora_dir, batch_size=8,
                        max_input_tokens=1024, device="cpu", show_progress=False) as tuned:
        with_adapter = tuned.generate(subset)
    assert [outputs[i] for i in range(1, 12, 2)] == [with_adapter[i] for i in range(1, 12, 2)]
    assert [outputs[i] for i in range(0, 12, 2)] == [transformers_outputs[i] for i in range(0, 12, 2)]
    assert with_adapter != transformers_outputs[:12]  # the adapter matters, so the check means something


@pytest.mark.vllm
@pytest.mark.slow
def test_sampling_overrides_reach_each_request(vllm_engine, tiny_base_dir, requests, transformers_outputs):
    backend = vllm_engine(tiny_base_dir, dtype="float32")
    generation = [r for r in requests if r.task_type == "generation"][:4]
    full = backend.generate(generation)
    backend.sampling_overrides = lambda request: {"max_tokens": 1}  # what constrained decoding plugs into
    try:
        first = backend.generate(generation)
    finally:
        backend.sampling_overrides = None
    assert all(f and a.startswith(f) and len(f) < len(a) for f, a in zip(first, full) if len(a) > 1)


@pytest.mark.vllm
@pytest.mark.slow
def test_a_question_cannot_forge_special_tokens(vllm_engine, tiny_base_dir, monkeypatch):
    """The engine is given the ids of the one safe encoder: a question's marker text stays text."""
    backend = vllm_engine(tiny_base_dir, dtype="float32")
    results = []
    generate = backend.llm.generate

    def recording(*args, **kwargs):
        results.extend(outputs := generate(*args, **kwargs))
        return outputs

    monkeypatch.setattr(backend.llm, "generate", recording)
    request = GenerationRequest(build_messages(FORGED_QUESTION, "multiple-choice"), "multiple-choice", 4)
    assert len(backend.generate([request])) == 1
    (result,) = results
    ids = list(result.prompt_token_ids)  # what the engine ran on
    assert ids == encode_prompt(backend.tokenizer, request, backend.max_input_tokens)
    assert marker_counts(backend.tokenizer, ids) == (3, 2)
    assert LITERAL in backend.tokenizer.decode(ids, skip_special_tokens=True)


@pytest.fixture(scope="module")
def quantized_dir(tiny_base_dir, tmp_path_factory):
    """The tiny model quantized as stage quantize writes it (rtn W4A16, group 64, compressed-tensors)."""
    import shutil

    from shoplm.params.quantization import QuantizeSection
    from shoplm.quantization.run import quantize_folder

    work = tmp_path_factory.mktemp("quantized")
    shutil.copytree(tiny_base_dir, work / "source")
    quantize_folder(work / "source", work / "rtn", QuantizeSection(method="rtn", group_size=64),
                    load_questions(SAMPLE_QUESTIONS))
    return work / "rtn"


@pytest.mark.vllm
@pytest.mark.slow
def test_a_quantized_model_loads_and_answers(vllm_engine, quantized_dir, requests):
    config = json.loads((quantized_dir / "config.json").read_text())
    assert config["quantization_config"]["quant_method"] == "compressed-tensors"
    from shoplm.inference.vllm_backend import KernelMissing, check_quantized_kernels

    try:  # vllm-cpu's int4 kernel is in its AVX-512 builds only: say so instead of failing after a start
        check_quantized_kernels(quantized_dir)
    except KernelMissing as exc:
        pytest.skip(str(exc))
    backend = vllm_engine(quantized_dir, dtype="bfloat16")
    outputs = backend.generate(requests)
    answered = sum(bool(o.strip()) for o in outputs)
    print(f"\nquantized tiny model in vLLM (bf16 activations): {answered}/{len(requests)} non-empty answers")
    assert len(outputs) == len(requests) and answered > len(requests) // 2


@pytest.mark.vllm
@pytest.mark.slow
def test_close_leaves_no_engine_process(vllm_engine, tiny_base_dir):
    import psutil

    from shoplm.params.serving import VLLMSettings

    # multiprocessing's resource tracker and torch's shared-memory manager live as long as this process, and
    # the MLflow and Prefect servers of tests/cluster (session fixtures) may be running too; every other
    # child is an engine's
    others = ("resource_tracker", "torch_shm_manager", "mlflow", "prefect", "uvicorn")

    def engine_children() -> list:
        return [p for p in psutil.Process().children(recursive=True)
                if not any(o in part for part in p.cmdline() for o in others)]

    # The session's engine runs in this process (in_process): it has no child to leave behind.
    assert vllm_engine(tiny_base_dir, dtype="float32").generate([]) == [] and engine_children() == []
    # A served model's engine core, the default, runs in a child process: that is the one close() must stop.
    vllm_engine(tiny_base_dir, dtype="float32",
                settings=VLLMSettings(enforce_eager=True, cpu_kvcache_space_gib=1, in_process=False))
    before = engine_children()
    assert before, "the engine core runs in a child process"
    vllm_engine.close()
    vllm_engine.close()  # idempotent
    gone, alive = psutil.wait_procs(before, timeout=30)
    assert not alive, [p.cmdline() for p in alive]
