"""Params section ``quantize``: which model, which quantizer, group size, padding, calibration."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from shoplm.params.loader import StrictModel
from shoplm.quantization.quantizers import QUANTIZERS  # light: each quantizer imports llm-compressor when it runs

SEARCH_PREFIX = "search:"  # quantize.eval_set "search:<grid>": the held-out test questions of search@<grid>


class CalibrationSettings(StrictModel):
    """Calibration prompts: questions of an evaluation set rendered with the project's chat prompt."""

    set: str = Field("sample", description="Evaluation set (data/eval/<set>.jsonl) the prompts come from.")
    samples: int = Field(16, ge=1, description="Number of prompts (seed 003: the development questions).")
    max_seq_len: int = Field(512, ge=16, description="Prompts are cut to this many tokens.")


class QuantizeSection(StrictModel):
    """Stage ``quantize``: W{bits}A16 weight-only quantization of a merged model (seed 003 §4.6)."""

    section = "quantize"

    model: str = Field("ensemble", description="A model of models/merged/<model>/ (a merge or search output).")
    method: QUANTIZERS.validated() = Field("rtn", description="Quantizer: rtn, awq or gptq.")
    bits: Literal[4, 8] = Field(4, description="Weight bits (activations stay 16-bit).")
    group_size: Literal[32, 64, 128] = Field(128, description="Weights sharing one scale and zero point.")
    symmetric: bool = Field(False, description="False: with a zero point (seed 003's AWQ setting).")
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs that will shard the quantized model.")
    pad_intermediate_to: int | None = Field(
        None, description="MLP width to pad to; null: the next multiple of group_size × tensor_parallel_size.")
    calibration: CalibrationSettings = Field(default_factory=CalibrationSettings)
    awq_n_grid: int = Field(20, ge=1, description="AWQ scale grid points per layer (fewer: faster).")
    awq_duo_scaling: bool | Literal["both"] = Field(True, description="AWQ scales from activations and weights.")
    eval_set: str | None = Field(
        "sample", description="Score before/after quantization on this evaluation set (data/eval/<set>.jsonl), "
                              "or on 'search:<grid>', the test questions search@<grid> held out (so the "
                              "score before equals the search's test score of the merge); null: skip.")
    eval_limit: int | None = Field(None, ge=1, description="Only the first N questions of eval_set.")
    compare: list[QUANTIZERS.validated()] = Field(
        default_factory=list, description="Other quantizers to also run and score on eval_set (logged only).")

    @field_validator("eval_set")
    @classmethod
    def _eval_set_form(cls, value: str | None) -> str | None:
        if value is not None and value.startswith(SEARCH_PREFIX) and not value.removeprefix(SEARCH_PREFIX).strip():
            raise ValueError(f"{value!r}: name the grid, as in 'search:ensemble' (a grid of search.grids)")
        if value is not None and not value.strip():
            raise ValueError("empty; name an evaluation set, 'search:<grid>', or null to skip scoring")
        return value

    @property
    def eval_search_grid(self) -> str | None:
        """The grid whose held-out test questions ``eval_set`` names, or None for a plain evaluation set."""
        if self.eval_set is not None and self.eval_set.startswith(SEARCH_PREFIX):
            return self.eval_set.removeprefix(SEARCH_PREFIX)
        return None

    @property
    def pad_multiple(self) -> int:
        return self.group_size * self.tensor_parallel_size

    @model_validator(mode="after")
    def _pad_target_divides(self) -> QuantizeSection:
        if self.pad_intermediate_to is not None and self.pad_intermediate_to % self.pad_multiple:
            raise ValueError(f"pad_intermediate_to {self.pad_intermediate_to} is not a multiple of group_size × "
                             f"tensor_parallel_size = {self.pad_multiple}")
        return self
