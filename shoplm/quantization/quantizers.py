"""Registry of weight-only quantizers, all through llm-compressor (0.14.0.1) and saved as compressed-tensors.

* ``rtn``: round-to-nearest per group (``QuantizationModifier``); no calibration data; seconds even
  for a large model on CPU. The default for quick runs.
* ``awq`` (Lin et al. 2024; seed 003 §4.6): activation-aware scaling of salient channels found on
  calibration prompts (``AWQModifier``), then the same group quantization. Slow on CPU (see README).
* ``gptq`` (Frantar et al. 2023): second-order error compensation column by column on calibration
  prompts (``GPTQModifier``).

Each builds a recipe from ``QuantizeSection``: W{bits}A16, ``group_size``, a zero point unless
``symmetric``. ``lm_head`` stays in full precision (as AutoAWQ and vLLM expect).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shoplm.registry import Registry


@dataclass(frozen=True)
class Quantizer:
    """``recipe(settings) → list of llm-compressor modifiers``, and whether it needs calibration prompts."""

    recipe: Callable[[Any], list[Any]]
    needs_calibration: bool


QUANTIZERS: Registry[Quantizer] = Registry("quantizer")
IGNORED_MODULES = ["lm_head"]


def weight_scheme(settings: Any) -> dict[str, Any]:
    """A compressed-tensors config group: int weights in groups, activations left in 16 bit."""
    return {"group_0": {"targets": ["Linear"], "weights": {
        "num_bits": settings.bits, "type": "int", "symmetric": settings.symmetric,
        "strategy": "group", "group_size": settings.group_size}}}


def _rtn(settings: Any) -> list[Any]:
    from llmcompressor.modifiers.quantization import QuantizationModifier

    return [QuantizationModifier(config_groups=weight_scheme(settings), ignore=IGNORED_MODULES)]


def _gptq(settings: Any) -> list[Any]:
    from llmcompressor.modifiers.gptq import GPTQModifier

    return [GPTQModifier(config_groups=weight_scheme(settings), ignore=IGNORED_MODULES)]


def _awq(settings: Any) -> list[Any]:
    from llmcompressor.modifiers.quantization import QuantizationModifier
    from llmcompressor.modifiers.transform.awq import AWQModifier

    return [AWQModifier(duo_scaling=settings.awq_duo_scaling, n_grid=settings.awq_n_grid),
            QuantizationModifier(config_groups=weight_scheme(settings), ignore=IGNORED_MODULES)]


QUANTIZERS.add("rtn", Quantizer(_rtn, needs_calibration=False),
               doc="round-to-nearest per group, no calibration (seconds; default for quick runs)")
QUANTIZERS.add("awq", Quantizer(_awq, needs_calibration=True),
               doc="activation-aware weight scaling on calibration prompts, then groups (seed 003)")
QUANTIZERS.add("gptq", Quantizer(_gptq, needs_calibration=True),
               doc="second-order error compensation on calibration prompts, then groups")
