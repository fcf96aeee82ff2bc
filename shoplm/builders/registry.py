"""Registry of training-question builders: one per row of seed 003 Table 7.

A builder turns tidy source frames (``shoplm.sources``) into ShopBench records
(``shoplm.shopbench.records.Question``) whose prompts read like the development set's tasks and whose
``output_field`` is in the official format, so the scorer can check every generated answer.

Rows that need an LLM (Table 7 "LLM = Yes") are registered too, with an ``LLMRequest`` that declares
what they ask the model: the synthesis stage (``tasks/synth.py``) asks it and writes the accepted
questions, which ``build`` reads back from the frame :data:`SYNTHETIC_FRAME`, so a mixture lists an LLM
row like any other builder.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

from shoplm.registry import Registry, UnknownNameError
from shoplm.shopbench.records import METRICS, TASK_TYPES, TRACKS, Question

if TYPE_CHECKING:  # the frames are pandas; importing this module (to check a name) must not import it
    import pandas as pd


@dataclass(frozen=True)
class LLMRequest:
    """What an LLM-built row asks the model (filled in by ``shoplm.synthesis``)."""

    purpose: str                      # one line: what the LLM produces, e.g. "extract the product type"
    inputs: tuple[str, ...]           # source columns placed in the prompt
    outputs: Mapping[str, str]        # JSON fields the LLM must return → their meaning
    template: str = ""                # prompt template with {column} placeholders


@dataclass
class BuildContext:
    """Everything a builder may use: frames by name, a seeded RNG, and how many questions to make."""

    frames: Mapping[str, pd.DataFrame]
    rng: random.Random
    limit: int

    def frame(self, name: str) -> pd.DataFrame:
        if name not in self.frames:
            raise KeyError(f"builder needs source frame {name!r}; available: {', '.join(sorted(self.frames))}")
        return self.frames[name]


BuildFn = Callable[[BuildContext], Iterator[Question]]

SYNTHETIC_FRAME = "synthetic"  # the synth stage's accepted questions, one row each, with the LLM row's name


@dataclass(frozen=True)
class BuilderSpec:
    name: str
    table7_row: int                   # seed 003 Table 7 "No"
    frames: tuple[str, ...]           # source frames it reads
    task_type: str
    metric: str
    track: str
    description: str
    build: BuildFn | None = None
    llm: LLMRequest | None = None
    adapters: tuple[str, ...] = field(default_factory=tuple)  # seed adapters that used the row

    @property
    def needs_llm(self) -> bool:
        return self.llm is not None

    @property
    def input_frames(self) -> tuple[str, ...]:
        """The frames ``build`` reads: an LLM row's synthesized questions, else its source frames
        (``frames`` of an LLM row are what the synthesis stage reads)."""
        return (SYNTHETIC_FRAME,) if self.needs_llm else self.frames


#: The lazy name list: builder module → the rows it registers, in order. Params name builders in
#: ``build.mixtures`` and ``synth.rows``; checking those names reads this, not the builders (pandas).
BUILDER_MODULES: dict[str, tuple[str, ...]] = {
    "amazon_m2": ("m2-title-translation", "m2-description-match-mc", "m2-session-previous-clicks"),
    "ecinstruct": ("ecinstruct-answerability-mc", "ecinstruct-product-matching-mc", "ecinstruct-substitute-mc",
                   "ecinstruct-sentiment-mc", "ecinstruct-sentiment-ranking"),
    "esci": ("esci-query-ranking", "esci-product-query-ranking", "esci-pair-ranking", "esci-exact-retrieval",
             "esci-bullet-retrieval"),
    "esci_choice": ("esci-multilingual-query-mc", "esci-query-product-mc", "esci-brand-mc", "esci-relation-mc"),
    "general": ("alpaca-generation", "mmlu-mc"),
    "llm_rows": ("m2-attribute-category-mc", "reviews-snippet-retrieval", "reviews-aspect-retrieval",
                 "reviews-complement-category-mc", "m2-product-type-explanation", "ecinstruct-attribute-ner",
                 "ecinstruct-product-classification-mc", "ecinstruct-relation-mc",
                 "ecinstruct-query-product-retrieval", "ecinstruct-sequential-recommendation-mc",
                 "esci-query-for-description-mc", "esci-query-for-features-mc", "esci-query-for-title-mc",
                 "esci-title-for-description-mc", "esci-title-for-features-mc", "esci-title-for-query-mc"),
    "reviews": ("reviews-also-buy", "reviews-rating-mc", "reviews-helpfulness-ranking"),
}


def _load_builders() -> None:
    # Each builder module registers its rows when imported (written out, so the DVC deps check sees them).
    from shoplm.builders import amazon_m2, ecinstruct, esci, esci_choice, general, llm_rows, reviews  # noqa: F401


BUILDERS: Registry[BuilderSpec] = Registry(
    "builder", loader=_load_builders, names=[name for names in BUILDER_MODULES.values() for name in names])


def register(name: str, *, table7_row: int, frames: tuple[str, ...], task_type: str, metric: str, track: str,
             description: str, adapters: tuple[str, ...] = (), llm: LLMRequest | None = None
             ) -> Callable[[BuildFn], BuildFn]:
    """Decorator registering a builder function under ``name``."""

    def decorate(fn: BuildFn) -> BuildFn:
        @functools.wraps(fn)
        def limited(ctx: BuildContext) -> Iterator[Question]:
            # Every builder yields at most ctx.limit questions; builders themselves need not count.
            return islice(fn(ctx), max(ctx.limit, 0))

        _add(BuilderSpec(name, table7_row, frames, task_type, metric, track, description, limited, llm, adapters))
        return fn

    return decorate


def register_llm(name: str, *, table7_row: int, frames: tuple[str, ...], task_type: str, metric: str,
                 track: str, description: str, llm: LLMRequest, build: BuildFn,
                 adapters: tuple[str, ...] = ()) -> None:
    """Declare a row that needs an LLM; ``build`` reads what the synthesis stage made of it."""

    @functools.wraps(build)
    def limited(ctx: BuildContext) -> Iterator[Question]:
        return islice(build(ctx), max(ctx.limit, 0))

    _add(BuilderSpec(name, table7_row, frames, task_type, metric, track, description, limited, llm, adapters))


def _add(spec: BuilderSpec) -> None:
    # A wrong name here is the builder author's bug, found when the module is imported.
    try:
        TASK_TYPES.check(spec.task_type)
        METRICS.check(spec.metric)
        if spec.track not in TRACKS:
            raise UnknownNameError("track", spec.track, TRACKS)
    except UnknownNameError as exc:
        raise ValueError(f"builder {spec.name!r}: {exc}") from None
    BUILDERS.add(spec.name, spec, doc=f"Table 7 row {spec.table7_row}: {spec.description}")


def get_builder(name: str) -> BuilderSpec:
    """The builder registered as ``name``; an unknown name raises ``UnknownNameError``."""
    return BUILDERS.get(name)
