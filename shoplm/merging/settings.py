"""Params sections ``merge`` (fixed specs) and ``search`` (grids of specs chosen on a validation set)."""

from __future__ import annotations

import itertools
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shoplm.merging.methods import MERGE_METHODS
from shoplm.merging.scoring import OBJECTIVES
from shoplm.merging.spec import MergeSpec

DTypes = Literal["float32", "bfloat16", "float16"]


class MergeSection(BaseModel):
    """Stage ``merge@<name>``: each named spec is merged into models/merged/<name>/ (one per track if wanted)."""

    model_config = ConfigDict(extra="forbid")

    dtype: DTypes = Field("float32", description="dtype the base is loaded and saved in.")
    specs: dict[str, MergeSpec] = Field(default_factory=dict, description="Name → merge spec.")


class MergeGrid(BaseModel):
    """A grid of merge specs: every combination of the listed weights, α values and densities."""

    model_config = ConfigDict(extra="forbid")

    method: MERGE_METHODS.validated() = "weighted"
    adapters: dict[str, list[float]] = Field(description="Adapter name → weights to try.")
    alpha: list[float] = Field([1.0], description="wise-ft α values to try (0 = the base).")
    density: list[float] | None = Field(None, description="Densities to try (ties, dare_*).")
    seed: int = 0

    @field_validator("adapters")
    @classmethod
    def _non_empty(cls, value: dict[str, list[float]]) -> dict[str, list[float]]:
        if not value or any(not weights for weights in value.values()):
            raise ValueError("name at least one adapter, each with at least one weight")
        return value

    @model_validator(mode="after")
    def _valid_candidates(self) -> MergeGrid:
        self.candidates()  # every combination must be a valid MergeSpec (density where needed, α ≥ 0)
        return self

    def candidates(self) -> list[MergeSpec]:
        names = list(self.adapters)
        specs, seen = [], set()
        for weights in itertools.product(*(self.adapters[n] for n in names)):
            for density in self.density or [None]:
                for alpha in self.alpha:
                    spec = MergeSpec(method=self.method, adapters=dict(zip(names, weights)), alpha=alpha,
                                     density=density, seed=self.seed)
                    if spec.fingerprint() not in seen:
                        seen.add(spec.fingerprint())
                        specs.append(spec)
        return specs


class SearchSection(BaseModel):
    """Stage ``search@<grid>``: score every spec of a grid on a validation set, keep the best, test it once."""

    model_config = ConfigDict(extra="forbid")

    validation_set: str = Field("sample", description="Evaluation set the candidates are scored on.")
    test_set: str | None = Field(None, description="Set for the one final test; null: hold out part of "
                                                   "validation_set (test_fraction), never seen by the search.")
    test_fraction: float = Field(0.5, gt=0.0, lt=1.0, description="Held-out share when test_set is null.")
    split_seed: int = Field(0, description="Seed of the validation/test split.")
    limit: int | None = Field(None, ge=1, description="Only the first N validation questions (quick runs).")
    objective: Literal[OBJECTIVES] = Field("track5", description="Score that ranks candidates.")
    dtype: DTypes = "float32"
    grids: dict[str, MergeGrid] = Field(default_factory=dict, description="Grid name → grid.")
