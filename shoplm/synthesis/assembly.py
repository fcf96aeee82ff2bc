"""What every assembler shares: the parsed replies of one row, the context, and the registry.

An assembler turns the accepted replies of one row (``Item``: the source record and the reply's JSON)
into ShopBench questions. It yields ``(item index, Question)`` for a question and
``(item index, Rejected)`` for a reply (or one candidate of it) that cannot give a sound question, so
the run counts every reject by reason. Wordings of the assembled questions are data: the template's
``assemble`` options.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from shoplm.builders.layout import Task
from shoplm.builders.registry import BuilderSpec
from shoplm.registry import Registry
from shoplm.shopbench.records import Question
from shoplm.synthesis.templates import RowTemplate
from shoplm.synthesis.validate import Rejected


@dataclass(frozen=True)
class Item:
    index: int                    # the request's position in the row's plan
    record: Mapping[str, Any]     # the source record sent
    data: Mapping[str, Any]       # the reply's JSON, schema-checked


@dataclass
class AssembleContext:
    spec: BuilderSpec
    row: RowTemplate
    rng: random.Random
    frames: Mapping[str, pd.DataFrame]
    wanted: int                   # questions the params ask for this row

    @property
    def task(self) -> Task:
        return Task(self.spec.name, self.spec.task_type, self.spec.metric, self.spec.track)

    def wording(self, key: str, **values: Any) -> str:
        """The template's ``assemble`` wording ``key`` with ``values`` filled in."""
        return str(self.row.assemble[key]).format(**values)


Outcome = tuple[int, Question | Rejected]
Assembler = Callable[[list[Item], AssembleContext], Iterator[Outcome]]


def _load_assemblers() -> None:
    import importlib

    for module in ("assemble_extract", "assemble_rephrase", "assemble_esci"):
        importlib.import_module(f"shoplm.synthesis.{module}")


ASSEMBLERS: Registry[Assembler] = Registry("synthesis assembler", loader=_load_assemblers)


def per_item(make: Callable[[Item, AssembleContext], Question]) -> Assembler:
    """An assembler that makes one question from each reply on its own."""

    def assemble(items: list[Item], ctx: AssembleContext) -> Iterator[Outcome]:
        for item in items:
            try:
                yield item.index, make(item, ctx)
            except Rejected as exc:
                yield item.index, exc

    assemble.__doc__ = make.__doc__
    return assemble
