"""Params sections ``merge`` (fixed specs) and ``search`` (grids of specs chosen on a validation set), and
the declarative merge spec both are made of.

    method: weighted          # a name of shoplm.merging.methods.MERGE_METHODS
    adapters: {v7: 0.56, v8: 0.75}
    alpha: 1.0                # wise-ft: W_base + α·merged delta (seed 003 §4.4)
    density: null             # ties / dare_*: share of each delta kept
    seed: 0                   # dare_*: the random drop mask

A spec is a value: its ``fingerprint`` keys the search cache, and ``change_from_base`` orders equal
scores (the smaller change from the base wins a tie).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shoplm.merging.methods import MERGE_METHODS  # light: the methods import torch when they run
from shoplm.params.loader import StrictModel

#: Scores a search can rank candidates by (``shoplm.merging.scoring`` computes them).
OBJECTIVES = ("track5", "mean_over_tasks")
#: Rules that pick the searched spec among the scored candidates (``shoplm.merging.search.select``).
SELECTION_RULES = ("one_se_paired", "one_se", "best")

DTypes = Literal["float32", "bfloat16", "float16"]

class MergeSpec(BaseModel):
    """One merge of LoRA adapters into the base model: B + α·merge(w₁·ΔW₁, …, wₙ·ΔWₙ)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: MERGE_METHODS.validated() = Field("weighted", description="Merge method (see MERGE_METHODS).")
    adapters: dict[str, float] = Field(description="Adapter name (models/adapters/<name>/) → weight wᵢ.")
    alpha: float = Field(1.0, ge=0.0, description="wise-ft α: 0 is the base, 1 the plain merge.")
    density: float | None = Field(None, gt=0.0, le=1.0, description="Share of each delta kept (ties, dare_*).")
    seed: int = Field(0, description="Seed of the random drop mask (dare_*).")

    @field_validator("adapters")
    @classmethod
    def _some_adapters(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("name at least one adapter")
        return value

    @model_validator(mode="after")
    def _density_where_used(self) -> MergeSpec:
        uses_density = MERGE_METHODS.get(self.method).uses_density
        if uses_density and self.density is None:
            raise ValueError(f"method {self.method!r} needs a density (share of each delta kept, e.g. 0.5)")
        if not uses_density and self.density is not None:
            raise ValueError(f"method {self.method!r} takes no density; remove it")
        return self

    def fingerprint(self) -> str:
        """A short stable hash of everything that changes the merged weights."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def change_from_base(self) -> float:
        """α·Σ|wᵢ|: how far the merge moves from the base (α=0 or all weights 0: not at all)."""
        return self.alpha * sum(abs(w) for w in self.adapters.values())

    def label(self) -> str:
        """A short human label, e.g. ``weighted v7=0.56 v8=0.75 α=1``."""
        weights = " ".join(f"{name}={weight:g}" for name, weight in self.adapters.items())
        extra = f" d={self.density:g}" if self.density is not None else ""
        return f"{self.method} {weights}{extra} α={self.alpha:g}"


class MergeSection(StrictModel):
    """Stage ``merge@<name>``: each named spec is merged into models/merged/<name>/ (one per track if wanted)."""

    section = "merge"

    dtype: DTypes = Field("float32", description="dtype the base is loaded and saved in.")
    specs: dict[str, MergeSpec] = Field(default_factory=dict, description="Name → merge spec.")


class MergeGrid(StrictModel):
    """A grid of merge specs: every combination of the listed weights, α values and densities."""

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


class SearchSection(StrictModel):
    """Stage ``search@<grid>``: score every spec of a grid on a validation set, choose one by ``selection``,
    test it once."""

    section = "search"

    validation_set: str = Field("sample", description="Evaluation set the candidates are scored on.")
    test_set: str | None = Field(None, description="Set for the one final test; null: hold out part of "
                                                   "validation_set (test_fraction), never seen by the search.")
    test_fraction: float = Field(0.5, gt=0.0, lt=1.0, description="Held-out share when test_set is null.")
    split_seed: int = Field(0, description="Seed of the validation/test split.")
    limit: int | None = Field(None, ge=1, description="Only the first N validation questions (quick runs).")
    objective: Literal[OBJECTIVES] = Field("track5", description="Score that ranks candidates.")
    selection: Literal[SELECTION_RULES] = Field(
        "one_se_paired", description="one_se_paired: the smallest change from the base whose validation score "
        "is below the best's by at most the standard error of their paired difference (task-stratified bootstrap "
        "on the same questions); one_se: ... by at most the best score's own standard error (wider: it counts "
        "the noise the two share); best: the highest score (ties: smaller change).")
    dtype: DTypes = "float32"
    backend: Literal["transformers", "vllm"] = Field(
        "transformers", description="transformers: each candidate merged into the loaded weights and scored in "
        "turn; vllm: every weighted candidate as one LoRA adapter per request, all scored in one engine call "
        "(ties and dare_* have no LoRA form and are scored as merges). Both decode under evaluate.constraints.")
    grids: dict[str, MergeGrid] = Field(default_factory=dict, description="Grid name → grid.")
