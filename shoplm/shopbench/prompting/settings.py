"""``evaluate.generation.prompts``: which prompt strategy each task type uses, and the strategies' knobs.

Training renders its questions through the same settings (``shoplm.training.examples``), so a model
is evaluated with the prompt it was trained on.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, field_validator, model_validator

from shoplm.shopbench.prompting.strategies import DEFAULT_STRATEGY, STRATEGIES
from shoplm.shopbench.records import TASK_TYPES


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KShotSettings(_Strict):
    """The ``k-shot`` strategy: k solved questions of the same task type before the question."""

    k: PositiveInt = Field(2, description="Solved examples per prompt (fewer when the set has fewer of that type).")
    examples: str | None = Field(
        None, description="ShopBench JSONL the examples are drawn from (e.g. a built mixture's "
        "data/processed/v7/train.jsonl). Never the set being evaluated: that fails naming this key.")
    seed: NonNegativeInt = Field(0, description="Which examples a question gets is a function of this seed "
                                 "and the question's text: the same prompt every run.")


class ChainOfThoughtSettings(_Strict):
    """The ``cot`` strategy: reason first, then 'Answer: ...' on the last line."""

    max_new_tokens: PositiveInt = Field(
        256, description="Token limit for a chain-of-thought answer (replaces the task type's own limit, "
        "which is sized for the bare answer).")


class PromptSettings(_Strict):
    """Task type → prompt strategy, and the settings of the strategies that have any."""

    strategy: dict[TASK_TYPES.validated(), STRATEGIES.validated()] = Field(  # type: ignore[valid-type]
        default_factory=lambda: dict.fromkeys(TASK_TYPES.names(), DEFAULT_STRATEGY),
        description="Strategy per task type (task types left out use 'task-type', the winner's prompt). "
        "Known: " + ", ".join(f"{n} ({d})" for n, d in STRATEGIES.describe().items()))
    k_shot: KShotSettings = Field(default_factory=KShotSettings)
    chain_of_thought: ChainOfThoughtSettings = Field(default_factory=ChainOfThoughtSettings)

    @field_validator("strategy")
    @classmethod
    def _default_for_the_rest(cls, value: dict[str, str]) -> dict[str, str]:
        return {**dict.fromkeys(TASK_TYPES.names(), DEFAULT_STRATEGY), **value}

    @model_validator(mode="after")
    def _k_shot_needs_examples(self) -> PromptSettings:
        users = [t for t, s in self.strategy.items() if s == "k-shot"]
        if users and not self.k_shot.examples:
            raise ValueError(f"strategy k-shot (for {', '.join(users)}) needs k_shot.examples: a ShopBench "
                             "JSONL to draw the solved examples from")
        return self

    def uniform(self, strategy: str) -> PromptSettings:
        """These settings with every task type on one strategy (what the ablation compares)."""
        return self.model_copy(update={"strategy": dict.fromkeys(TASK_TYPES.names(), STRATEGIES.check(strategy))})
