"""Preference pairs for DPO from training questions: the gold answer against one that scores lower.

Seed 003 argued SFT suffices because most answers are exact; seed 000's best local models were DPO
models. The chosen answer is the gold text (``answers.render_gold``); the rejected one comes from a
source (``rejected.source``, registry :data:`.rejection_sources.REJECTION_SOURCES`):

* ``synthetic``: made by rules, either **wrong, in the right format** (``kind="wrong"``: another of
  the prompt's options, a retrieval list with a wrong item, a shuffled ranking, another question's
  entities or answer text) or **right, in a wrong format** (``kind="format"``: "Answer: 2", "2 5 1"
  without commas, entities in a sentence, a generation wrapped in chatter); ``bad_format_share``
  sets the mix;
* ``on_policy``: the SFT model's own sampled answers (:mod:`.on_policy`, ``kind="on_policy"``).

Every candidate is scored with the official parser and metric (:mod:`.answer_scores`) and kept only
when it scores **strictly lower** than the gold answer: a shuffled ranking that only swaps items of
equal ESCI gain has the same NDCG, and "[2, 5] are the best matches" parses as the gold list, so
training against them would push down a correct answer. Options are only ever the prompt's own
(a multiple-choice prompt without a numbered list gets no wrong-option pair). Everything is drawn
from one seeded RNG, so the pairs of a mixture are reproducible.
"""

from __future__ import annotations

import logging
import random
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shoplm.params.training import RejectedAnswers
from shoplm.shopbench.answers import render_gold
from shoplm.shopbench.prompts import build_messages, encode_chat
from shoplm.shopbench.records import Question
from shoplm.training.answer_scores import official_scores
from shoplm.training.rejection_sources import REJECTION_SOURCES

log = logging.getLogger(__name__)
#: Synthetic candidates drawn per wanted pair: most rule-made rejections score lower, some tie.
ATTEMPTS_PER_PAIR = 3
Candidate = tuple[str, str]  # (rejected text, kind)
#: ``generate(questions, samples) -> samples answers per question``: the model, for on-policy sources.
Generate = Callable[[Sequence[Question], int], list[list[str]]]
Scorer = Callable[[Sequence[Question], Sequence[str]], list[float | None]]

_NUMBERED = re.compile(r"^\s*(\d+)\s*[.)]", re.MULTILINE)
# "on a scale of 1 to 5" (the review-rating tasks): the options are the scale's integers
_SCALE = re.compile(r"\b(?:scale of|from|between)\s+(\d)\s+(?:to|and)\s+(\d)\b", re.IGNORECASE)

BAD_FORMATS: dict[str, tuple[str, ...]] = {
    "multiple-choice": ("Answer: {a}", "The answer is {a}.", "I think the correct option is {a}, because it fits best."),
    # the official parsers read "1 3 5" and "1\n3\n5" as nothing usable; the wordy ones parse but
    # waste tokens and teach the chatter that hurts elsewhere
    "retrieval": ("[{items}] are the best matches.", "{spaced}", "{lines}", "The selected products are {items}."),
    "ranking": ("[{items}] is the ranking by relevance.", "{spaced}", "{lines}", "The ranking is: {items}."),
    "named_entity_recognition": ("The entities are: {plain}.", "Answer: {a}", "Sure! Here they are: {plain}"),
    "generation": ("Sure! Here is the answer: {a}", "Answer: {a} Let me know if you need anything else.",
                   "As an AI shopping assistant, I would say: {a}"),
}


@dataclass(frozen=True)
class PreferencePair:
    question: Question
    chosen: str
    rejected: str
    kind: str  # "wrong" | "format" | "on_policy"

    def as_record(self) -> dict[str, list[dict[str, str]]]:
        """trl's conversational preference format; the prompt is the evaluation prompt."""
        return {
            "prompt": build_messages(self.question.input_field, self.question.task_type),
            "chosen": [{"role": "assistant", "content": self.chosen}],
            "rejected": [{"role": "assistant", "content": self.rejected}],
        }


def preference_ids(record: dict[str, list[dict[str, str]]], tokenizer: Any) -> dict[str, list[int]]:
    """One ``as_record`` pair as the token ids trl's ``DPOTrainer`` trains on (``prompt_ids``,
    ``chosen_ids``, ``rejected_ids``), split as trl splits them, but encoded by ``encode_chat``: special
    tokens from the chat template only, never from a question's or an answer's text (trl would tokenize
    the rendered chat with every ``<|im_end|>`` in it read as the special token)."""
    prompt = encode_chat(tokenizer, record["prompt"], add_generation_prompt=True)
    chosen = encode_chat(tokenizer, record["prompt"] + record["chosen"], add_generation_prompt=False)
    rejected = encode_chat(tokenizer, record["prompt"] + record["rejected"], add_generation_prompt=False)
    # Where the prompt and prompt+answer diverge (trl's common_prefix_length): the answer starts there.
    start = min(_common_prefix(prompt, chosen), _common_prefix(prompt, rejected))
    return {"prompt_ids": prompt[:start], "chosen_ids": chosen[start:], "rejected_ids": rejected[start:]}


def _common_prefix(ids: list[int], other: list[int]) -> int:
    return next((i for i, (a, b) in enumerate(zip(ids, other)) if a != b), min(len(ids), len(other)))


def numbered_labels(input_field: str) -> list[int]:
    """The numbers of the prompt's numbered list ("0. pillowcase", "3.fit"), in order, unique."""
    return list(dict.fromkeys(int(n) for n in _NUMBERED.findall(input_field)))


def choice_options(input_field: str) -> list[int]:
    """A multiple-choice prompt's options: its numbered list, else the integers of a stated scale."""
    labels = numbered_labels(input_field)
    if len(labels) >= 2:
        return labels
    if scale := _SCALE.search(input_field):
        low, high = int(scale.group(1)), int(scale.group(2))
        return list(range(low, high + 1)) if low < high else []
    return []


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+", text)


def wrong_answer(question: Question, gold: str, rng: random.Random, pool: Sequence[str]) -> str | None:
    """A different answer in the gold's format, or None when none can be made."""
    task = question.task_type
    labels = numbered_labels(question.input_field)
    if task == "multiple-choice":  # only options the prompt offers: "5" for a 4-option question is none
        choices = [n for n in choice_options(question.input_field) if str(n) != gold]
        return str(rng.choice(choices)) if choices else None
    if task == "retrieval":
        picked = _numbers(gold)
        others = [str(n) for n in labels if str(n) not in picked]
        if not picked or not others:
            return None
        picked[rng.randrange(len(picked))] = rng.choice(others)
        return ",".join(picked)
    if task == "ranking":
        order = _numbers(gold)
        if len(set(order)) < 2:
            return None
        shuffled = order[:]
        while shuffled == order:
            rng.shuffle(shuffled)
        return ",".join(shuffled)
    others = [text for text in pool if text != gold]
    return rng.choice(others) if others else None


def bad_format(question: Question, gold: str, rng: random.Random) -> str:
    """The gold content in a format the parsers or metrics punish."""
    numbers = _numbers(gold)
    output = question.output_field
    plain = ", ".join(output) if isinstance(output, list) and question.task_type == "named_entity_recognition" else gold
    templates = list(BAD_FORMATS[question.task_type])
    rng.shuffle(templates)
    for template in templates:  # the first that differs ("{spaced}" of a one-item list is the gold itself)
        text = template.format(a=gold, items=", ".join(numbers), spaced=" ".join(numbers),
                               lines="\n".join(numbers), plain=plain)
        if text != gold:
            return text
    return f"Answer: {gold}"


@dataclass(frozen=True)
class SourceContext:
    """What a rejection source may use besides the questions and their gold texts."""

    settings: RejectedAnswers
    rng: random.Random
    generate: Generate | None = None


@REJECTION_SOURCES.register("synthetic")
def synthetic_candidates(questions: Sequence[Question], golds: Sequence[str], context: SourceContext,
                         ) -> list[list[Candidate]]:
    """Made by rules: a wrong answer in the right format, or the gold answer in a punished format."""
    settings, rng = context.settings, context.rng
    pools: dict[tuple[str, str], list[str]] = defaultdict(list)  # same task → plausible wrong answers
    by_type: dict[str, list[str]] = defaultdict(list)
    for question, gold in zip(questions, golds):
        pools[(question.task_type, question.task_name)].append(gold)
        by_type[question.task_type].append(gold)
    candidates = []
    for question, gold in zip(questions, golds):
        pool = pools[(question.task_type, question.task_name)]
        pool = pool if len(set(pool)) > 1 else by_type[question.task_type]
        mine = []
        for _ in range(settings.pairs_per_question * ATTEMPTS_PER_PAIR):
            kind = "format" if rng.random() < settings.bad_format_share else "wrong"
            rejected = wrong_answer(question, gold, rng, pool) if kind == "wrong" else None
            if rejected is None:
                kind, rejected = "format", bad_format(question, gold, rng)
            mine.append((rejected, kind))
        candidates.append(mine)
    return candidates


@REJECTION_SOURCES.register("on_policy")
def on_policy_candidates(questions: Sequence[Question], golds: Sequence[str], context: SourceContext,
                         ) -> list[list[Candidate]]:
    """The SFT model's own sampled answers (``samples_per_question`` each, at ``temperature``)."""
    if context.generate is None:
        raise ValueError("rejected.source on_policy needs a model to sample from (train_dpo passes it)")
    answers = context.generate(questions, context.settings.samples_per_question)
    return [[(text, "on_policy") for text in texts] for texts in answers]


def build_pairs(questions: Sequence[Question], settings: RejectedAnswers, seed: int = 0,
                generate: Generate | None = None, scorer: Scorer = official_scores) -> list[PreferencePair]:
    """Up to ``pairs_per_question`` pairs per question, each rejection scoring below the gold answer."""
    rng = random.Random(seed)
    golds = [render_gold(q) for q in questions]
    source = REJECTION_SOURCES.get(settings.source)
    candidates = source(questions, golds, SourceContext(settings, rng, generate))
    flat = [(index, text, kind) for index, mine in enumerate(candidates) for text, kind in mine]
    gold_scores = scorer(questions, golds)
    scores = scorer([questions[i] for i, _, _ in flat], [text for _, text, _ in flat])
    pairs: list[PreferencePair] = []
    kept: dict[int, set[str]] = defaultdict(set)
    for (index, text, kind), value in zip(flat, scores, strict=True):
        best = gold_scores[index]
        if value is None or best is None or not value < best or text in kept[index]:
            continue
        if len(kept[index]) < settings.pairs_per_question:
            kept[index].add(text)
            pairs.append(PreferencePair(questions[index], golds[index], text, kind))
    log.info("preference pairs: %d of %d %s candidates score below gold", len(pairs), len(flat), settings.source)
    if settings.max_pairs is not None and len(pairs) > settings.max_pairs:
        pairs = rng.sample(pairs, settings.max_pairs)
    return pairs


def pair_stats(pairs: Sequence[PreferencePair]) -> dict[str, int]:
    stats = {"pairs": len(pairs)}
    for pair in pairs:
        stats[f"kind.{pair.kind}"] = stats.get(f"kind.{pair.kind}", 0) + 1
        stats[f"task_type.{pair.question.task_type}"] = stats.get(f"task_type.{pair.question.task_type}", 0) + 1
    return stats
