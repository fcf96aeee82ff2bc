"""Constrained decoding per task type: what each request may write (params ``evaluate.constraints``).

The winning system (``shopbench-eval-spec.md``, "How the winning system formatted its answers")
constrained every answer it could. ``plan_constraints`` decides one request's constraints for every
backend; in vLLM each is one of its own per-request sampling parameters or one small logits processor
of ours (below), in transformers one ``LogitsProcessor`` applies the same plan
(``shoplm.inference.hf_logits_processors``):

* ``structured`` (multiple-choice, ranking, retrieval): the answer is forced into the exact shape the
  official parser accepts, read from the prompt (``shoplm.inference.answer_shapes``), through
  ``SamplingParams(structured_outputs=StructuredOutputsParams(choice=... | regex=...))`` (xgrammar).
* ``suppress_none``: "None"/"none" (``constraints.yaml``), with and without a leading space, banned
  from free-text answers as token sequences through ``SamplingParams(extra_args=...)`` and
  ``shoplm.inference.logits_processors`` (vLLM's own ``bad_words`` misses a spaced form whose token
  count differs from the bare word's; see that module).
* ``prompt_boost``: for named-entity recognition and keyphrase extraction, a logit bias on the tokens
  of the question's own text (``SamplingParams(logit_bias=...)``), so the answer copies spans.

Settings are per *answer kind*: a task type, except that generation questions asking for a keyphrase
from a review (the classifier's ``keyphrase_generation`` rule; ROUGE-L scored) are their own kind,
``keyphrase``, because they extract like NER while other generation questions compose.

The vLLM backend builds its engine with ``shoplm.inference.logits_processors.LOGITS_PROCESSORS``, takes
``sampling_overrides_for(settings, tokenizer)`` and adds what it returns to each request's
``SamplingParams``; ``ConstraintPlan`` is the same decision without vLLM: the transformers backend
decodes from it, and tests and logs read it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from shoplm.inference.answer_shapes import AnswerShape, answer_shape
from shoplm.inference.backends import GenerationRequest
from shoplm.params.serving import ANSWER_KINDS, ConstraintSettings
from shoplm.shopbench.tasktype import classify_task_type_with_rule

WORDING_FILE = Path(__file__).with_name("constraints.yaml")
KEYPHRASE_RULE = "keyphrase_generation"  # shoplm.shopbench.tasktype's rule for "extract the keyphrase"

#: What vLLM's structured outputs / sampling take for one request (empty: unconstrained).
SamplingOverrides = Callable[[GenerationRequest], dict[str, Any]]
#: ``SamplingParams.extra_args`` key read by ``logits_processors.BannedSequencesLogitsProcessor``.
BANNED_SEQUENCES = "shoplm_banned_sequences"


class ConstraintWording(BaseModel):
    """``constraints.yaml``: the words and prompt labels the constraints read (see that file)."""

    model_config = ConfigDict(extra="forbid")

    suppressed_words: list[str]
    source_labels: list[str]
    answer_cues: list[str]
    boost_also: list[str] = []


@functools.cache
def load_wording(path: Path = WORDING_FILE) -> ConstraintWording:
    return ConstraintWording.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def answer_kind(request: GenerationRequest) -> str:
    """The request's answer kind: its task type, or ``keyphrase`` for a keyphrase-extraction question."""
    if request.task_type != "generation":
        return request.task_type
    rule = request.metadata.get("rule")
    if rule in (None, "gold"):  # built without the classifier: ask it which rule the prompt meets
        rule = classify_task_type_with_rule(request.user_content, False)[1]
    return "keyphrase" if rule == KEYPHRASE_RULE else "generation"


def boost_source(text: str, wording: ConstraintWording) -> str:
    """The part of a question an extraction answer copies from (see ``source_labels`` in the YAML)."""
    starts = [(pos, label) for label in wording.source_labels if (pos := text.find(label)) >= 0]
    if starts:
        pos, label = min(starts)
        text = text[pos + len(label):]
    ends = [pos for cue in wording.answer_cues if (pos := text.rfind(cue)) >= 0]
    return text[: max(ends)] if ends else text


def prompt_token_ids(tokenizer: Any, text: str, wording: ConstraintWording) -> set[int]:
    """Token ids an extraction answer would use: the source text as it is tokenized in the prompt,
    plus each word alone and after a space (an answer's first word has no space before it, unlike the
    same word mid-prompt), the separators of ``boost_also`` and the end-of-turn tokens."""
    source = boost_source(text, wording)
    words = source.split()
    pieces = [source, *words, *(" " + word for word in words), *wording.boost_also]
    ids = {i for encoded in tokenizer(pieces, add_special_tokens=False)["input_ids"] for i in encoded}
    return ids | end_of_turn_ids(tokenizer)


def end_of_turn_ids(tokenizer: Any) -> set[int]:
    """The tokenizer's eos and ChatML's end-of-turn marker, where the vocabulary has it."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    vocab = tokenizer.get_vocab()
    return ids | ({vocab["<|im_end|>"]} if "<|im_end|>" in vocab else set())


@dataclass(frozen=True)
class ConstraintPlan:
    """The constraints of one request, without vLLM objects (tests, logs, other engines)."""

    kind: str
    shape: AnswerShape | None = None
    banned: tuple[tuple[int, ...], ...] = ()  # token-id sequences the answer may not write
    logit_bias: dict[int, float] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        """Whether anything constrains this request."""
        return self.shape is not None or bool(self.banned) or bool(self.logit_bias)

    def sampling_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``vllm.SamplingParams``; {} when nothing is constrained."""
        kwargs: dict[str, Any] = {}
        if self.shape is not None:
            from vllm.sampling_params import StructuredOutputsParams

            kwargs["structured_outputs"] = (
                StructuredOutputsParams(choice=list(self.shape.choice)) if self.shape.choice is not None
                else StructuredOutputsParams(regex=self.shape.regex))
        if self.banned:
            kwargs["extra_args"] = {BANNED_SEQUENCES: [list(sequence) for sequence in self.banned]}
        if self.logit_bias:
            kwargs["logit_bias"] = dict(self.logit_bias)
        return kwargs


def plan_constraints(
    request: GenerationRequest,
    settings: ConstraintSettings,
    tokenizer: Any = None,
    wording: ConstraintWording | None = None,
) -> ConstraintPlan:
    """Decide one request's constraints. Banning words and boosting need the model's ``tokenizer``."""
    wording = wording or load_wording()
    kind = answer_kind(request)
    shape = answer_shape(kind, request.user_content) if kind in settings.structured else None
    bias = settings.prompt_boost.get(kind, 0.0)
    if tokenizer is None and (bias or kind in settings.suppress_none):
        raise ValueError(f"evaluate.constraints for {kind} answers need the model's tokenizer")
    banned = banned_sequences(tokenizer, wording.suppressed_words) if kind in settings.suppress_none else ()
    logit_bias: dict[int, float] = {}
    if bias:
        logit_bias = {i: bias for i in sorted(prompt_token_ids(tokenizer, request.user_content, wording))}
    return ConstraintPlan(kind, shape, banned, logit_bias)


def banned_sequences(tokenizer: Any, words: Iterable[str]) -> tuple[tuple[int, ...], ...]:
    """The token ids of each word as it starts an answer and after a space, without repeats."""
    forms = [form for word in words for form in (word, " " + word)]
    encoded = tokenizer(forms, add_special_tokens=False)["input_ids"]
    return tuple(dict.fromkeys(tuple(ids) for ids in encoded if ids))


def banned_next_tokens(sequences: Iterable[Sequence[int]], output: Sequence[int]) -> list[int]:
    """The tokens an answer that has written ``output`` may not write next: the last token of each banned
    sequence whose other tokens ``output`` ends with (vLLM's ``bad_words`` rule; both backends apply it)."""
    banned = []
    for sequence in sequences:
        prefix = tuple(sequence[:-1])
        if not prefix or (len(prefix) <= len(output) and tuple(output[-len(prefix):]) == prefix):
            banned.append(sequence[-1])
    return banned


def sampling_overrides_for(
    settings: ConstraintSettings, tokenizer: Any = None, wording: ConstraintWording | None = None
) -> SamplingOverrides:
    """Request → extra ``SamplingParams`` keyword arguments (structured outputs, bad words, logit bias).

    ``tokenizer`` is the engine's tokenizer (``LLM.get_tokenizer()`` or the model folder's); it is
    needed when any word is suppressed or prompt boost is on, and that is checked here, before any
    request. ``wording``
    replaces ``constraints.yaml`` (other suppressed words or source labels).
    """
    if tokenizer is None and (settings.suppress_none or any(settings.prompt_boost.values())):
        raise ValueError("evaluate.constraints.suppress_none and prompt_boost need the model's tokenizer")
    wording = wording or load_wording()

    def overrides(request: GenerationRequest) -> dict[str, Any]:
        return plan_constraints(request, settings, tokenizer, wording).sampling_kwargs()

    return overrides


def describe(settings: ConstraintSettings) -> dict[str, str]:
    """One line per answer kind saying what constrains it (for run params and --help)."""
    lines: dict[str, str] = {}
    for kind in ANSWER_KINDS:
        parts: Iterable[str] = (
            *(["shape: " + ANSWER_KINDS.describe()[kind]] if kind in settings.structured else []),
            *(["no " + "/".join(load_wording().suppressed_words)] if kind in settings.suppress_none else []),
            *([f"prompt tokens +{settings.prompt_boost[kind]:g}"] if settings.prompt_boost.get(kind) else []),
        )
        lines[kind] = "; ".join(parts) or "unconstrained"
    return lines


def active_constraints(settings: ConstraintSettings | None) -> dict[str, str]:
    """``describe`` for the answer kinds something constrains; {} when nothing does (or no settings)."""
    if settings is None:
        return {}
    return {kind: line for kind, line in describe(settings).items() if line != "unconstrained"}
