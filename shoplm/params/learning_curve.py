"""Params section ``learning_curve``: stage ``learning_curve@<adapter>`` (``make curve``, not ``make run``).

The adapter is trained once up to the largest listed step, with its own ``train`` settings otherwise,
its LoRA weights are kept at every listed step, and each of them and the base model (step 0) is scored on
each set, decoded as stage ``evaluate`` decodes (``evaluate.generation``, ``evaluate.constraints``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt, field_validator

from shoplm.params.loader import StrictModel


class LearningCurveSection(StrictModel):
    """Stage ``learning_curve@<adapter>``: Track 5 against training steps, with intervals."""

    section = "learning_curve"

    steps: list[int] = Field(
        default_factory=lambda: [0, 10, 25, 50, 100], min_length=1,
        description="Optimizer steps to score, ascending. One run trains to the largest; step 0 (the base "
        "model, the reference of every paired change) is always scored, listed or not.")
    sets: list[str] | None = Field(
        None, description="eval_sets names to score on; null: every set of eval_sets (the sample set, and "
        "dev or a held-out set where params add them).")
    limit: PositiveInt | None = Field(None, description="Only the first N questions of each set.")
    backend: Literal["vllm", "transformers"] = Field(
        "vllm", description="vllm: one engine, each step's adapter per request (transformers where vllm is "
        "not installed); transformers: the base and each step's adapter loaded one after another.")

    @field_validator("steps")
    @classmethod
    def _ascending(cls, value: list[int]) -> list[int]:
        if any(step < 0 for step in value):
            raise ValueError("steps count optimizer steps: 0 or more")
        if any(b <= a for a, b in zip(value, value[1:])):
            raise ValueError(f"{value}: list each step once, ascending")
        if max(value) == 0:
            raise ValueError("no step past 0: list at least one step to train to")
        return value

    @field_validator("sets")
    @classmethod
    def _once_each(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or len(set(value)) != len(value)):
            raise ValueError("name each set once (or null: every set of eval_sets)")
        return value

    @property
    def points(self) -> list[int]:
        """The steps scored: 0 (the base) and every listed step, ascending."""
        return sorted({0, *self.steps})

    def set_names(self, eval_sets: dict[str, str]) -> list[str]:
        """The sets scored: ``sets``, or every name of ``eval_sets`` when null."""
        return list(eval_sets) if self.sets is None else list(self.sets)
