"""Params section ``ingest``: where each public source is and how to read it.

Source names are checked against the readers' registry, and each source's ``options`` against its
reader's keyword arguments, so validating this section imports the readers (pandas); importing it does not.
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

from pydantic import Field, field_validator

from shoplm.params.loader import StrictModel
from shoplm.registry import UnknownNameError


class SourceSettings(StrictModel):
    """How to read one public source (``shoplm.sources`` reader of the same name)."""

    path: str | None = Field(None, description="The publisher's file or folder; null reads the bundled sample "
                                               "in data/sample/.")
    on_error: Literal["raise", "skip"] = Field("raise", description="A malformed row stops the stage (raise) "
                                                                    "or is skipped and counted in the report.")
    limit: int | None = Field(None, ge=0, description="Read at most this many rows (after the reader's filters).")
    options: dict[str, Any] = Field(default_factory=dict, description="Reader keyword options, e.g. "
                                    "{locales: us, version: small} for esci; see each reader's docstring.")


class IngestSettings(StrictModel):
    """Stage ``ingest``: read every listed source into a tidy frame (data/interim/frames/<name>.parquet)."""

    section = "ingest"

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
