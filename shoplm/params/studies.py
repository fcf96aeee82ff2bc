"""Params sections of the studies (``make study``, not ``make run``): ``prompt_ablation`` and ``sweep``.

Both evaluate through ``evaluate.backend`` with ``evaluate.generation`` (``shoplm.study``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt, field_validator

from shoplm.params.base import TinyModelSpec
from shoplm.params.loader import StrictModel
from shoplm.shopbench.prompting.strategies import STRATEGIES


class PromptAblationSection(StrictModel):
    """Stage ``prompt_ablation``: every listed strategy on every task type, one model, one set."""

    section = "prompt_ablation"

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

    section = "sweep"

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
