"""Pydantic models of the ``train`` and ``dpo`` params sections (imported by ``shoplm.config``).

``train.defaults`` holds the hyperparameters every adapter starts from (the real profile: seed 003
Table 2); ``train.adapters`` names the adapters to train (the seed's v7, v8, v7b, v9b), each with its
mixture, seed and any hyperparameters it overrides.

``dpo`` has the same shape: ``dpo.defaults`` (beta, a small learning rate, how rejected answers are
made) and ``dpo.adapters``, keyed by the SFT adapter a preference run starts from; ``v7`` continues
``models/adapters/v7`` and writes ``models/adapters/v7-dpo``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from shoplm.training.rejection_sources import REJECTION_SOURCES


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoraSettings(_Strict):
    r: int = Field(64, ge=1, description="LoRA rank (seed 003: 64).")
    alpha: int = Field(32, ge=1, description="LoRA alpha (seed 003: 32).")
    dropout: float = Field(0.05, ge=0, lt=1, description="LoRA dropout (seed 003: 0.05).")
    target_modules: str | list[str] = Field("all-linear", description="Linear layers to adapt (seed: all).")


class OptimizationSettings(_Strict):
    """What SFT and DPO share: optimizer, schedule, batch shape, precision, checkpoints."""

    optimizer: str = Field("adamw_torch", description="A transformers `optim` name (seed 003: AdamW).")
    lr_scheduler: str = Field("cosine", description="A transformers scheduler name (seed 003: cosine).")
    learning_rate: float = Field(2e-4, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_steps: int = Field(10, ge=0)
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping.")
    micro_batch_size: int = Field(1, ge=1, description="Rows per device and step; with packing a row "
                                  "holds several examples (axolotl's meaning).")
    gradient_accumulation_steps: int = Field(4, ge=1)
    epochs: float = Field(1.0, gt=0)
    max_steps: int = Field(-1, description="-1: run the epochs; >0 stops after this many optimizer steps.")
    max_seq_len: int = Field(3072, ge=16, description="Longest packed/padded sequence in tokens; longer "
                             "examples are dropped (and counted).")
    load_in_4bit: bool = Field(True, description="QLoRA: NF4 base weights through bitsandbytes.")
    double_quant: bool = Field(True, description="QLoRA double quantization of the 4-bit constants.")
    bf16: bool = Field(True, description="bfloat16 compute (off on CPUs/GPUs without it, e.g. T4).")
    gradient_checkpointing: bool = Field(True, description="Recompute activations in backward: far less "
                                         "memory on large models, ~30% slower; off for the tiny model.")
    save_steps: int = Field(200, ge=1, description="Checkpoint interval in optimizer steps.")
    save_total_limit: int | None = Field(2, ge=1, description="Checkpoints kept (the newest); None: all.")
    keep_checkpoints: bool = Field(False, description="Keep models/checkpoints/<adapter>/ after the run "
                                   "finishes (then a rerun with the same settings copies the result "
                                   "instead of training); off: checkpoints only serve killed runs.")
    logging_steps: int = Field(10, ge=1)


class TrainHyperparameters(OptimizationSettings):
    """QLoRA SFT hyperparameters; the real profile holds seed 003 Table 2."""

    packing: bool = Field(True, description="Padding-free sample packing (no cross-example attention).")
    lora: LoraSettings = Field(default_factory=LoraSettings)


class RejectedAnswers(_Strict):
    """How the rejected side of a preference pair is made; it always scores below the gold answer."""

    source: REJECTION_SOURCES.validated() = Field(  # type: ignore[valid-type]
        "synthetic", description="synthetic: rule-made wrong or badly formatted answers; on_policy: the "
        "SFT model's own sampled answers. Either way a candidate is kept only when the official metric "
        "scores it strictly below the gold answer.")
    samples_per_question: int = Field(4, ge=1, description="on_policy: answers sampled per question.")
    temperature: float = Field(1.0, gt=0, description="on_policy: sampling temperature.")

    bad_format_share: float = Field(0.5, ge=0, le=1, description="Share of pairs whose rejected answer "
                                    "is the right content in a wrong format ('Answer: 2', 'The answer is "
                                    "2', '[2, 5, 1] are the best'); the rest get a wrong answer in the "
                                    "right format (another option, a shuffled ranking, ...).")
    pairs_per_question: int = Field(1, ge=1, le=4, description="Preference pairs per training question.")
    max_pairs: int | None = Field(None, ge=1, description="Keep at most this many pairs (seeded sample).")


class DPOHyperparameters(OptimizationSettings):
    """DPO on top of an SFT adapter (seed 000's DPO idea, applied to ShopBench answers)."""

    learning_rate: float = Field(5e-6, gt=0, description="Far below SFT: DPO only nudges the adapter.")
    beta: float = Field(0.1, gt=0, description="DPO temperature: how far from the SFT reference to move.")
    loss_type: str = Field("sigmoid", description="A trl DPO loss: sigmoid (DPO), ipo, hinge, robust, ...")
    max_seq_len: int = Field(3072, ge=16, description="Longest prompt + answer; longer pairs are truncated.")
    rejected: RejectedAnswers = Field(default_factory=RejectedAnswers)


class AdapterSpec(_Strict):
    """One adapter: which mixture it learns from, its seed, and what it changes from ``defaults``."""

    mixture: str = Field(description="A mixture name of the build section (data/processed/<mixture>/).")
    seed: int = 0
    overrides: dict[str, Any] = Field(default_factory=dict, description="Hyperparameters that differ.")

    def hyperparameters(self, defaults: OptimizationSettings) -> Any:
        """``defaults`` with this adapter's overrides (nested sections merge key by key)."""
        merged = defaults.model_dump()
        for key, value in self.overrides.items():
            merged[key] = {**merged[key], **value} if isinstance(merged.get(key), dict) else value
        return type(defaults).model_validate(merged)


def _check_overrides(adapters: dict[str, AdapterSpec], defaults: OptimizationSettings) -> None:
    for name, adapter in adapters.items():
        try:
            adapter.hyperparameters(defaults)
        except ValidationError as exc:  # name the adapter and the key; ctx["loc"] lets config.py find its line
            first = exc.errors()[0]
            key = ".".join(str(part) for part in first["loc"])
            reason = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
            raise PydanticCustomError("adapter_overrides", "adapter '{adapter}' overrides: {key}: {reason}",
                                      {"adapter": name, "key": key, "reason": reason,
                                       "loc": ("adapters", name, "overrides", *first["loc"])}) from None


class TrainSection(_Strict):
    defaults: TrainHyperparameters = Field(default_factory=TrainHyperparameters)
    adapters: dict[str, AdapterSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _overrides_valid(self) -> TrainSection:
        _check_overrides(self.adapters, self.defaults)
        return self


class DPOSection(_Strict):
    """Preference runs, keyed by the SFT adapter they start from (output: ``<key>-dpo``)."""

    defaults: DPOHyperparameters = Field(default_factory=DPOHyperparameters)
    adapters: dict[str, AdapterSpec] = Field(default_factory=dict, description="SFT adapter name → the "
                                             "mixture whose questions become preference pairs, seed, overrides.")

    @model_validator(mode="after")
    def _overrides_valid(self) -> DPOSection:
        _check_overrides(self.adapters, self.defaults)
        return self


def select_adapter(adapters: dict[str, AdapterSpec], name: str, section: str) -> AdapterSpec:
    """``adapters[name]``, or a KeyError naming the adapters the section does define."""
    if name not in adapters:
        known = ", ".join(sorted(adapters)) or "none"
        raise KeyError(f"{section}.adapters has no adapter {name!r} (defined: {known})")
    return adapters[name]
