"""Prompt strategies: the registry, and ``PromptPlan``, the strategy of each task type.

A strategy decides three things about a question, and nothing else: its chat messages (also with the
gold answer, for training), its token limit, and how its final answer is read out of the completion.

=============  ========================================================================================
``plain``      a shopping-assistant system prompt that does not name the task type (the control)
``task-type``  the winner's system prompt naming the (classified) task type; the default, byte for
               byte the prompt every earlier report and adapter used (seed 003, Listing 1)
``k-shot``     ``task-type`` plus k solved questions of the same type as earlier chat turns, drawn
               from a named example set (``shoplm.shopbench.prompting.examples``)
``cot``        ``task-type`` plus an instruction to reason first and end with "Answer: ..."; needs
               more output tokens, and the text after the last "Answer:" is what gets parsed
=============  ========================================================================================

The wordings are data (``wordings.yaml``). Training and evaluation both render through a
``PromptPlan``, so a model is trained and tested on one prompt.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import yaml

from shoplm.registry import Registry
from shoplm.shopbench.answers import render_gold
from shoplm.shopbench.prompting.examples import ExampleSet
from shoplm.shopbench.prompts import Message, build_messages, normalize_input, system_prompt

if TYPE_CHECKING:
    from shoplm.params.generation import PromptSettings

WORDINGS_FILE = Path(__file__).with_name("wordings.yaml")
DEFAULT_STRATEGY = "task-type"


@cache
def wordings() -> dict[str, Any]:
    return yaml.safe_load(WORDINGS_FILE.read_text(encoding="utf-8"))


class PromptStrategy:
    """One way to prompt; the base class is the ``task-type`` behaviour the others refine."""

    name: ClassVar[str] = "?"

    def __init__(self, settings: PromptSettings, examples: ExampleSet | None = None) -> None:
        self.settings, self.examples = settings, examples

    def system(self, task_type: str) -> str:
        return system_prompt(task_type)

    def messages(self, input_field: str, task_type: str, answer: str | None = None) -> list[Message]:
        """System + user turn (+ the assistant's ``answer`` when training)."""
        return build_messages(input_field, task_type, answer, system=self.system(task_type))

    def max_new_tokens(self, task_type: str, limit: int) -> int:
        """The token limit for this strategy, given the task type's own ``limit``."""
        return limit

    def training_answer(self, gold: str) -> str:
        """The assistant turn a training example ends with, for the rendered gold answer."""
        return gold

    def final_answer(self, text: str) -> str:
        """The part of a completion the official parser should read."""
        return text


STRATEGIES: Registry[type[PromptStrategy]] = Registry("prompt strategy")


def register_strategy(name: str, doc: str):
    def decorate(cls: type[PromptStrategy]) -> type[PromptStrategy]:
        cls.name = name
        return STRATEGIES.register(name, doc=doc)(cls)
    return decorate


@register_strategy("plain", doc="shopping-assistant system prompt, task type not named (the control)")
class PlainStrategy(PromptStrategy):
    def system(self, task_type: str) -> str:
        return wordings()["plain_system"]


@register_strategy(DEFAULT_STRATEGY, doc="the winner's system prompt naming the task type (default)")
class TaskTypeStrategy(PromptStrategy):
    pass


@register_strategy("k-shot", doc="task-type prompt + k solved questions of the same type as earlier turns")
class KShotStrategy(PromptStrategy):
    def messages(self, input_field: str, task_type: str, answer: str | None = None) -> list[Message]:
        if self.examples is None:
            raise ValueError("the k-shot strategy needs an ExampleSet (PromptPlan.from_settings loads it)")
        turns: list[Message] = []
        for example in self.examples.draw(task_type, self.settings.k_shot.k, input_field):
            turns += [{"role": "user", "content": normalize_input(example.input_field)},
                      {"role": "assistant", "content": render_gold(example)}]
        system, *question = super().messages(input_field, task_type, answer)
        return [system, *turns, *question]


@register_strategy("cot", doc='task-type prompt + "think step by step, end with Answer: ..." (more tokens)')
class ChainOfThoughtStrategy(PromptStrategy):
    def messages(self, input_field: str, task_type: str, answer: str | None = None) -> list[Message]:
        instruction = wordings()["chain_of_thought"]["instruction"]
        messages = super().messages(input_field, task_type, answer)
        user = next(i for i, m in enumerate(messages) if m["role"] == "user")
        messages[user] = {**messages[user], "content": f"{messages[user]['content']}\n\n{instruction}"}
        return messages

    def max_new_tokens(self, task_type: str, limit: int) -> int:
        return max(limit, self.settings.chain_of_thought.max_new_tokens)

    def training_answer(self, gold: str) -> str:
        return f"{wordings()['chain_of_thought']['marker']} {gold}"

    def final_answer(self, text: str) -> str:
        """The text after the last "Answer:" ("... so the answer is 2.\\nAnswer: 2" → "2"); a completion
        without the marker (cut off by the token limit, or the model ignored the instruction) is left
        whole, and the parser decides."""
        matches = list(_marker_pattern().finditer(text))
        return text[matches[-1].end():].strip().lstrip("*").strip() if matches else text


@cache
def _marker_pattern() -> re.Pattern[str]:
    # "Answer:", "answer :", "**Answer:**" all count: small models decorate the marker freely.
    word = re.escape(wordings()["chain_of_thought"]["marker"].rstrip(": "))
    return re.compile(rf"\**{word}\**\s*:\**", re.IGNORECASE)


class PromptPlan:
    """Task type → strategy instance, built from ``PromptSettings``: what renders every prompt."""

    def __init__(self, settings: PromptSettings, examples: ExampleSet | None = None) -> None:
        self.settings = settings
        self.strategies = {task_type: STRATEGIES.get(name)(settings, examples)
                           for task_type, name in settings.strategy.items()}

    @classmethod
    def from_settings(cls, settings: PromptSettings | None = None, evaluated: Sequence[object] | None = None
                      ) -> PromptPlan:
        """Load the k-shot example set when a task type uses it; with ``evaluated`` (the questions about
        to be answered) an example set that shares any of them fails, naming the params key."""
        from shoplm.params.generation import PromptSettings

        settings = settings or PromptSettings()
        examples = None
        if "k-shot" in settings.strategy.values():
            examples = ExampleSet.load(settings.k_shot.examples, seed=settings.k_shot.seed)
            if evaluated is not None:
                examples.check_disjoint(evaluated)
        return cls(settings, examples)

    def __getitem__(self, task_type: str) -> PromptStrategy:
        return self.strategies[task_type]

    def final_answer(self, text: str, task_type: str) -> str:
        return self.strategies[task_type].final_answer(text)
