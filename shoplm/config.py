"""Pydantic models for every params.yaml section, and loading with errors that name file, line and key.

Each DVC stage reads only its own section (``load_section("evaluate")``). Every model forbids unknown
keys, so a typo such as ``batch_sise`` fails at once, naming the key and its line, instead of being
silently ignored. Profiles (``params.yaml`` = tiny, ``profiles/*.yaml`` = real set-ups) share one schema
and differ only in values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, field_validator, model_validator

from shoplm.builders.settings import BuildSettings, IngestSettings
from shoplm.errors import KEYED_PROBLEMS, UserError, keyed_problems
from shoplm.inference.backends import BACKENDS
from shoplm.inference.budget import BudgetSettings
from shoplm.inference.constraints import ConstraintSettings
from shoplm.inference.generation import GenerationSettings
from shoplm.inference.vllm_settings import VLLMSettings
from shoplm.merging.settings import MergeSection, SearchSection
from shoplm.modeling import TinyModelSpec
from shoplm.modeling.fit import ModelShape, group_size_problems, tensor_parallel_problems
from shoplm.quantization.settings import QuantizeSection
from shoplm.registry import UnknownNameError
from shoplm.submission.settings import PackageSection
from shoplm.shopbench.prompting.strategies import STRATEGIES
from shoplm.synthesis.settings import SynthSection
from shoplm.training.settings import DPOSection, TrainSection

PARAMS_FILE = Path("params.yaml")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BaseSection(StrictModel):
    """Stage ``base``: the model every later stage starts from."""

    model: str = Field("tiny", description='"tiny" builds the local test model; a packaged GGUF name '
                       '(smollm2-135m-instruct) or a local .gguf file is converted; else a local folder or hub id.')
    dtype: Literal["float32", "bfloat16", "float16"] = Field(
        "float32", description="Weight dtype a GGUF conversion writes (the tiny model has tiny.dtype; a "
        "folder or hub id is used as it is).")
    allow_download: bool = Field(False, description="Let a hub id download; off by default (offline runs).")
    tiny: TinyModelSpec = Field(default_factory=TinyModelSpec, description="Spec of the locally built model.")

    def known_shape(self) -> ModelShape | None:
        """The model's dimensions when known before stage base runs (tiny, a packaged GGUF), else None."""
        from shoplm.modeling.gguf import PACKAGED_GGUF

        if self.model == "tiny":
            spec = self.tiny
            return ModelShape(hidden_size=spec.hidden_size, intermediate_size=spec.intermediate_size,
                              num_heads=spec.num_heads, num_kv_heads=spec.num_kv_heads, head_dim=spec.head_dim)
        return PACKAGED_GGUF.get(self.model).shape if self.model in PACKAGED_GGUF else None


class FinalEvaluation(StrictModel):
    """Stage ``evaluate_final``: the model the pipeline ends with, scored the way it would be served."""

    set: str = Field("sample", description="Evaluation set (data/eval/<set>.jsonl).")
    model: str = Field("quantized/search-ensemble", description="A model folder under models/, e.g. the quantize "
                       "stage's quantized/<quantize.model> or merged/<spec>.")
    backend: BACKENDS.validated() = Field(  # type: ignore[valid-type]
        "transformers", description="Backend of this evaluation alone (vllm serves compressed-tensors models).")

    @field_validator("model")
    @classmethod
    def _under_models(cls, value: str) -> str:
        parts = Path(value).parts
        if not parts or Path(value).is_absolute() or ".." in parts:
            raise ValueError(f"{value!r}: give a folder under models/, such as 'quantized/search-ensemble'")
        return value


class EvaluateSection(StrictModel):
    """Stage ``evaluate``: batched generation on each evaluation set, then the official scorer."""

    backend: BACKENDS.validated() = Field(  # type: ignore[valid-type]
        "transformers", description="A backend registered in shoplm.inference.BACKENDS; an unknown name "
        "fails when params load, listing the registered ones.")
    dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32"
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs per model (vLLM backend).")
    limit: int | None = Field(None, ge=1, description="Evaluate only the first N questions of each set.")
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    vllm: VLLMSettings = Field(default_factory=VLLMSettings, description="Engine settings of backend vllm.")
    budget: BudgetSettings = Field(default_factory=BudgetSettings, description="Per-track time limits.")
    final: FinalEvaluation = Field(default_factory=FinalEvaluation,
                                   description="Stage evaluate_final: the pipeline's final model.")
    constraints: ConstraintSettings = Field(default_factory=ConstraintSettings)


class RegisterSection(StrictModel):
    """Stage ``register_model``: the quantized model of ``quantize.model`` into the MLflow model registry."""

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


# ---------------------------------------------------------------- studies (`make study`, not `make run`)
# Stages prompt_ablation and sweep (shoplm.study); both evaluate through evaluate.backend with
# evaluate.generation.


class PromptAblationSection(StrictModel):
    """Stage ``prompt_ablation``: every listed strategy on every task type, one model, one set."""

    eval_set: str = Field("sample", description="An eval_sets name (read from data/eval/<name>.jsonl).")
    strategies: list[STRATEGIES.validated()] = Field(  # type: ignore[valid-type]
        default_factory=lambda: STRATEGIES.names(), min_length=1,
        description="Strategies to compare, each applied to every task type. k-shot draws from "
        "evaluate.generation.prompts.k_shot; cot's token limit is evaluate.generation.prompts.chain_of_thought.")
    adapter: str | None = Field(None, description="A trained adapter (models/adapters/<name>) on the base "
                                "model; null: the base model zero-shot.")
    limit: PositiveInt | None = Field(None, description="Only the first N questions (keeps the study short).")

    @field_validator("strategies")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a strategy is listed twice")
        return value


class SweepModel(StrictModel):
    """One base model of the sweep, and its published benchmark scores (optional)."""

    model: str = Field(description='"tiny" (built from `tiny`), a packaged GGUF name (smollm2-135m-instruct), '
                       "a local .gguf file, or a local model folder.")
    tiny: TinyModelSpec = Field(default_factory=TinyModelSpec, description="The spec when model is tiny.")
    benchmarks: dict[str, float] = Field(
        default_factory=dict, description="Public benchmark scores (e.g. MMLU: 30.2) from the model's card "
        "or a leaderboard; each benchmark given for several models is correlated with the ShopBench score.")


class SweepSection(StrictModel):
    """Stage ``sweep``: N base models zero-shot on one set, through one backend."""

    eval_set: str = Field("sample", description="An eval_sets name (read from data/eval/<name>.jsonl).")
    limit: PositiveInt | None = Field(None, description="Only the first N questions.")
    models: dict[str, SweepModel] = Field(default_factory=dict, description="Name → model; each is built "
                                          "into models/sweep/<name>/ once and evaluated on its own.")
    score: Literal["track5", "mean_over_tasks"] = Field("track5", description="The ShopBench number compared.")
    min_n: PositiveInt = Field(5, description="Correlations over fewer models than this carry a warning "
                               "that they mean nothing.")

    @field_validator("models")
    @classmethod
    def _names(cls, value: dict[str, SweepModel]) -> dict[str, SweepModel]:
        for name in value:
            if not str(name).replace("-", "").replace("_", "").replace(".", "").isalnum():
                raise ValueError(f"model name {name!r}: use letters, digits, '-', '_' and '.' only")
        return value


def validate_eval_sets(value: Any) -> dict[str, str]:
    """``eval_sets``: name → ShopBench JSONL path. Reports land in ``reports/<name>/``."""
    if not isinstance(value, dict) or not value:
        raise ValueError("must map at least one set name to a ShopBench JSONL path")
    for name, path in value.items():
        if not str(name).replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"set name {name!r}: use letters, digits, '-' and '_' only")
        if not isinstance(path, str) or not path:
            raise ValueError(f"set {name!r}: path must be a non-empty string")
    return value


class Params(StrictModel):
    """The whole params file: every profile must validate against it."""

    eval_sets: dict[str, str]
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
    synth: SynthSection

    @field_validator("eval_sets")
    @classmethod
    def _check_sets(cls, value: dict[str, str]) -> dict[str, str]:
        return validate_eval_sets(value)

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
        for section in ("prompt_ablation", "sweep"):  # the studies evaluate on a declared set
            if (name := getattr(self, section).eval_set) not in self.eval_sets:
                problems.append(((section, "eval_set"), str(UnknownNameError("eval_sets entry", name, self.eval_sets))))
        if (adapter := self.prompt_ablation.adapter) is not None and adapter not in trained:
            problems.append((("prompt_ablation", "adapter"), str(UnknownNameError("trained adapter", adapter, trained))))
        if problems:
            raise keyed_problems(problems)
        return self

    @model_validator(mode="after")
    def _check_base_model_fits(self) -> Params:
        """A group size or tensor-parallel degree the base model cannot take fails at the key that sets it."""
        shape = self.base.known_shape()
        if shape is None:  # a folder or hub id: stage base checks it once the config is on disk
            return self
        problems = base_model_misfits(shape, self.base.model, self.evaluate, self.quantize)
        if problems:
            raise keyed_problems(problems)
        return self


def base_model_misfits(shape: ModelShape, model: str, evaluate: EvaluateSection, quantize: QuantizeSection
                       ) -> list[tuple[tuple[str, str], str]]:
    """(params key, why) for each setting the base model cannot take: the tensor-parallel degrees of
    serving and of the quantized model, and the group size on the quantized model's shards. The MLP
    width is padded as stage quantize pads it (``pad_intermediate_to``, else the next multiple of
    group size x tensor parallel), so only widths that padding cannot change can fail."""
    from shoplm.quantization.padding import padded_size

    problems = [(("evaluate", "tensor_parallel_size"), m)
                for m in tensor_parallel_problems(shape, evaluate.tensor_parallel_size, model)]
    problems += [(("quantize", "tensor_parallel_size"), m)
                 for m in tensor_parallel_problems(shape, quantize.tensor_parallel_size, model)]
    padded = quantize.pad_intermediate_to or padded_size(shape.intermediate_size, quantize.pad_multiple)
    problems += [(("quantize", "group_size"), m) for m in group_size_problems(
        shape, quantize.group_size, quantize.tensor_parallel_size, padded, model)]
    return problems


# Stage section name → its model: the fields of Params, so a new stage's section is one field there.
SECTIONS: dict[str, type[BaseModel]] = {
    name: field.annotation for name, field in Params.model_fields.items() if name != "eval_sets"}


class ParamsError(UserError, ValueError):
    """A params file failed validation; the message names the file, line and key of each problem."""


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(key)), None)
            key_node = next((k for k, _ in node.value if k.value == str(key)), None)
            if match is None:
                return line
            line, node = key_node.start_mark.line + 1, match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    if not path.exists():
        raise ParamsError(f"{path}: params file not found")
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text), yaml.compose(text)
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from exc


def located_errors(err: Any, prefix: tuple = ()) -> list[tuple[tuple, str]]:
    """(key path, reason) of one pydantic error; a cross-section error carries its own key paths."""
    if err["type"] == KEYED_PROBLEMS:  # paths below the model whose validator found them
        return [(prefix + tuple(err["loc"]) + tuple(loc), message) for loc, message in err["ctx"]["problems"]]
    # A dict key that fails its own check (an unknown task type in max_new_tokens) ends in "[key]".
    loc = prefix + tuple(part for part in err["loc"] if part != "[key]")
    if err["type"] == "extra_forbidden":
        return [(loc, "unknown key")]
    return [(loc, err["msg"].removeprefix("Value error, "))]  # our validators' messages stand alone


def _format_errors(path: Path, exc: ValidationError, root: yaml.Node | None, prefix: tuple = ()) -> str:
    lines = []
    for err in exc.errors():
        for loc, reason in located_errors(err, prefix):
            key = ".".join(str(part) for part in loc) or "<root>"
            line = _line_of(root, loc)
            where = f"{path}:{line}" if line else str(path)
            lines.append(f"{where}: {key}: {reason}")
    return "\n".join(lines)


def load_params(path: Path | str = PARAMS_FILE) -> Params:
    """Validate a whole params/profile file."""
    path = Path(path)
    data, root = _read_yaml(path)
    try:
        return Params.model_validate(data or {})
    except ValidationError as exc:
        raise ParamsError(_format_errors(path, exc, root)) from None


def load_section(name: str, path: Path | str = PARAMS_FILE,
                 sections: Mapping[str, type[BaseModel]] | None = None) -> BaseModel:
    """Validate and return one stage's section (what a ``tasks/<stage>.py`` reads).

    ``sections``: the section models of another params file (arena/params.yaml); default: params.yaml's.
    """
    sections = SECTIONS if sections is None else sections
    if name not in sections:
        raise KeyError(f"unknown params section {name!r}; known: {', '.join(sorted(sections))}")
    path = Path(path)
    data, root = _read_yaml(path)
    if not isinstance(data, dict) or name not in data:
        raise ParamsError(f"{path}: section {name!r} is missing")
    try:
        return sections[name].model_validate(data[name] or {})
    except ValidationError as exc:
        raise ParamsError(_format_errors(path, exc, root, prefix=(name,))) from None


def load_eval_sets(path: Path | str = PARAMS_FILE) -> dict[str, str]:
    path = Path(path)
    data, _ = _read_yaml(path)
    try:
        return validate_eval_sets((data or {}).get("eval_sets"))
    except ValueError as exc:
        raise ParamsError(f"{path}: eval_sets: {exc}") from None
