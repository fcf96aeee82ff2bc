"""Params section ``base`` (the model every later stage starts from) and the tiny test model's spec."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shoplm.params.loader import StrictModel

#: The tiny model's shipped training text, and the command that writes it (``data/generators/corpus.py``).
DEFAULT_CORPUS_PATH = Path("data/corpus/tiny_corpus.txt")
REGENERATE = "python -m data.generators.corpus"

#: vLLM serves ShopBench with this model length; the tiny model's positions must cover it.
COMPETITION_MAX_MODEL_LEN = 3072


class TinyModelSpec(StrictModel):
    """Dimensions, seed and pre-training budget of the tiny base model (the ``tiny`` profile's base).

    Every 4-bit quantized Linear needs its input size divisible by the group size, so ``hidden_size``
    (input of q/k/v/o, gate, up) and ``intermediate_size`` (input of down) must be multiples of every
    entry of ``quant_group_sizes``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    vocab_size: int = Field(3072, ge=320, description="model vocabulary (embedding rows); multiple of 64. "
                            "The BPE is trained up to this size; unused rows stay, as in Qwen2")
    hidden_size: int = Field(256, gt=0, description="model width; input size of q/k/v/o, gate and up")
    intermediate_size: int = Field(512, gt=0, description="MLP width; input size of down_proj")
    num_layers: int = Field(2, ge=1, description="decoder layers")
    num_heads: int = Field(4, ge=1, description="attention heads; head_dim = hidden_size / num_heads "
                           "(64 by default, a size vLLM's CPU attention supports)")
    num_kv_heads: int = Field(2, ge=1, description="key/value heads (grouped-query attention, as in Qwen2)")
    max_position_embeddings: int = Field(4096, ge=COMPETITION_MAX_MODEL_LEN,
                                         description="at least the competition's max model length, 3072")
    rope_theta: float = Field(1_000_000.0, gt=0, description="RoPE base, Qwen2's value")
    quant_group_sizes: tuple[int, ...] = Field((64, 128), description="4-bit group sizes the model must support")
    dtype: Literal["float32", "bfloat16"] = Field(
        "float32", description="saved weight dtype. float32: CPU training and LoRA on a tiny model is "
        "exact and steady in fp32 (bf16 weights lose small Adam updates), and 9 MB is nothing")
    seed: int = Field(0, description="seeds the weight init and the pre-training batches")
    pretrain_steps: int = Field(160, ge=0, description="0 = random weights, no pre-training")
    pretrain_batch_size: int = Field(4, ge=1, description="windows per step")
    pretrain_seq_len: int = Field(256, ge=16, description="tokens per window")
    learning_rate: float = Field(2e-3, gt=0, description="AdamW peak; warm-up then cosine to 10%")
    warmup_steps: int = Field(10, ge=0, description="linear warm-up steps")
    corpus: Path = Field(DEFAULT_CORPUS_PATH, description="shipped text for the tokenizer and pre-training; "
                         "relative paths resolve against the working directory, then the repository root")

    @model_validator(mode="after")
    def _check_dims(self) -> TinyModelSpec:
        problems = []
        for group in self.quant_group_sizes:
            for name in ("hidden_size", "intermediate_size"):
                value = getattr(self, name)
                if value % group:
                    problems.append(f"{name}={value} is not divisible by the 4-bit group size {group} "
                                    f"(use a multiple of {max(self.quant_group_sizes)})")
        if self.vocab_size % 64:
            problems.append(f"vocab_size={self.vocab_size} is not a multiple of 64")
        if self.hidden_size % self.num_heads:
            problems.append(f"hidden_size={self.hidden_size} is not divisible by num_heads={self.num_heads}")
        elif (self.hidden_size // self.num_heads) % 2:
            problems.append(f"head_dim={self.hidden_size // self.num_heads} must be even for rotary embeddings")
        if self.num_heads % self.num_kv_heads:
            problems.append(f"num_heads={self.num_heads} is not divisible by num_kv_heads={self.num_kv_heads}")
        if self.pretrain_seq_len > self.max_position_embeddings:
            problems.append(f"pretrain_seq_len={self.pretrain_seq_len} exceeds "
                            f"max_position_embeddings={self.max_position_embeddings}")
        if problems:
            raise ValueError("invalid tiny model spec: " + "; ".join(problems))
        return self

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    def resolved_corpus(self) -> Path:
        """The corpus file: as given if it exists, else relative to the repository root."""
        if self.corpus.is_absolute() or self.corpus.exists():
            path = self.corpus
        else:
            path = Path(__file__).resolve().parents[2] / self.corpus
        if not path.is_file():
            raise FileNotFoundError(
                f"corpus {self.corpus} not found (looked in {Path.cwd()} and the repository root); "
                f"regenerate the shipped one with `{REGENERATE}`"
            )
        return path


class BaseSection(StrictModel):
    """Stage ``base``: the model every later stage starts from."""

    section = "base"

    model: str = Field("tiny", description='"tiny" builds the local test model; a packaged GGUF name '
                       '(smollm2-135m-instruct) or a local .gguf file is converted; else a local folder or hub id.')
    dtype: Literal["float32", "bfloat16", "float16"] = Field(
        "float32", description="Weight dtype a GGUF conversion writes (the tiny model has tiny.dtype; a "
        "folder or hub id is used as it is).")
    allow_download: bool = Field(False, description="Let a hub id download; off by default (offline runs).")
    tiny: TinyModelSpec = Field(default_factory=TinyModelSpec, description="Spec of the locally built model.")


class ServingParallelism(BaseModel):
    """The one key of ``evaluate`` stage ``base`` checks the model against (its GPUs per model), read
    without the rest of the section, so the base model is not rebuilt when generation settings change."""

    model_config = ConfigDict(extra="ignore")

    tensor_parallel_size: int = Field(1, ge=1, description="GPUs per model (vLLM backend).")
