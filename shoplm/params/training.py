"""Params sections ``train`` and ``dpo``.

``train.defaults`` holds the hyperparameters every adapter starts from (the real profile: seed 003
Table 2); ``train.adapters`` names the adapters to train (the seed's v7, v8, v7b, v9b), each with its
mixture, seed and any hyperparameters it overrides.

``dpo`` has the same shape: ``dpo.defaults`` (beta, a small learning rate, how rejected answers are
made) and ``dpo.adapters``, keyed by the SFT adapter a preference run starts from; ``v7`` continues
``models/adapters/v7`` and writes ``models/adapters/v7-dpo``.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError, model_validator

from shoplm.errors import keyed_problems
from shoplm.params.loader import ParamsError, StrictModel
from shoplm.registry import Registry, UnknownNameError, did_you_mean
from shoplm.training.rejection_sources import REJECTION_SOURCES

_Strict = StrictModel


# --- names that transformers and trl accept ------------------------------------------------------------
# Filled from the libraries themselves on first use, so the lists follow the installed versions and
# importing this module does not import torch; validating a train or dpo section does.

def _add_enum(registry: Registry[str], module: str, enum: str) -> None:
    for member in getattr(importlib.import_module(module), enum):
        registry.add(member.value, member.value, doc=f"{module}.{enum}.{member.name}")


def _load_dpo_losses() -> None:
    # trl 1.16 has no enum of its DPO losses; DPOConfig declares them in the help of `loss_type`
    # (the text its CLI prints), and DPOTrainer refuses any other name only once training starts.
    from trl import DPOConfig

    field = next(f for f in dataclasses.fields(DPOConfig) if f.name == "loss_type")
    for name in re.findall(r"`'(\w+)'`", field.metadata["help"]):
        DPO_LOSSES.add(name, name, doc="trl DPOConfig.loss_type")


OPTIMIZERS: Registry[str] = Registry(
    "transformers optimizer", loader=lambda: _add_enum(OPTIMIZERS, "transformers.training_args", "OptimizerNames"))
LR_SCHEDULERS: Registry[str] = Registry(
    "transformers lr scheduler", loader=lambda: _add_enum(LR_SCHEDULERS, "transformers.trainer_utils", "SchedulerType"))
DPO_LOSSES: Registry[str] = Registry("trl DPO loss", loader=_load_dpo_losses)


# --- LoRA target modules ---------------------------------------------------------------------------------

ALL_LINEAR = "all-linear"
_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*")


def _target_modules_form(value: str | list[str]) -> str | list[str]:
    """``all-linear`` or a non-empty list of module names (peft matches each as a name suffix)."""
    if isinstance(value, str):
        if value != ALL_LINEAR:
            raise ValueError(f"{value!r}: use {ALL_LINEAR!r} or a list of Linear module names such as "
                             "[q_proj, v_proj]")
        return value
    if not value:
        raise ValueError(f"an empty list adapts nothing; use {ALL_LINEAR!r} or name Linear modules")
    bad = [name for name in value if not _MODULE_NAME.fullmatch(name)]
    if bad:
        raise ValueError(f"{bad}: not module names (letters, digits, '_' and '.' between parts)")
    return value


TargetModules = Annotated[str | list[str], AfterValidator(_target_modules_form)]


def check_target_modules(target_modules: str | list[str], linear_names: Iterable[str], key: str) -> None:
    """Every listed target must end the name of a Linear layer of the model (how peft matches it).

    ``linear_names`` are the model's Linear module names (``model.layers.0.self_attn.q_proj``). The
    model is only known in the train stage, so this runs there; the error names the params ``key``.
    """
    if target_modules == ALL_LINEAR:
        return
    names = list(linear_names)
    suffixes = sorted({part for name in names for part in _suffixes(name)})
    missing = [t for t in target_modules if not any(n == t or n.endswith("." + t) for n in names)]
    if missing:
        shown = sorted({name.rsplit(".", 1)[-1] for name in names})
        hint = did_you_mean(missing[0], suffixes)
        raise ParamsError(f"{key}: {missing} match no Linear layer of the base model.{hint} "
                          f"Its Linear layers end in: {', '.join(shown)}")


def _suffixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


class LoraSettings(_Strict):
    r: int = Field(64, ge=1, description="LoRA rank (seed 003: 64).")
    alpha: int = Field(32, ge=1, description="LoRA alpha (seed 003: 32).")
    dropout: float = Field(0.05, ge=0, lt=1, description="LoRA dropout (seed 003: 0.05).")
    target_modules: TargetModules = Field(ALL_LINEAR, description="Linear layers to adapt: all-linear (every "
                                          "Linear but the lm_head; seed 003) or module names, e.g. [q_proj, "
                                          "v_proj], checked against the base model in the train stage.")


class OptimizationSettings(_Strict):
    """What SFT and DPO share: optimizer, schedule, batch shape, precision, checkpoints."""

    optimizer: OPTIMIZERS.validated() = Field(  # type: ignore[valid-type]
        "adamw_torch", description="A transformers `optim` name (OptimizerNames; seed 003: AdamW).")
    lr_scheduler: LR_SCHEDULERS.validated() = Field(  # type: ignore[valid-type]
        "cosine", description="A transformers scheduler name (SchedulerType; seed 003: cosine).")
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
    loss_type: DPO_LOSSES.validated() = Field(  # type: ignore[valid-type]
        "sigmoid", description="A trl DPO loss: sigmoid (DPO), ipo, hinge, robust, ... (DPOConfig.loss_type).")
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
        except ValidationError as exc:  # each problem at its own key under the adapter's overrides
            raise keyed_problems([(("adapters", name, "overrides", *err["loc"]), _override_problem(name, err))
                                  for err in exc.errors()]) from None


def _override_problem(adapter: str, err: Any) -> str:
    key = ".".join(str(part) for part in err["loc"])
    reason = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
    return f"adapter {adapter!r} overrides: {key}: {reason}"


class TrainSection(_Strict):
    section = "train"

    defaults: TrainHyperparameters = Field(default_factory=TrainHyperparameters)
    adapters: dict[str, AdapterSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _overrides_valid(self) -> TrainSection:
        _check_overrides(self.adapters, self.defaults)
        return self


class DPOSection(_Strict):
    """Preference runs, keyed by the SFT adapter they start from (output: ``<key>-dpo``)."""

    section = "dpo"

    defaults: DPOHyperparameters = Field(default_factory=DPOHyperparameters)
    adapters: dict[str, AdapterSpec] = Field(default_factory=dict, description="SFT adapter name → the "
                                             "mixture whose questions become preference pairs, seed, overrides.")

    @model_validator(mode="after")
    def _overrides_valid(self) -> DPOSection:
        _check_overrides(self.adapters, self.defaults)
        return self


def select_adapter(adapters: dict[str, AdapterSpec], name: str, section: str) -> AdapterSpec:
    """``adapters[name]``, or an ``UnknownNameError`` naming the adapters the section does define."""
    if name not in adapters:
        raise UnknownNameError(f"{section}.adapters entry", name, adapters)
    return adapters[name]
