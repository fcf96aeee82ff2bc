"""Params sections ``package`` (which model goes into which track's submission, and how it is checked) and
``register_model`` (the MLflow model registry)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from pydantic import Field, PositiveFloat, field_validator

from shoplm.params.loader import StrictModel
from shoplm.submission.tracks import SUBMISSION_TRACKS

# The evaluator's contract: get_batch_size() returns an int from 1 to 16.
MAX_BATCH_SIZE = 16


class TrackPackage(StrictModel):
    """One track's package: the model folder it ships and the questions that check it."""

    model: str = Field(description="The model folder to ship: models/base (zero-shot), models/adapters/<name> "
                       "(the base plus that adapter), models/merged/<name> or models/quantized/<name>.")
    eval_set: str = Field("sample", description="A key of eval_sets: the harness answers data/eval/<set>.jsonl "
                          "with the package and must match the evaluate stage's predictions on it.")
    description: str | None = Field(None, description="aicrowd.json's description (default: the model folder).")

    @field_validator("model")
    @classmethod
    def _under_models(cls, value: str) -> str:
        path = PurePosixPath(value)
        if path.is_absolute() or path.parts[:1] != ("models",) or ".." in path.parts:
            raise ValueError(f"{value!r}: name a folder under models/ (e.g. models/quantized/search-ensemble)")
        return str(path)


class PackageSection(StrictModel):
    """Stage ``package@<track>``: dist/submission-<track>/, a KDD Cup 2024 submission repository."""

    section = "package"

    tracks: dict[SUBMISSION_TRACKS.validated(), TrackPackage] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="Track (track1 … track5) → its package. The winners shipped one "
        "merge for tracks 1, 3 and 5 and another for tracks 2 and 4.")
    batch_size: int = Field(16, ge=1, le=MAX_BATCH_SIZE, description="What UserModel.get_batch_size() "
                            "returns: prompts the evaluator hands over per call (the winner used 16).")
    check_batch_sizes: list[int] = Field([1, 7, 16], min_length=1, description="Batch sizes the harness "
                                         "cycles through, each group of one task type sliced in turn.")
    seconds_per_sample: PositiveFloat = Field(10.0, description="The evaluator's limit: a batch of n prompts "
                                              "may take n times this.")
    authors: list[str] = Field(default_factory=list, description="AIcrowd user names for aicrowd.json.")
    pins: dict[str, str] = Field(default_factory=dict, description="Distribution → version for requirements.txt "
                                 "where the evaluation machine needs another build than this one (vllm: the "
                                 "CUDA build); others are pinned to the version installed here.")

    @field_validator("check_batch_sizes")
    @classmethod
    def _sizes_in_contract(cls, value: list[int]) -> list[int]:
        wrong = [size for size in value if not 1 <= size <= MAX_BATCH_SIZE]
        if wrong:
            raise ValueError(f"batch sizes must be 1 to {MAX_BATCH_SIZE} (the evaluator's range), got {wrong}")
        return value


class RegisterSection(StrictModel):
    """Stage ``register_model``: the quantized model of ``quantize.model`` into the MLflow model registry."""

    section = "register_model"

    name: str = Field("shoplm", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
                      description="Registered model name; fetch it as models:/NAME@ALIAS.")
    aliases: list[str] = Field(default_factory=lambda: ["candidate"],
                               description="Aliases moved to every new version (MLflow reserves 'latest').")
    champion: str | None = Field("champion", description="Alias moved only when the new version scores at "
                                 "least the current holder's `metric` (null: no such alias).")
    metric: str = Field("after/track5", description="The score the champion alias compares: a key of "
                        "reports/quantize/<model>/metrics.json with the method's prefix dropped.")

    @field_validator("aliases", "champion")
    @classmethod
    def _aliases_mlflow_takes(cls, value: list[str] | str | None) -> list[str] | str | None:
        for alias in [value] if isinstance(value, str) else value or []:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", alias) or re.fullmatch(r"latest|v\d+", alias, re.I):
                raise ValueError(f"alias {alias!r}: a letter or '_' first, then letters, digits, '_' or '-'; "
                                 "not 'latest' or v<number> (MLflow reserves them for versions)")
        return value
