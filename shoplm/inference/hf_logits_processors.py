"""transformers ``LogitsProcessor`` for constrained decoding: the vLLM backend's constraints, per batch row.

``shoplm.inference.constraints.plan_constraints`` decides each request's constraints for both backends;
``ConstrainedDecoding`` applies one batch of those plans inside ``model.generate`` (``logits_processor=``):

* an answer shape (``plan.shape``): xgrammar, the library vLLM's structured outputs run on, matches the
  shape's regex token by token (choices as an alternation: the language of vLLM's choice grammar) and
  masks every token that cannot continue it. Once the shape is complete only the backend's end-of-turn
  tokens remain, as vLLM ends a structured answer with the request's stop tokens.
* banned sequences (``plan.banned``): ``constraints.banned_next_tokens``, the rule vLLM's processor applies.
* prompt boost (``plan.logit_bias``): added to the row's logits, as vLLM's ``logit_bias``.

Imported by the transformers backend only when it decodes under constraints; xgrammar is imported only
when an answer shape is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
from transformers import LogitsProcessor

from shoplm.inference.answer_shapes import AnswerShape
from shoplm.inference.constraints import ConstraintPlan, banned_next_tokens


class ShapeGrammars:
    """Answer shapes compiled for one tokenizer (xgrammar's compiler caches each regex it compiled)."""

    def __init__(self, tokenizer: Any, vocab_size: int, stop_token_ids: Iterable[int]) -> None:
        import xgrammar

        self.xgr = xgrammar
        self.vocab_size = vocab_size  # the model's (its logits may be wider than the tokenizer's vocabulary)
        self.stop_token_ids = sorted(set(stop_token_ids))
        info = xgrammar.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size,
                                                       stop_token_ids=self.stop_token_ids)
        self.compiler = xgrammar.GrammarCompiler(info)

    def matcher(self, shape: AnswerShape) -> Any:
        """A fresh matcher of ``shape`` that ends on the stop tokens."""
        return self.xgr.GrammarMatcher(self.compiler.compile_regex(shape.pattern),
                                       override_stop_tokens=self.stop_token_ids)


class ConstrainedDecoding(LogitsProcessor):
    """One ``generate`` call's constraints: ``plans[row]`` for batch row ``row``, whose answer starts at
    column ``start`` (prompts are left-padded to one width). A row that has written a stop token is done:
    generate pads it, and it is left alone."""

    def __init__(self, plans: Sequence[ConstraintPlan], start: int, stop_token_ids: Iterable[int],
                 grammars: ShapeGrammars | None = None) -> None:
        self.plans = list(plans)
        self.start = start
        self.stop = set(stop_token_ids)
        if any(plan.shape is not None for plan in self.plans) and grammars is None:
            raise ValueError("answer shapes need the model's ShapeGrammars")
        self.grammars = grammars
        self.matchers = [grammars.matcher(plan.shape) if plan.shape is not None else None  # type: ignore[union-attr]
                         for plan in self.plans]
        self.accepted = [0] * len(self.plans)  # answer tokens each matcher has been given
        self.bitmask = (grammars.xgr.allocate_token_bitmask(len(self.plans), grammars.vocab_size)
                        if grammars is not None and any(m is not None for m in self.matchers) else None)
        self.bias = [(torch.tensor(list(plan.logit_bias)), torch.tensor(list(plan.logit_bias.values())))
                     if plan.logit_bias else None for plan in self.plans]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[0] != len(self.plans):
            raise ValueError(f"{input_ids.shape[0]} rows for {len(self.plans)} plans (one plan per row)")
        shaped: list[int] = []
        for row, plan in enumerate(self.plans):
            output = input_ids[row, self.start:].tolist()
            if self.stop.intersection(output):
                continue
            if (matcher := self.matchers[row]) is not None:
                self._advance(row, matcher, output)
                matcher.fill_next_token_bitmask(self.bitmask, row)
                shaped.append(row)
            for token in banned_next_tokens(plan.banned, output):
                scores[row, token] = float("-inf")
            if (bias := self.bias[row]) is not None:
                ids, values = bias
                scores[row, ids.to(scores.device)] += values.to(scores.device, scores.dtype)
        if shaped:
            self.grammars.xgr.apply_token_bitmask_inplace(  # type: ignore[union-attr]
                scores, self.bitmask.to(scores.device), indices=shaped)  # type: ignore[union-attr]
        return scores

    def _advance(self, row: int, matcher: Any, output: list[int]) -> None:
        for token in output[self.accepted[row]:]:
            if not matcher.accept_token(token):  # only a token the mask allowed can have been chosen
                raise RuntimeError(f"row {row}: token {token} is outside the answer shape "
                                   f"{self.plans[row].shape.description!r}")  # type: ignore[union-attr]
        self.accepted[row] = len(output)
