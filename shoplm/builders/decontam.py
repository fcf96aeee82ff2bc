"""Decontamination: drop training questions whose text overlaps an evaluation question.

None of the seeds checked this; the ESCI-, Amazon-M2- and Reviews-based builders read the very datasets
ShopBench was made from, so a training prompt can repeat a test prompt's query and products.

Method (word n-grams, one index, no pairwise comparison):

1. Text is normalised: NFKC, HTML entities unescaped, case-folded, punctuation dropped; a token is a run
   of letters/digits, and each CJK character (kana, kanji, hangul) is a token of its own, so Japanese
   text without spaces still yields n-grams.
2. Every evaluation question's n-grams (``ngram`` tokens, default 8) go into one dict n-gram → the
   evaluation questions holding it; the whole normalised text goes into an exact-match dict.
3. A training question is dropped when its normalised text equals an evaluation question's (this
   catches short prompts with fewer than ``ngram`` tokens), or when at least ``threshold`` of its
   *content* n-grams occur in the index.

Template text is not content. Prompts of one format share their instructions ("You should output a
permutation of 1 to 5 ...", "Answer: ") with the development questions they imitate, and counting those
would flag every ordinary question. An n-gram counts as template text when it occurs in at least
``boilerplate_eval_df`` evaluation questions (instructions repeat across a task's questions; content
does not), or when it comes from the builder's own fixed wording: the string literals of the module
that defines the builder and of the ``shoplm.builders`` modules it imports (its prompt templates,
instructions and answer cues), where a placeholder (``{query}``, an f-string field) stands for any one
token. How often an n-gram recurs in the builder's output does not matter: a leaked evaluation passage
that a builder repeats across many questions is still content, and still caught. Template n-grams are
left out of both the matched count and the total. Only n-grams found in the index are ever counted, so
memory grows with the overlap, not with the training set.
"""

from __future__ import annotations

import ast
import functools
import html
import importlib
import inspect
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from tqdm import tqdm

from shoplm.builders.registry import BUILDERS
from shoplm.params.build import DecontamSettings
from shoplm.shopbench.records import Question

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\uff66-\uff9f"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
EXAMPLE_CHARS = 240
_FORMAT_FIELD = re.compile(r"\{[^{}]*\}")
ANY = "*"  # a placeholder in a builder's wording: matches any one token (tokens never contain "*")


def tokens(text: str) -> list[str]:
    """Normalised tokens of ``text`` (see the module docstring)."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", html.unescape(text)).casefold())


def ngrams(toks: Sequence[str], n: int) -> set[str]:
    return {" ".join(toks[i:i + n]) for i in range(len(toks) - n + 1)}


# --- a builder's fixed wording ------------------------------------------------------------------------

Wording = tuple[tuple[str | None, ...], ...]  # token sequences; None marks a placeholder


def _pieces(text: str) -> list[str | None]:
    """A literal as text pieces and placeholders: ``"rank '{query}' now"`` → ["rank '", None, "' now"]."""
    out: list[str | None] = []
    for number, chunk in enumerate(_FORMAT_FIELD.split(text)):
        if number:
            out.append(None)
        out.append(chunk)
    return out


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


@functools.cache
def module_wording(module: ModuleType) -> tuple[Wording, tuple[str, ...]]:
    """The string literals of ``module`` (docstrings left out) as token sequences, and the
    ``shoplm.builders`` modules it imports from."""
    tree = ast.parse(inspect.getsource(module))
    skip = _docstrings(tree)
    sequences: list[tuple[str | None, ...]] = []
    imports: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("shoplm.builders"):
            imports.append(node.module)
        if isinstance(node, ast.JoinedStr):  # an f-string: its literal parts around the fields
            pieces: list[str | None] = []
            for value in node.values:
                skip.add(id(value))
                pieces += [value.value] if isinstance(value, ast.Constant) else [None]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            pieces = _pieces(node.value)
        else:
            continue
        sequence = [tok for piece in pieces for tok in ([None] if piece is None else tokens(piece))]
        if len(sequence) > 1:
            sequences.append(tuple(sequence))
    return tuple(sequences), tuple(imports)


def builder_wording(name: str) -> Wording:
    """The fixed wording of builder ``name`` (empty for a name no registered builder has, or for a row
    built by an LLM)."""
    spec = BUILDERS.get(name) if name in BUILDERS else None
    if spec is None or spec.build is None:
        return ()
    module = inspect.getmodule(inspect.unwrap(spec.build))
    own, imported = module_wording(module)
    return own + tuple(seq for other in imported for seq in module_wording(importlib.import_module(other))[0])


@dataclass(frozen=True)
class TemplateGrams:
    """The n-grams of a fixed wording; a placeholder may take the place of one token of an n-gram."""

    exact: frozenset[str]
    one_placeholder: frozenset[str]

    @classmethod
    def build(cls, wording: Wording, n: int) -> TemplateGrams:
        exact, one = set(), set()
        for sequence in wording:
            for start in range(len(sequence) - n + 1):
                window = sequence[start:start + n]
                holes = window.count(None)
                if holes == 0:
                    exact.add(" ".join(window))
                elif holes == 1:
                    one.add(" ".join(ANY if tok is None else tok for tok in window))
        return cls(frozenset(exact), frozenset(one))

    def __contains__(self, gram: str) -> bool:
        if gram in self.exact:
            return True
        if not self.one_placeholder:
            return False
        toks = gram.split(" ")
        return any(" ".join([*toks[:i], ANY, *toks[i + 1:]]) in self.one_placeholder for i in range(len(toks)))


@dataclass
class EvalIndex:
    """The evaluation questions' n-grams (n-gram → indices of the questions holding it) and texts."""

    questions: list[Question]
    n: int
    postings: dict[str, list[int]] = field(default_factory=dict)
    exact: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, questions: Sequence[Question], n: int, only: set[str] | None = None,
              only_texts: set[str] | None = None) -> EvalIndex:
        """``only`` / ``only_texts``: index just these n-grams and normalised texts (those of the questions
        to check), which bounds memory by the checked questions when the indexed set is large."""
        index = cls(list(questions), n)
        for number, question in enumerate(index.questions):
            toks = tokens(question.input_field)
            text = " ".join(toks)
            if only_texts is None or text in only_texts:
                index.exact.setdefault(text, number)
            for gram in ngrams(toks, n):
                if only is None or gram in only:
                    index.postings.setdefault(gram, []).append(number)
        return index

    def df(self, gram: str) -> int:
        return len(self.postings.get(gram, ()))


@dataclass
class DecontamResult:
    kept: list[Question]
    kept_indices: list[int]          # positions of the kept questions in the input
    checked: dict[str, int]          # group (builder) → questions checked
    dropped: dict[str, int]          # group → questions dropped
    examples: list[dict[str, Any]]   # a few dropped questions and the evaluation question each matched
    eval_questions: int
    enabled: bool

    @property
    def total_dropped(self) -> int:
        return sum(self.dropped.values())

    def to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "eval_questions": self.eval_questions,
                "checked": sum(self.checked.values()), "dropped": self.total_dropped,
                "dropped_per_builder": dict(sorted(self.dropped.items())), "examples": self.examples}


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS - 1] + "…"


def decontaminate(questions: Sequence[Question], eval_questions: Sequence[Question],
                  settings: DecontamSettings | None = None, groups: Sequence[str] | None = None,
                  progress: bool = False, large_reference: bool = False) -> DecontamResult:
    """Split ``questions`` into kept and dropped; ``groups`` (default: each question's task_name) names
    the builder of each question, for template detection and the per-builder counts.

    ``large_reference``: ``eval_questions`` is the big side (a mixture's training rows checked for a
    held-out slice): index only the n-grams and texts ``questions`` hold. The result is the same (only
    those are ever looked up); memory is bounded by ``questions``."""
    settings = settings or DecontamSettings()
    groups = list(groups) if groups is not None else [q.task_name for q in questions]
    if len(groups) != len(questions):
        raise ValueError(f"{len(groups)} groups for {len(questions)} questions")
    checked = dict(Counter(groups))
    dropped = {group: 0 for group in checked}
    if not settings.enabled or not eval_questions:
        return DecontamResult(list(questions), list(range(len(questions))), checked, dropped, [],
                              len(eval_questions), settings.enabled)

    if large_reference:
        checked_tokens = [tokens(q.input_field) for q in questions]
        index = EvalIndex.build(eval_questions, settings.ngram,
                                only={g for toks in checked_tokens for g in ngrams(toks, settings.ngram)},
                                only_texts={" ".join(toks) for toks in checked_tokens})
    else:
        index = EvalIndex.build(eval_questions, settings.ngram)
    templates = {group: TemplateGrams.build(builder_wording(group), settings.ngram) for group in checked}
    kept: list[Question] = []
    kept_indices: list[int] = []
    examples: list[dict[str, Any]] = []
    for position, (question, group) in enumerate(tqdm(zip(questions, groups), total=len(questions),
                                                      desc="decontaminate", disable=not progress, leave=False)):
        toks = tokens(question.input_field)
        grams = ngrams(toks, settings.ngram)
        exact = index.exact.get(" ".join(toks))
        matched = [g for g in grams if g in index.postings]
        content = [g for g in matched if index.df(g) < settings.boilerplate_eval_df and g not in templates[group]]
        boilerplate = len(matched) - len(content)
        total = len(grams)
        overlap = len(content) / (total - boilerplate) if total - boilerplate > 0 else 0.0
        if exact is None and not (content and overlap >= settings.threshold):
            kept.append(question)
            kept_indices.append(position)
            continue
        dropped[group] += 1
        if len(examples) < settings.max_examples:
            if exact is None:
                votes = Counter(i for g in content for i in index.postings[g])
                exact_or_best = min(votes, key=lambda i: (-votes[i], i))
            else:
                exact_or_best = exact
            match = index.questions[exact_or_best]
            examples.append({"builder": group, "reason": "exact text" if exact is not None else "n-gram overlap",
                             "overlap": 1.0 if exact is not None else round(overlap, 4),
                             "train": _short(question.input_field), "eval_task": match.task_name,
                             "eval": _short(match.input_field)})
    return DecontamResult(kept, kept_indices, checked, dropped, examples, len(eval_questions), True)
