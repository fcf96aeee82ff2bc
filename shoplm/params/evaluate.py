"""Params section ``evaluate``: the backend, generation, prompts, constraints, time budget and engine
settings every stage that generates answers shares, and ``evaluate.final`` (stage ``evaluate_final``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from shoplm.inference.backends import BACKENDS  # light: the backends import torch or vLLM when loaded
from shoplm.params.generation import GenerationSettings
from shoplm.params.loader import StrictModel
from shoplm.params.serving import BudgetSettings, ConstraintSettings, VLLMSettings


class FinalEvaluation(StrictModel):
    """Stage ``evaluate_final``: the model the pipeline ends with, scored the way it would be served."""

    set: str = Field("sample", description="Evaluation set (data/eval/<set>.jsonl).")
    model: str = Field("quantized/search-ensemble", description="A model folder under models/, e.g. the quantize "
                       "stage's quantized/<quantize.model> or merged/<spec>.")
    backend: BACKENDS.validated() = Field(  # type: ignore[valid-type]
        "transformers", description="Backend of this evaluation alone (vllm serves compressed-tensors models).")

    @field_validator("model")
    @classmethod
    def _under_models(cls, value: str) -> str:
        parts = Path(value).parts
        if not parts or Path(value).is_absolute() or ".." in parts:
            raise ValueError(f"{value!r}: give a folder under models/, such as 'quantized/search-ensemble'")
        return value


class EvaluateSection(StrictModel):
    """Stage ``evaluate``: batched generation on each evaluation set, then the official scorer."""

    section = "evaluate"

    backend: BACKENDS.validated() = Field(  # type: ignore[valid-type]
        "transformers", description="A backend registered in shoplm.inference.BACKENDS; an unknown name "
        "fails when params load, listing the registered ones.")
    dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32"
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs per model (vLLM backend).")
    limit: int | None = Field(None, ge=1, description="Evaluate only the first N questions of each set.")
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    vllm: VLLMSettings = Field(default_factory=VLLMSettings, description="Engine settings of backend vllm.")
    budget: BudgetSettings = Field(default_factory=BudgetSettings, description="Per-track time limits.")
    final: FinalEvaluation = Field(default_factory=FinalEvaluation,
                                   description="Stage evaluate_final: the pipeline's final model.")
    constraints: ConstraintSettings = Field(default_factory=ConstraintSettings)

    @model_validator(mode="after")
    def _one_process_one_device(self) -> EvaluateSection:
        if self.vllm.in_process and self.tensor_parallel_size > 1:
            raise ValueError(f"vllm.in_process: true runs the engine in one process, so on one device; "
                             f"tensor_parallel_size is {self.tensor_parallel_size} (set in_process: false)")
        return self
