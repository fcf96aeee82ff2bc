"""Params section ``build``: the decontamination settings and the named training mixtures (the seed's
adapters v7, v8, v7b, v9b). Builder names are checked against the builders' lazy name list
(``shoplm.builders.registry.BUILDER_MODULES``), which imports no builder.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from shoplm.builders.registry import BUILDERS
from shoplm.errors import keyed_problems
from shoplm.params.loader import StrictModel
from shoplm.registry import UnknownNameError


class DecontamSettings(StrictModel):
    """Drop training questions that overlap an evaluation question (see shoplm.builders.decontam)."""

    enabled: bool = Field(True, description="Off: keep every question (the manifest still says so).")
    ngram: int = Field(8, ge=2, le=50, description="Word n-gram length (CJK characters count as words).")
    threshold: float = Field(0.5, gt=0, le=1, description="Drop a question when at least this fraction of "
                             "its content n-grams occur in some evaluation question.")
    boilerplate_eval_df: int = Field(2, ge=2, description="An n-gram found in at least this many evaluation "
                                     "questions is template text, not content (so is the builder's own "
                                     "fixed wording).")
    max_examples: int = Field(5, ge=0, description="Dropped questions shown in the manifest and log.")


class MixtureSpec(StrictModel):
    """One training mixture: rows per builder and the seed that makes it reproducible, and optionally
    held-out slices: questions of the same builders that training never sees (``heldout_sets`` name them)."""

    seed: int = Field(0, description="Seeds every builder (each with its own RNG) and the final shuffle.")
    builders: dict[str, int] = Field(description="Builder name → rows wanted (a builder yielding fewer is "
                                                 "recorded as a shortfall in the manifest).")
    heldout: dict[str, int] = Field(
        default_factory=dict,
        description="Held-out slice name → questions, shared among the builders (heldout_allocation): "
                    "questions the builders make after the training rows, decontaminated against the "
                    "evaluation sets and against the training rows; written to "
                    "data/processed/<mixture>/heldout/<slice>.jsonl. Slices are disjoint; the training rows are "
                    "the same with or without them.")

    heldout_allocation: Literal["track5", "rows"] = Field(
        "track5",
        description="How a slice is shared among the builders: track5, in proportion to each builder's weight in "
                    "Track 5 (1 / (tracks x the track's builders): the least variance of a Track 5 score for the "
                    "slice's size); rows, in proportion to the training rows (the training mix).")

    @field_validator("heldout")
    @classmethod
    def _slices(cls, value: dict[str, int]) -> dict[str, int]:
        problems: list[tuple[tuple[str, ...], str]] = []
        for name, size in value.items():
            if not str(name) or not str(name).replace("-", "").replace("_", "").isalnum():
                problems.append(((name,), f"slice name {name!r}: use letters, digits, '-' and '_' only"))
            elif isinstance(size, bool) or not isinstance(size, int) or size < 1:
                problems.append(((name,), f"slice {name!r}: questions must be an integer >= 1, got {size!r}"))
        if problems:
            raise keyed_problems(problems)
        return value

    @field_validator("builders")
    @classmethod
    def _known_builders(cls, value: dict[str, int]) -> dict[str, int]:
        if not value:
            raise ValueError("list at least one builder")
        problems: list[tuple[tuple[str, ...], str]] = []  # each reported at its own key's line
        for name, rows in value.items():
            try:
                BUILDERS.check(name)
            except UnknownNameError as exc:  # did-you-mean + the known builders
                problems.append(((name,), str(exc)))
                continue
            if isinstance(rows, bool) or rows < 1:
                problems.append(((name,), f"builder {name!r}: rows must be an integer >= 1, got {rows!r}"))
        if problems:
            raise keyed_problems(problems)
        return value


class BuildSettings(StrictModel):
    """Stage ``build@<mixture>``: build one named mixture into data/processed/<mixture>/."""

    section = "build"

    decontamination: DecontamSettings = Field(default_factory=DecontamSettings,
                                              description="Overlap check against every data/decontam/*.jsonl set "
                                                          "(the eval_sets files).")
    mixtures: dict[str, MixtureSpec] = Field(description="Mixture name (v7, v8, ...) → its spec.")

    @model_validator(mode="after")
    def _names(self) -> BuildSettings:
        for name in self.mixtures:
            if not name or not name.replace("-", "").replace("_", "").isalnum():
                raise ValueError(f"mixture name {name!r}: use letters, digits, '-' and '_' only")
        return self
