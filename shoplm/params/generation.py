"""``evaluate.generation``: token limits per task type, post-processing, and the prompt strategy per task type.

The limits follow the winning system (``shopbench-eval-spec.md``, "How the winning system formatted its
answers"), widened a little; ``shoplm.inference.generation`` says why each is what it is. Training renders
its questions through the same prompt settings (``shoplm.training.examples``), so a model is evaluated
with the prompt it was trained on.
"""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveInt, field_validator, model_validator

from shoplm.params.loader import StrictModel
from shoplm.shopbench.prompting.strategies import DEFAULT_STRATEGY, STRATEGIES
from shoplm.shopbench.records import TASK_TYPES


class KShotSettings(StrictModel):
    """The ``k-shot`` strategy: k solved questions of the same task type before the question."""

    k: PositiveInt = Field(2, description="Solved examples per prompt (fewer when the set has fewer of that type).")
    examples: str | None = Field(
        None, description="ShopBench JSONL the examples are drawn from (e.g. a built mixture's "
        "data/processed/v7/train.jsonl). Never the set being evaluated: that fails naming this key.")
    seed: NonNegativeInt = Field(0, description="Which examples a question gets is a function of this seed "
                                 "and the question's text: the same prompt every run.")


class ChainOfThoughtSettings(StrictModel):
    """The ``cot`` strategy: reason first, then 'Answer: ...' on the last line."""

    max_new_tokens: PositiveInt = Field(
        256, description="Token limit for a chain-of-thought answer (replaces the task type's own limit, "
        "which is sized for the bare answer).")


class PromptSettings(StrictModel):
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


DEFAULT_MAX_NEW_TOKENS: dict[str, int] = {
    "multiple-choice": 2,
    "ranking": 12,
    "retrieval": 10,
    "named_entity_recognition": 32,
    "generation": 50,
}


class GenerationSettings(StrictModel):
    """How zero-shot evaluation generates (the ``evaluate`` stage's generation section)."""

    batch_size: PositiveInt = Field(16, description="Prompts per generate call (the winner used 16).")
    max_new_tokens: dict[TASK_TYPES.validated(), PositiveInt] = Field(  # type: ignore[valid-type]
        default_factory=lambda: dict(DEFAULT_MAX_NEW_TOKENS),
        description="Token limit per task type; task types left out keep their defaults.",
    )
    max_input_tokens: PositiveInt = Field(
        3072,
        description="Longest rendered prompt in tokens (the winner's max model length). Longer user "
        "turns are cut from the middle, keeping the instruction at the start and the candidates and "
        "'Output:' cue at the end (see shoplm.shopbench.prompts.truncate_messages).",
    )
    postprocess: bool = Field(True, description="Apply postprocess_prediction to the raw model text.")
    generation_max_words: PositiveInt = Field(
        15, description="trim_generation keeps whole sentences until the text passes this many words."
    )
    prompts: PromptSettings = Field(
        default_factory=PromptSettings,
        description="Prompt strategy per task type (plain, task-type, k-shot, cot; see shoplm.shopbench.prompting); "
        "the default, task-type, is the winner's system prompt.",
    )

    @field_validator("max_new_tokens")
    @classmethod
    def _defaults_for_the_rest(cls, value: dict[str, int]) -> dict[str, int]:
        return {**DEFAULT_MAX_NEW_TOKENS, **value}  # keys are task types (checked by the field's type)

    def limit_for(self, task_type: str) -> int:
        """``max_new_tokens`` for one task type."""
        return self.max_new_tokens[task_type]
