"""What the GPUs must answer: per track and task type, the questions and their prompt lengths in tokens.

Two sources:

- ``hidden_test_workload``: the competition's hidden test counts per track, shaped like the official
  development set (task-type shares and prompt lengths, ``shopbench.yaml``);
- ``eval_set_workload``: an evaluation set (ShopBench JSONL) as it is, or ``scaled_to_hidden`` to the
  competition's counts.

Prompt tokens are counted with the model's tokenizer on the rendered chat prompt where one is at hand
(``PromptTokens(tokenizer=...)``), else estimated from characters (``chars_per_token`` in
``shopbench.yaml``) plus the system prompt and chat-template markers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from shoplm.shopbench.records import TRACK_SHORT_NAMES, TRACKS

SHOPBENCH_FILE = Path(__file__).with_name("shopbench.yaml")
#: ChatML around a system and a user turn and the assistant header: 3 × "<|im_start|>role\n", 2 ×
#: "<|im_end|>\n", about 13 tokens with Qwen2's or SmolLM2's tokenizer.
CHATML_TOKENS = 13


def shopbench_data() -> dict[str, Any]:
    return yaml.safe_load(SHOPBENCH_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class TypeLoad:
    """The questions of one task type in one track."""

    task_type: str
    questions: int
    mean_prompt_tokens: float
    max_prompt_tokens: float


@dataclass(frozen=True)
class TrackLoad:
    track: str
    loads: tuple[TypeLoad, ...]
    limit_s: float

    @property
    def name(self) -> str:
        return TRACK_SHORT_NAMES.get(self.track, self.track)

    @property
    def questions(self) -> int:
        return sum(load.questions for load in self.loads)


@dataclass(frozen=True)
class Workload:
    tracks: tuple[TrackLoad, ...]
    source: str  # what the counts and shapes are, for the report
    tokens: str  # how prompt tokens were obtained

    @property
    def all_around_limit_s(self) -> float:
        return shopbench_data()["all_around"]["limit_minutes"] * 60.0


class PromptTokens:
    """Tokens of a question's whole prompt: system prompt + question + chat markers.

    ``system`` gives the system prompt (or the text put before the question) for a task type. With a
    ``tokenizer`` and ``render`` (question, task type → the prompt text the model sees), prompts are
    counted exactly; otherwise estimated at ``chars_per_token``.
    """

    def __init__(self, system: Callable[[str], str], template_tokens: int = CHATML_TOKENS,
                 chars_per_token: float | None = None, tokenizer: Any = None,
                 render: Callable[[str, str], str] | None = None, tokenizer_name: str = "") -> None:
        self.system = system
        self.template_tokens = template_tokens
        self.chars_per_token = chars_per_token or float(shopbench_data()["chars_per_token"])
        self.tokenizer, self.render, self.tokenizer_name = tokenizer, render, tokenizer_name

    def estimate(self, chars: float, task_type: str) -> float:
        return (chars + len(self.system(task_type))) / self.chars_per_token + self.template_tokens

    def count(self, input_field: str, task_type: str) -> float:
        if self.tokenizer is None or self.render is None:
            return math.ceil(self.estimate(len(input_field), task_type))
        text = self.render(input_field, task_type)
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def describe(self) -> str:
        if self.tokenizer is not None and self.render is not None:
            return f"counted with the {self.tokenizer_name or 'model'} tokenizer on the rendered chat prompt"
        return f"estimated at {self.chars_per_token:g} characters per token"


def competition_limits_s() -> dict[str, float]:
    return {track: entry["limit_minutes"] * 60.0 for track, entry in shopbench_data()["tracks"].items()}


def hidden_test_workload(prompt: PromptTokens) -> Workload:
    """The competition's hidden test counts, with each track's task types and prompt lengths shaped
    like its development questions (shares rounded to whole questions, summing to the track's count)."""
    tracks = []
    for track, entry in shopbench_data()["tracks"].items():
        shape = entry["development"]
        counts = _apportion(entry["questions"], {task: figures["questions"] for task, figures in shape.items()})
        loads = tuple(
            TypeLoad(task, counts[task], prompt.estimate(figures["mean_chars"], task),
                     prompt.estimate(figures["max_chars"], task))
            for task, figures in shape.items())
        tracks.append(TrackLoad(track, loads, entry["limit_minutes"] * 60.0))
    return Workload(tuple(tracks), source="competition hidden test counts (seed 003), task types and prompt "
                    "lengths shaped like the development set",
                    tokens=f"estimated at {prompt.chars_per_token:g} characters per token (no question texts)")


def eval_set_workload(questions: Iterable[Any], prompt: PromptTokens, source: str,
                      progress: bool = False) -> Workload:
    """An evaluation set as it is: its tracks, task types (gold) and prompts."""
    from tqdm import tqdm

    tokens: dict[tuple[str, str], list[float]] = defaultdict(list)
    for question in tqdm(list(questions), desc="count prompt tokens", unit="question", disable=not progress):
        tokens[(question.track, question.task_type)].append(prompt.count(question.input_field, question.task_type))
    limits = competition_limits_s()
    tracks = []
    for track in TRACKS:
        loads = tuple(TypeLoad(task, len(values), sum(values) / len(values), max(values))
                      for (t, task), values in sorted(tokens.items()) if t == track)
        if loads:
            tracks.append(TrackLoad(track, loads, limits[track]))
    return Workload(tuple(tracks), source=source, tokens=prompt.describe())


def scaled_to_hidden(workload: Workload) -> Workload:
    """The same task-type shares and prompt lengths, at the competition's hidden test counts."""
    hidden = {track: entry["questions"] for track, entry in shopbench_data()["tracks"].items()}
    tracks = []
    for track in workload.tracks:
        counts = _apportion(hidden[track.track], {load.task_type: load.questions for load in track.loads})
        tracks.append(replace(track, loads=tuple(replace(load, questions=counts[load.task_type])
                                                 for load in track.loads)))
    return replace(workload, tracks=tuple(tracks), source=workload.source + ", scaled to the hidden test counts")


def _apportion(total: int, weights: dict[str, int]) -> dict[str, int]:
    """``total`` split in proportion to ``weights`` in whole numbers (largest remainders)."""
    weight_sum = sum(weights.values())
    exact = {key: total * weight / weight_sum for key, weight in weights.items()}
    counts = {key: math.floor(value) for key, value in exact.items()}
    for key in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[: total - sum(counts.values())]:
        counts[key] += 1
    return counts
