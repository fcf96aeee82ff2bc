"""ShopBench questions → token ids and answer-only labels.

The prompt is rendered exactly as evaluation renders it (the same ``shoplm.shopbench.prompting.PromptPlan``, by
default the ``task-type`` strategy's ``prompts.build_messages``, + the tokenizer's
chat template with the assistant header, encoded by ``prompts.encode_pieces`` as
``TransformersBackend.encode`` does: special tokens from the template only, none added), so the model is
trained on the very prompt it is later served.
The completion is the rest of the rendered conversation: the gold answer (``answers.render_gold``), the
end-of-turn token, and whatever the template puts after it (ChatML: a newline).

Labels are -100 everywhere except the answer tokens and the first end-of-turn token after them, so the
loss falls on the answer only (seed 003 §4.2) and the model learns to stop. This needs no
``{% generation %}`` markers in the template, so it works for real checkpoints such as
Qwen2-72B-Instruct whose templates lack them; for the tiny model a test checks it agrees with the
template's own assistant mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shoplm.shopbench.prompting.strategies import PromptPlan
from shoplm.shopbench.answers import render_gold
from shoplm.shopbench.prompts import Message, chat_pieces, encode_pieces, split_pieces
from shoplm.shopbench.records import Question

IGNORE_INDEX = -100


@dataclass(frozen=True)
class TokenizedExample:
    """One training conversation: ``input_ids`` and ``labels`` (IGNORE_INDEX outside the answer)."""

    input_ids: list[int]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def answer_tokens(self) -> int:
        return sum(label != IGNORE_INDEX for label in self.labels)


@dataclass
class TokenizedData:
    """The examples of one mixture, and what was dropped on the way."""

    examples: list[TokenizedExample]
    dropped_too_long: int = 0

    @property
    def tokens(self) -> int:
        return sum(len(example) for example in self.examples)

    @property
    def answer_tokens(self) -> int:
        return sum(example.answer_tokens for example in self.examples)

    def stats(self) -> dict[str, float]:
        tokens = self.tokens
        return {
            "examples": len(self.examples),
            "dropped_too_long": self.dropped_too_long,
            "tokens": tokens,
            "answer_tokens": self.answer_tokens,
            "answer_token_fraction": self.answer_tokens / tokens if tokens else 0.0,
            "mean_example_tokens": tokens / len(self.examples) if self.examples else 0.0,
            "max_example_tokens": max((len(e) for e in self.examples), default=0),
        }


def question_messages(question: Question, answer: str | None = None, prompts: PromptPlan | None = None
                      ) -> list[Message]:
    """The chat of one training question, rendered by its task type's prompt strategy (default: the
    system prompt naming its task type, the question, the gold answer)."""
    strategy = (prompts or PromptPlan.from_settings())[question.task_type]
    answer = strategy.training_answer(render_gold(question)) if answer is None else answer
    return strategy.messages(question.input_field, question.task_type, answer)


def end_of_turn_ids(tokenizer: Any) -> set[int]:
    """Token ids that close an assistant turn: the tokenizer's eos and ChatML's ``<|im_end|>``."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    im_end = tokenizer.get_vocab().get("<|im_end|>")
    if im_end is not None:
        ids.add(im_end)
    if not ids:
        raise ValueError("tokenizer has neither an eos token nor <|im_end|>: cannot mark the end of an answer")
    return ids


def tokenize_messages(tokenizer: Any, messages: Sequence[Message], stop_ids: set[int] | None = None
                      ) -> TokenizedExample:
    """Tokenize a chat whose last message is the assistant's answer; labels cover only that answer.

    Prompt and completion are encoded as inference encodes a prompt (``encode_pieces``): special tokens
    come from the chat template only, never from a question's or an answer's text.
    """
    if not messages or messages[-1]["role"] != "assistant":
        raise ValueError("the last message must be the assistant's answer")
    prompt = chat_pieces(tokenizer, list(messages[:-1]), add_generation_prompt=True)
    full = chat_pieces(tokenizer, list(messages), add_generation_prompt=False)
    prompt_text = "".join(text for text, _ in prompt)
    if not "".join(text for text, _ in full).startswith(prompt_text):
        raise ValueError("the chat template renders the prompt differently with and without the answer; "
                         "answer-only labels need the prompt to be a prefix of the full conversation")
    prompt_ids = encode_pieces(tokenizer, prompt)
    completion_ids = encode_pieces(tokenizer, split_pieces(full, len(prompt_text))[1])
    stop_ids = end_of_turn_ids(tokenizer) if stop_ids is None else stop_ids
    end = next((i + 1 for i, token in enumerate(completion_ids) if token in stop_ids), None)
    if end is None:
        raise ValueError("the rendered answer has no end-of-turn token; the model would never learn to stop")
    labels = [IGNORE_INDEX] * len(prompt_ids) + completion_ids[:end] + [IGNORE_INDEX] * (len(completion_ids) - end)
    return TokenizedExample(input_ids=prompt_ids + completion_ids, labels=labels)


def tokenize_questions(tokenizer: Any, questions: Sequence[Question], max_seq_len: int,
                       progress: bool = False, prompts: PromptPlan | None = None) -> TokenizedData:
    """Every question as a training example; examples longer than ``max_seq_len`` are dropped.

    ``prompts``: the evaluation's prompt plan (default: ``task-type`` for every task type). A k-shot
    plan may draw from the training questions themselves: only the question itself is excluded.
    """
    from tqdm.auto import tqdm

    prompts = prompts or PromptPlan.from_settings()
    stop_ids = end_of_turn_ids(tokenizer)
    data = TokenizedData(examples=[])
    for question in tqdm(questions, desc="tokenize", unit="q", disable=not progress, mininterval=2):
        example = tokenize_messages(tokenizer, question_messages(question, prompts=prompts), stop_ids)
        if len(example) > max_seq_len:
            data.dropped_too_long += 1
            continue
        data.examples.append(example)
    if not data.examples:
        raise ValueError(f"no training example fits max_seq_len={max_seq_len} "
                         f"({data.dropped_too_long} dropped as too long, {len(questions)} questions)")
    return data
