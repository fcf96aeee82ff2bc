"""Build the tiny Qwen2-architecture base model: tokenizer, seeded random init, short pre-training, save.

``build_tiny_base(spec, out_dir)`` writes a normal Hugging Face model folder (``config.json``,
``model.safetensors``, ``generation_config.json``, tokenizer files, ``chat_template.jinja``) plus
``build_summary.json``. The build runs on one torch thread (restored afterwards): CPU reductions
differ between thread counts, and one thread is also the fastest for so small a model on small CPUs.
So the same spec gives byte-identical ``model.safetensors`` on the same torch build and CPU kind.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch
from transformers import GenerationConfig, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

from shoplm.modeling.chat_format import ENDOFTEXT, IM_END
from shoplm.modeling.corpus import PROBE_FILE, read_documents
from shoplm.modeling.pretrain import pretrain, tokenize_corpus
from shoplm.modeling.probe import format_probe
from shoplm.modeling.tokenizer import save_tokenizer, special_token_ids, train_tokenizer
from shoplm.params.base import TinyModelSpec

SUMMARY_FILE = "build_summary.json"
# Wall-clock figures stay out of build_summary.json: models/base/ is a DVC output that every later stage
# depends on, so a rebuild with identical weights must leave it byte-identical. They are returned (and
# logged to MLflow by the base stage) only.
WALL_CLOCK = {"seconds", "cpu_seconds", "tokens_per_second"}


def without_wall_clock(summary: dict) -> dict:
    """``summary`` without the wall-clock keys, at any depth."""
    return {key: without_wall_clock(value) if isinstance(value, dict) else value
            for key, value in summary.items() if key not in WALL_CLOCK}
TORCH_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def qwen2_config(spec: TinyModelSpec, tokenizer: PreTrainedTokenizerFast) -> Qwen2Config:
    """A Qwen2 config with the spec's dims and Qwen2-Instruct's special-token roles."""
    ids = special_token_ids(tokenizer)
    if len(tokenizer) > spec.vocab_size:
        raise ValueError(f"tokenizer has {len(tokenizer)} tokens, more than vocab_size={spec.vocab_size}")
    return Qwen2Config(
        vocab_size=spec.vocab_size,
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=spec.num_heads,
        num_key_value_heads=spec.num_kv_heads,
        head_dim=spec.head_dim,
        max_position_embeddings=spec.max_position_embeddings,
        rope_parameters={"rope_type": "default", "rope_theta": spec.rope_theta},
        rms_norm_eps=1e-6,
        hidden_act="silu",
        tie_word_embeddings=True,
        use_sliding_window=False,
        attention_dropout=0.0,
        bos_token_id=ids[ENDOFTEXT],
        eos_token_id=ids[IM_END],
        pad_token_id=ids[ENDOFTEXT],
        dtype=spec.dtype,
    )


def generation_config(tokenizer: PreTrainedTokenizerFast) -> GenerationConfig:
    """Greedy by default; stops at ``<|im_end|>`` (end of a chat turn) or ``<|endoftext|>``."""
    ids = special_token_ids(tokenizer)
    return GenerationConfig(bos_token_id=ids[ENDOFTEXT], eos_token_id=[ids[IM_END], ids[ENDOFTEXT]],
                            pad_token_id=ids[ENDOFTEXT], do_sample=False)


def init_model(config: Qwen2Config, seed: int) -> Qwen2ForCausalLM:
    """Random-init in float32 from ``seed`` (same seed and config, same weights)."""
    seed_everything(seed)
    return Qwen2ForCausalLM(config).to(torch.float32)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def count_parameters(model: torch.nn.Module) -> dict[str, int]:
    total = sum(p.numel() for p in model.parameters())  # tied lm_head counted once
    embedding = model.get_input_embeddings().weight.numel()
    return {"total": total, "embedding": embedding, "non_embedding": total - embedding}


@contextmanager
def single_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def build_tiny_base(spec: TinyModelSpec, out_dir: Path, progress: bool = True, probe: bool = True) -> dict:
    """Train the tokenizer, init and pre-train the tiny model, save everything to ``out_dir``.

    Returns the summary: parameter counts, vocabulary, pre-training loss and speed, file hashes and
    (``probe=True``) the answer-format probe. ``out_dir/build_summary.json`` holds it without the
    wall-clock figures, so the same spec gives a byte-identical folder.
    """
    with single_thread():
        return _build(spec, Path(out_dir), progress, probe)


def _build(spec: TinyModelSpec, out_dir: Path, progress: bool, probe: bool) -> dict:
    started, cpu_started = time.perf_counter(), time.process_time()
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = spec.resolved_corpus()

    documents = read_documents(corpus)
    tokenizer = train_tokenizer(documents, spec.vocab_size, spec.max_position_embeddings)
    config = qwen2_config(spec, tokenizer)
    model = init_model(config, spec.seed)
    stream = tokenize_corpus(tokenizer, documents)
    result = pretrain(model, stream, steps=spec.pretrain_steps, batch_size=spec.pretrain_batch_size,
                      seq_len=spec.pretrain_seq_len, learning_rate=spec.learning_rate,
                      warmup_steps=spec.warmup_steps, seed=spec.seed,
                      eot_id=tokenizer.convert_tokens_to_ids(ENDOFTEXT), progress=progress)
    probe_report = format_probe(model, tokenizer, path=corpus.with_name(PROBE_FILE)) if probe else None

    model.generation_config = generation_config(tokenizer)
    model.to(TORCH_DTYPES[spec.dtype])
    model.save_pretrained(out_dir)
    save_tokenizer(tokenizer, out_dir)

    weights = out_dir / "model.safetensors"
    summary = {
        "model_type": config.model_type,
        "architecture": "Qwen2ForCausalLM",
        "spec": spec.model_dump(mode="json"),
        "corpus": {"path": str(spec.corpus), "sha256": sha256(corpus), "tokens": result.corpus_tokens},
        "parameters": count_parameters(model),
        "vocab": {"tokenizer": len(tokenizer), "model": config.vocab_size, "special": special_token_ids(tokenizer)},
        "dtype": spec.dtype,
        "size_bytes": {"model.safetensors": weights.stat().st_size},
        "sha256": {"model.safetensors": sha256(weights), "tokenizer.json": sha256(out_dir / "tokenizer.json")},
        "pretrain": result.as_dict(),
        "probe": probe_report,
        "versions": {"torch": torch.__version__, "transformers": version("transformers"),
                     "tokenizers": version("tokenizers")},
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(time.process_time() - cpu_started, 2),
    }
    (out_dir / SUMMARY_FILE).write_text(json.dumps(without_wall_clock(summary), indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> None:
    """``python -m shoplm.modeling.tiny --out DIR [--pretrain-steps N]``: build with the default spec."""
    parser = argparse.ArgumentParser(description="Build the tiny Qwen2 base model")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pretrain-steps", type=int, default=None)
    args = parser.parse_args(argv)
    overrides = {} if args.pretrain_steps is None else {"pretrain_steps": args.pretrain_steps}
    summary = build_tiny_base(TinyModelSpec(**overrides), args.out)
    brief = {k: summary[k] for k in ("parameters", "size_bytes", "pretrain", "seconds", "cpu_seconds")}
    brief["probe_shape_rate"] = summary["probe"] and summary["probe"]["shape_rate"]
    print(json.dumps(brief, indent=2))


if __name__ == "__main__":
    main()
