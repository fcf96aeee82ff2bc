"""Pydantic models of the ``ingest`` and ``build`` params sections (imported by ``shoplm.config``).

``ingest`` says where each public source is and how to read it; ``build`` holds the decontamination
settings and the named training mixtures (the seed's adapters v7, v8, v7b, v9b). Every model forbids
unknown keys, so a typo fails at once, naming the key.
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shoplm.errors import keyed_problems
from shoplm.registry import UnknownNameError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- ingest ------------------------------------------------------------------------------------------------

class SourceSettings(_Strict):
    """How to read one public source (``shoplm.sources`` reader of the same name)."""

    path: str | None = Field(None, description="The publisher's file or folder; null reads the bundled sample "
                                               "in data/sample/.")
    on_error: Literal["raise", "skip"] = Field("raise", description="A malformed row stops the stage (raise) "
                                                                    "or is skipped and counted in the report.")
    limit: int | None = Field(None, ge=0, description="Read at most this many rows (after the reader's filters).")
    options: dict[str, Any] = Field(default_factory=dict, description="Reader keyword options, e.g. "
                                    "{locales: us, version: small} for esci; see each reader's docstring.")


class IngestSettings(_Strict):
    """Stage ``ingest``: read every listed source into a tidy frame (data/interim/frames/<name>.parquet)."""

    sources: dict[str, SourceSettings] = Field(description="Source registry name → how to read it; only the "
                                                           "sources listed are ingested.")
    progress: bool = Field(True, description="Show tqdm progress bars while reading.")

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, value: dict[str, SourceSettings]) -> dict[str, SourceSettings]:
        from shoplm.sources import get_reader

        if not value:
            raise ValueError("list at least one source")
        for name, source in value.items():
            try:
                reader = get_reader(name)
            except UnknownNameError as exc:  # did-you-mean + the known sources
                raise ValueError(str(exc)) from None
            accepted = set(inspect.signature(reader).parameters) - {"path", "limit", "on_error", "progress"}
            unknown = sorted(set(source.options) - accepted)
            if unknown:
                raise ValueError(f"{name}: unknown reader option(s) {unknown}; known: {sorted(accepted)}")
        return value


# --- build -------------------------------------------------------------------------------------------------

class DecontamSettings(_Strict):
    """Drop training questions that overlap an evaluation question (see shoplm.builders.decontam)."""

    enabled: bool = Field(True, description="Off: keep every question (the manifest still says so).")
    ngram: int = Field(8, ge=2, le=50, description="Word n-gram length (CJK characters count as words).")
    threshold: float = Field(0.5, gt=0, le=1, description="Drop a question when at least this fraction of "
                             "its content n-grams occur in some evaluation question.")
    boilerplate_eval_df: int = Field(2, ge=2, description="An n-gram found in at least this many evaluation "
                                     "questions is template text, not content (so is the builder's own "
                                     "fixed wording).")
    max_examples: int = Field(5, ge=0, description="Dropped questions shown in the manifest and log.")


class MixtureSpec(_Strict):
    """One training mixture: rows per builder and the seed that makes it reproducible."""

    seed: int = Field(0, description="Seeds every builder (each with its own RNG) and the final shuffle.")
    builders: dict[str, int] = Field(description="Builder name → rows wanted (a builder yielding fewer is "
                                                 "recorded as a shortfall in the manifest).")

    @field_validator("builders")
    @classmethod
    def _known_builders(cls, value: dict[str, int]) -> dict[str, int]:
        from shoplm.builders.registry import get_builder

        if not value:
            raise ValueError("list at least one builder")
        problems: list[tuple[tuple[str, ...], str]] = []  # each reported at its own key's line
        for name, rows in value.items():
            try:
                spec = get_builder(name)
            except UnknownNameError as exc:  # did-you-mean + the known builders
                problems.append(((name,), str(exc)))
                continue
            if isinstance(rows, bool) or rows < 1:
                problems.append(((name,), f"builder {name!r}: rows must be an integer >= 1, got {rows!r}"))
        if problems:
            raise keyed_problems(problems)
        return value


class BuildSettings(_Strict):
    """Stage ``build@<mixture>``: build one named mixture into data/processed/<mixture>/."""

    decontamination: DecontamSettings = Field(default_factory=DecontamSettings,
                                              description="Overlap check against every data/eval/*.jsonl set.")
    mixtures: dict[str, MixtureSpec] = Field(description="Mixture name (v7, v8, ...) → its spec.")

    @model_validator(mode="after")
    def _names(self) -> BuildSettings:
        for name in self.mixtures:
            if not name or not name.replace("-", "").replace("_", "").isalnum():
                raise ValueError(f"mixture name {name!r}: use letters, digits, '-' and '_' only")
        return self
