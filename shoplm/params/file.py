"""The whole params file: every section, and the checks that span sections.

Stages read one section each (``shoplm.params.loader.load_section``); this module is for what reads the
whole file: the Prefect flow's check before it starts, ``shoplm profile``, the planner, tests. It imports
every section's schema, and nothing a stage runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from shoplm.errors import keyed_problems
from shoplm.modeling.fit import ModelShape, base_model_misfits
from shoplm.params.base import BaseSection
from shoplm.params.build import BuildSettings
from shoplm.params.evaluate import EvaluateSection
from shoplm.params.ingest import IngestSettings
from shoplm.params.learning_curve import LearningCurveSection
from shoplm.params.loader import (
    PARAMS_FILE,
    HeldoutSet,
    StrictModel,
    read_yaml,
    validate,
    validate_eval_sets,
    validate_heldout_sets,
)
from shoplm.params.loader import load_section as load_typed_section
from shoplm.params.merging import MergeSection, SearchSection
from shoplm.params.quantization import QuantizeSection
from shoplm.params.release import PackageSection, RegisterSection
from shoplm.params.studies import PromptAblationSection, SweepSection
from shoplm.params.synthesis import SynthSection
from shoplm.params.training import DPOSection, TrainSection
from shoplm.registry import UnknownNameError


def known_shape(base: BaseSection) -> ModelShape | None:
    """The base model's dimensions when known before stage base runs (tiny, a packaged GGUF), else None."""
    from shoplm.modeling.gguf import PACKAGED_GGUF

    if base.model == "tiny":
        spec = base.tiny
        return ModelShape(hidden_size=spec.hidden_size, intermediate_size=spec.intermediate_size,
                          num_heads=spec.num_heads, num_kv_heads=spec.num_kv_heads, head_dim=spec.head_dim)
    return PACKAGED_GGUF.get(base.model).shape if base.model in PACKAGED_GGUF else None


class Params(StrictModel):
    """The whole params file: every profile must validate against it."""

    eval_sets: dict[str, str]
    # Evaluation sets cut from built mixtures (optional: params files written before them still load).
    heldout_sets: dict[str, HeldoutSet] = Field(default_factory=dict)
    base: BaseSection
    ingest: IngestSettings
    build: BuildSettings
    evaluate: EvaluateSection
    train: TrainSection
    dpo: DPOSection
    merge: MergeSection
    search: SearchSection
    quantize: QuantizeSection
    package: PackageSection = Field(default_factory=PackageSection)
    register_model: RegisterSection = Field(default_factory=RegisterSection)
    # Studies (`make study`, not `make run`): optional so params files written before them still load.
    prompt_ablation: PromptAblationSection = Field(default_factory=PromptAblationSection)
    sweep: SweepSection = Field(default_factory=SweepSection)
    learning_curve: LearningCurveSection = Field(default_factory=LearningCurveSection)  # `make curve`
    synth: SynthSection

    @field_validator("eval_sets")
    @classmethod
    def _check_sets(cls, value: dict[str, str]) -> dict[str, str]:
        return validate_eval_sets(value)

    @field_validator("heldout_sets", mode="before")
    @classmethod
    def _check_heldout_sets(cls, value: object) -> dict[str, HeldoutSet]:
        return validate_heldout_sets(value)

    def evaluation_sets(self) -> list[str]:
        """Every set name a section may evaluate on: eval_sets and heldout_sets (data/eval/<name>.jsonl)."""
        return [*self.eval_sets, *self.heldout_sets]

    def _heldout_problems(self) -> list[tuple[tuple[str, ...], str]]:
        """A held-out set names a built mixture's slice, once, under a name no file set has; a search that
        validates or tests on one uses only adapters trained on that mixture (another mixture's training
        rows are not kept apart from its held-out questions)."""
        problems: list[tuple[tuple[str, ...], str]] = []
        seen: dict[tuple[str, str], str] = {}
        for name, entry in self.heldout_sets.items():
            key = ("heldout_sets", name)
            if name in self.eval_sets:
                problems.append((key, f"{name!r} is an eval_sets name too; a set name must be unique"))
            if entry.mixture not in self.build.mixtures:
                problems.append(((*key, "mixture"), str(UnknownNameError("build.mixtures entry", entry.mixture,
                                                                          self.build.mixtures))))
                continue
            slices = self.build.mixtures[entry.mixture].heldout
            if entry.slice not in slices:
                problems.append(((*key, "slice"), str(UnknownNameError(
                    f"held-out slice of build.mixtures.{entry.mixture}.heldout", entry.slice, slices))))
            if (other := seen.setdefault((entry.mixture, entry.slice), name)) != name:
                problems.append((key, f"the same questions as heldout_sets.{other} ({entry.mixture}/{entry.slice}); "
                                      "name another slice"))
        mixtures_of = {name: {adapter.mixture} for name, adapter in self.train.adapters.items()}
        mixtures_of.update({f"{name}-dpo": {self.train.adapters[name].mixture, adapter.mixture}
                            for name, adapter in self.dpo.adapters.items() if name in self.train.adapters})
        for field_name in ("validation_set", "test_set"):
            entry = self.heldout_sets.get(getattr(self.search, field_name) or "")
            if entry is None:
                continue
            for grid_name, grid in self.search.grids.items():
                for adapter in grid.adapters:
                    other = sorted(mixtures_of.get(adapter, set()) - {entry.mixture})
                    if other:
                        problems.append((("search", "grids", grid_name, "adapters", adapter),
                                         f"trains on mixture {', '.join(other)}, whose rows are not kept apart from "
                                         f"search.{field_name} ({getattr(self.search, field_name)}, held out of "
                                         f"mixture {entry.mixture}); search on adapters of mixture "
                                         f"{entry.mixture} only, or on another set"))
        return problems

    @model_validator(mode="after")
    def _sections_agree(self) -> Params:
        """Names one section gives to another's entries: a train adapter's mixture must be built, and a
        DPO run starts from the SFT adapter of the same name, so that adapter must be trained."""
        problems: list[tuple[tuple[str, ...], str]] = []
        for section in ("train", "dpo"):
            for name, adapter in getattr(self, section).adapters.items():
                if adapter.mixture not in self.build.mixtures:
                    problems.append(((section, "adapters", name, "mixture"),
                                     str(UnknownNameError("build.mixtures entry", adapter.mixture,
                                                          self.build.mixtures))))
        for name in self.dpo.adapters:
            if name not in self.train.adapters:
                problems.append((("dpo", "adapters", name), "DPO continues the SFT adapter of the same name: "
                                 + str(UnknownNameError("train.adapters entry", name, self.train.adapters))))
        # Merges read trained adapters: models/adapters/<name>/ of a train adapter, or <name>-dpo of a DPO one.
        trained = [*self.train.adapters, *(f"{name}-dpo" for name in self.dpo.adapters)]
        merges = [(("merge", "specs", spec), self.merge.specs[spec].adapters) for spec in self.merge.specs]
        merges += [(("search", "grids", grid), self.search.grids[grid].adapters) for grid in self.search.grids]
        for key, adapters in merges:
            problems += [((*key, "adapters", name), str(UnknownNameError("trained adapter", name, trained)))
                         for name in adapters if name not in trained]
        grid = self.quantize.eval_search_grid  # quantize.eval_set: search:<grid> scores on that search's test split
        if grid is not None and grid not in self.search.grids:
            problems.append((("quantize", "eval_set"), str(UnknownNameError("search.grids entry", grid,
                                                                           self.search.grids))))
        sets = self.evaluation_sets()
        for section in ("prompt_ablation", "sweep"):  # the studies evaluate on a declared set
            if (name := getattr(self, section).eval_set) not in sets:
                problems.append(((section, "eval_set"), str(UnknownNameError("eval_sets entry", name, sets))))
        for field_name in ("validation_set", "test_set"):  # the search reads data/eval/<set>.jsonl
            if (name := getattr(self.search, field_name)) is not None and name not in sets:
                problems.append((("search", field_name), str(UnknownNameError("eval_sets entry", name, sets))))
        for index, name in enumerate(self.learning_curve.sets or []):  # held-out sets too
            if name not in sets:
                problems.append((("learning_curve", "sets", index), str(UnknownNameError("eval_sets entry", name,
                                                                                          sets))))
        problems += self._heldout_problems()
        if (adapter := self.prompt_ablation.adapter) is not None and adapter not in trained:
            problems.append((("prompt_ablation", "adapter"), str(UnknownNameError("trained adapter", adapter, trained))))
        if problems:
            raise keyed_problems(problems)
        return self

    @model_validator(mode="after")
    def _check_base_model_fits(self) -> Params:
        """A group size or tensor-parallel degree the base model cannot take fails at the key that sets it."""
        shape = known_shape(self.base)
        if shape is None:  # a folder or hub id: stage base checks it once the config is on disk
            return self
        problems = base_model_misfits(shape, self.base.model, self.evaluate.tensor_parallel_size, self.quantize)
        if problems:
            raise keyed_problems(problems)
        return self


# Stage section name → its model: the fields of Params, so a new stage's section is one field there.
SECTIONS: dict[str, type[BaseModel]] = {
    name: field.annotation for name, field in Params.model_fields.items() if name not in ("eval_sets", "heldout_sets")}


def load_params(path: Path | str = PARAMS_FILE) -> Params:
    """Validate a whole params/profile file."""
    data, root = read_yaml(Path(path))
    return validate(Params, data, path, root)


def load_section(name: str, path: Path | str = PARAMS_FILE) -> Any:
    """One section of params.yaml by its name (what the flow and tests use; stages pass their model)."""
    if name not in SECTIONS:
        raise KeyError(f"unknown params section {name!r}; known: {', '.join(sorted(SECTIONS))}")
    return load_typed_section(SECTIONS[name], path, name=name)
