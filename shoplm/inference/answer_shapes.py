"""The exact set of answers the official parser accepts, per structured task type, read from the prompt.

Constrained decoding (``shoplm.inference.constraints``) hands one of these shapes to vLLM's structured
outputs, so a model can only write what ``shoplm.shopbench.parsers`` turns into a usable answer:

* multiple-choice: one option index. The parser reads only the FIRST character, so the choice is
  over single digits: the options the prompt numbers ("0. ..." to "3. ..."), the scale of a rating
  question ("on a scale of 1 to 5"), or any digit when the prompt shows neither.
* ranking: a permutation of the candidate numbers, written "3,1,2,5,4". The parser drops numbers
  above 5, keeps the first 5 and rejects the whole list if one repeats, so only candidates 1-5 can
  count and each appears once.
* retrieval: three distinct candidate numbers, "6,9,15". The parser keeps the first 3 and does not
  de-duplicate, but a repeated number can only lower hit rate@3, so the shape forbids it.

Each shape is a Python-compatible regex or a list of choices, so ``AnswerShape.accepts`` checks any
text with ``re`` alone (tests need no engine). Distinctness is spelled out as a prefix tree of
alternatives ("1,(2,(3|4)|3,(2|4)|...)"); xgrammar 0.2.8 compiled these on SmolLM2's 49k vocabulary in
28 ms (permutations of 5), 61 ms (3 of 10), 139 ms (3 of 15) and 257 ms (3 of 20), once per distinct
candidate count, while 3.3 s for permutations of 7. Above ``MAX_DISTINCT_CANDIDATES`` the shape falls
back to numbers from the candidate range without distinctness (never seen in ShopBench: 10 or 15).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shoplm.registry import Registry
from shoplm.shopbench.parsers import RANKING_KEEP, RANKING_MAX_ITEM, RETRIEVAL_KEEP

#: Largest candidate list spelled out as distinct sequences (see the module docstring's timings).
MAX_DISTINCT_CANDIDATES = 20
#: The ShopBench ranking layout ("You should output a permutation of 1 to 5") when the prompt lists none.
DEFAULT_RANKING_CANDIDATES = tuple(range(1, RANKING_MAX_ITEM + 1))
SEPARATOR = ","  # the parser splits on commas only; spaces would cost tokens and nothing else

# "0. mouse pad", "1.stability", "2) cotton": a number opening a line, then "." or ")".
_NUMBERED_LINE = re.compile(r"\s*(\d{1,2})\s*[.)]")
# "Evaluate the following product review on a scale of 1 to 5" (the review-rating tasks).
_RATING_SCALE = re.compile(r"\bscale (?:of|from) (\d) to (\d)\b", re.IGNORECASE)


@dataclass(frozen=True)
class AnswerShape:
    """What a constrained answer may be: exactly one of ``choice`` (strings) or ``regex`` (full match)."""

    description: str
    max_chars: int  # the longest accepted answer: a bound on its tokens (every token has >= 1 char)
    choice: tuple[str, ...] | None = None
    regex: str | None = None

    def __post_init__(self) -> None:
        if (self.choice is None) == (self.regex is None):
            raise ValueError("an AnswerShape has either choices or a regex")

    @property
    def pattern(self) -> str:
        """The shape as one regex: ``regex``, or the choices as an alternation (the same language as
        vLLM's grammar for ``choice``), for engines that take a regex only."""
        if self.choice is not None:
            return "(?:" + "|".join(re.escape(option) for option in self.choice) + ")"
        return self.regex  # type: ignore[return-value]

    def accepts(self, text: str) -> bool:
        if self.choice is not None:
            return text in self.choice
        return re.fullmatch(self.regex, text) is not None  # type: ignore[arg-type]


def numbered_runs(text: str, start: int) -> list[list[int]]:
    """Every run of consecutively numbered lines that begins at ``start`` (start, start+1, ...).

    Counting runs rather than all numbered lines keeps a stray "2. ..." inside a review or a product
    description from being taken for an option.
    """
    runs: list[list[int]] = []
    for line in text.splitlines():
        match = _NUMBERED_LINE.match(line)
        if not match:
            continue
        number = int(match.group(1))
        if number == start:
            runs.append([number])
        elif runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
    return runs


def numbered_candidates(text: str, start: int = 1) -> list[int]:
    """The candidate list of a prompt: its longest numbered run (the last one of equal length,
    nearest the answer cue); [] when no run has two items."""
    runs = [run for run in numbered_runs(text, start) if len(run) >= 2]
    return max(reversed(runs), key=len) if runs else []


def distinct_sequences_regex(items: Sequence[str], length: int) -> str:
    """Regex for ``length`` distinct ``items`` joined by commas, as a prefix tree of alternatives."""
    if length == 0:
        return ""
    branches = []
    for item in items:
        rest = [other for other in items if other != item]
        tail = SEPARATOR + distinct_sequences_regex(rest, length - 1) if length > 1 else ""
        branches.append(re.escape(item) + tail)
    return "(?:" + "|".join(branches) + ")"


def number_list_shape(description: str, numbers: Sequence[int], length: int) -> AnswerShape:
    """``length`` of ``numbers`` joined by commas: distinct ones while the list is small enough."""
    if len(numbers) <= MAX_DISTINCT_CANDIDATES:
        regex = distinct_sequences_regex([str(n) for n in numbers], length)
    else:
        regex = SEPARATOR.join(["(?:" + "|".join(str(n) for n in numbers) + ")"] * length)
    widest = sorted((len(str(n)) for n in numbers), reverse=True)[:length]
    return AnswerShape(description, max_chars=sum(widest) + length - 1, regex=regex)


# ---------------------------------------------------------------------------------------------- shapes

ShapeBuilder = Callable[[str], AnswerShape]
#: Structured task type → the builder of its answer shape from the question text.
SHAPES: Registry[ShapeBuilder] = Registry("structured answer shape")


@SHAPES.register("multiple-choice")
def multiple_choice_shape(text: str) -> AnswerShape:
    """One option index: the prompt's options 0..n-1, a rating scale's 1..5, else any digit."""
    options = numbered_candidates(text, start=0)
    if not options and (scale := _RATING_SCALE.search(text)):
        low, high = int(scale.group(1)), int(scale.group(2))
        options = list(range(low, high + 1)) if low < high else []
    if not options:
        options = numbered_candidates(text, start=1)
    # The parser reads one character: an option numbered 10 or more cannot be answered at all.
    digits = [str(n) for n in options if n <= 9] or [str(n) for n in range(10)]
    return AnswerShape(f"one of {','.join(digits)}", max_chars=1, choice=tuple(digits))


@SHAPES.register("ranking")
def ranking_shape(text: str) -> AnswerShape:
    """A permutation of the candidate numbers the parser keeps (1-5), comma-separated."""
    kept = [n for n in numbered_candidates(text) if n <= RANKING_MAX_ITEM] or list(DEFAULT_RANKING_CANDIDATES)
    length = min(len(kept), RANKING_KEEP)
    return number_list_shape(f"permutation of {','.join(map(str, kept))}", kept, length)


@SHAPES.register("retrieval")
def retrieval_shape(text: str) -> AnswerShape:
    """Three distinct candidate numbers, comma-separated (fewer when the list is shorter)."""
    candidates = numbered_candidates(text)
    if not candidates:  # no list found: three numbers 1-99, distinctness left to the model
        return AnswerShape("three numbers", max_chars=3 * RETRIEVAL_KEEP - 1,
                           regex=SEPARATOR.join(["[1-9][0-9]?"] * RETRIEVAL_KEEP))
    length = min(len(candidates), RETRIEVAL_KEEP)
    return number_list_shape(f"{length} distinct of 1-{candidates[-1]}", candidates, length)


def answer_shape(task_type: str, text: str) -> AnswerShape:
    """The shape for one question; an unstructured task type raises ``UnknownNameError``."""
    return SHAPES.get(task_type)(text)
