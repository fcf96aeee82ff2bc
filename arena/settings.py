"""``arena/params.yaml``: one pydantic model per section, loaded with shoplm.params.loader's file:line errors.

The arena pipeline keeps its own params file (and DVC file) beside the ShopBench DAG, so the two
pipelines never invalidate each other. Paths in it are relative to the repository root, where the
arena stages run (``wdir: ..`` in arena/dvc.yaml).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from arena.classifier import ClassifierSettings
from arena.postprocess import CALIBRATORS
from arena.registry import ARENA_MODELS
from shoplm.errors import keyed_problems
from shoplm.params.loader import StrictModel, load_section

ARENA_PARAMS = Path("arena/params.yaml")


class DataSection(StrictModel):
    """The competition files and the validation split every model is scored on."""

    section = "data"

    train: str = Field(description="Train CSV (with model and winner columns).")
    test: str = Field(description="Test CSV (id, prompt, response_a, response_b).")
    folds: int = Field(3, ge=2, description="Grouped folds by prompt; one of them is the validation set.")
    valid_fold: int = Field(0, ge=0, description="Which fold validates; the others train.")
    seed: int = 0

    @model_validator(mode="after")
    def _fold_exists(self) -> DataSection:
        if self.valid_fold >= self.folds:
            raise ValueError(f"valid_fold {self.valid_fold} must be below folds {self.folds}")
        return self


class BaselinesSection(StrictModel):
    """Non-neural models by registry name (prior, bucket, gbdt), each with its constructor options."""

    section = "baselines"

    models: dict[ARENA_MODELS.validated(), dict[str, Any]] = Field(
        default_factory=lambda: {"prior": {}, "bucket": {}, "gbdt": {}})

    @model_validator(mode="after")
    def _options_fit(self) -> BaselinesSection:
        for name, options in self.models.items():
            try:
                ARENA_MODELS.get(name)(**options)
            except TypeError as exc:  # an option the model does not take; ctx loc: the line of its name
                raise keyed_problems([(("models", name), str(exc).split(".", 1)[-1])]) from None
        return self


class ClassifiersSection(StrictModel):
    """LoRA classifiers by a name of your choice (a DVC foreach item each)."""

    section = "classifiers"

    models: dict[str, ClassifierSettings]


class EnsembleSection(StrictModel):
    """How the trained models' validation predictions become the submission (arena/stacking.py)."""

    section = "ensemble"

    members: Literal["all"] | list[str] = Field(
        "all", description="Models to choose among and blend: `all` (every baseline and classifier the DAG "
                           "trained), or names of baselines.models and classifiers.models (a classifier's "
                           "swap-TTA predictions).")
    calibrations: list[CALIBRATORS.validated()] = Field(
        default_factory=lambda: ["temperature", "threshold"],
        description="Candidates; the one with the lowest cross-fitted validation log loss is kept, if any beats none.")
    calibration_folds: int = Field(5, ge=2, description="Grouped folds of the validation set for cross-fitting.")
    clip_eps: float = Field(1e-3, gt=0, lt=1 / 3, description="Every probability ends in [eps, 1 - eps].")
    bootstrap_resamples: int = Field(2000, ge=100, description="Resamples of the validation battles per interval.")
    bootstrap_seed: int = Field(0, description="Seed of the bootstrap draws (the same draws pair two models).")


SECTIONS: dict[str, type[BaseModel]] = {
    "data": DataSection, "baselines": BaselinesSection, "classifiers": ClassifiersSection,
    "ensemble": EnsembleSection,
}


def load_arena_section(name: str, path: Path | str = ARENA_PARAMS) -> Any:
    """One validated section of arena/params.yaml; a mistake raises ParamsError naming file:line and key."""
    if name not in SECTIONS:
        raise KeyError(f"unknown arena params section {name!r}; known: {', '.join(sorted(SECTIONS))}")
    return load_section(SECTIONS[name], path, name=name)
