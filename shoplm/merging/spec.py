"""The declarative merge spec: which adapters, with which weights, merged how, and how far (wise-ft α).

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
import json

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shoplm.merging.methods import MERGE_METHODS


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
