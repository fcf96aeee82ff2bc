"""Time budgets: the competition's per-track limits, enforced while a backend generates.

The phase-2 rules (``shopbench-eval-spec.md``, "Competition constraints") gave each track a wall-clock
limit (Track 1 70 min, Tracks 2 and 4 20 min, Track 3 30 min, Track 5, all four together, 140 min) and
at most 10 s per sample, enforced per batch. A submission over the limit scored nothing, so the
winners' harness answered what it could and left the rest empty; this module does the same for any
backend:

* requests run in chunks, cheapest task type first (fewest new tokens), so that what a tight budget
  cuts is the long generation answers, not the one-token multiple-choice ones;
* before each chunk the time it will take is projected from the seconds per question measured so far
  on its task type (or on all types, before the first chunk of a new type);
* when the remaining budget cannot cover it, that chunk and every later one are cut: their answers
  stay empty, and their request indices are returned so the report can name them;
* a chunk that ran slower than the per-sample cap is counted (the competition would have failed it).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shoplm.inference.backends import GenerationBackend, GenerationRequest
from shoplm.params.serving import ALL_AROUND, COMPETITION_LIMITS_S, TRACK_KEYS, BudgetSettings, TrackKey  # noqa: F401

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class BudgetOutcome:
    """What a budgeted run produced: outputs aligned with the requests, the indices it cut."""

    outputs: list[str]
    cut: list[int]
    limit_s: float
    used_s: float
    over_cap_chunks: int

    def metrics(self) -> dict[str, float]:
        return {"budget/limit_s": self.limit_s, "budget/used_s": self.used_s,
                "budget/cut_questions": float(len(self.cut)), "budget/over_cap_chunks": float(self.over_cap_chunks)}


def plan_chunks(requests: Sequence[GenerationRequest], chunk_size: int) -> list[list[int]]:
    """Request indices in chunks of one task type, cheapest type (fewest new tokens) first."""
    groups: dict[str, list[int]] = {}
    for index, request in enumerate(requests):
        groups.setdefault(request.task_type, []).append(index)
    order = sorted(groups, key=lambda t: max(requests[i].max_new_tokens for i in groups[t]))
    return [groups[t][start:start + chunk_size] for t in order for start in range(0, len(groups[t]), chunk_size)]


class TimeBudget:
    """Runs requests through a backend chunk by chunk and stops before the limit would be passed."""

    def __init__(self, limit_s: float, per_question_s: float, chunk_size: int = 64, *,
                 show_progress: bool = True, clock: Callable[[], float] = time.perf_counter) -> None:
        self.limit_s = limit_s
        self.per_question_s = per_question_s
        self.chunk_size = chunk_size
        self.show_progress = show_progress
        self.clock = clock

    @classmethod
    def for_questions(cls, settings: BudgetSettings, questions: Sequence[Any], **kwargs: Any) -> TimeBudget | None:
        """The budget of one evaluation set, or None when budgets are off."""
        if not settings.enabled:
            return None
        from shoplm.inference.generation import question_field

        tracks = [question_field(q, "track") for q in questions]
        return cls(settings.limit_s(tracks), settings.per_question_s, settings.chunk_size, **kwargs)

    def run(self, backend: GenerationBackend, requests: Sequence[GenerationRequest]) -> BudgetOutcome:
        from tqdm.auto import tqdm

        outputs = [""] * len(requests)
        seconds: Counter[str] = Counter()  # measured generate time per task type
        answered: Counter[str] = Counter()
        cut: list[int] = []
        over_cap = 0
        start = self.clock()
        chunks = plan_chunks(requests, self.chunk_size)
        with tqdm(total=len(requests), desc="generate", unit="q", disable=not self.show_progress) as bar:
            for number, chunk in enumerate(chunks):
                task_type = requests[chunk[0]].task_type
                rate = self._rate(seconds, answered, task_type)
                remaining = self.limit_s - (self.clock() - start)
                if remaining <= 0 or len(chunk) * rate > remaining:
                    cut = [i for later in chunks[number:] for i in later]
                    log.warning("time budget: %d of %d questions cut (%.1f s left, the next chunk of %d %s "
                                "questions needs about %.1f s)", len(cut), len(requests), remaining,
                                len(chunk), task_type, len(chunk) * rate)
                    break
                chunk_start = self.clock()
                texts = backend.generate([requests[i] for i in chunk])
                took = self.clock() - chunk_start
                if len(texts) != len(chunk):
                    raise RuntimeError(f"backend {backend.name!r} returned {len(texts)} outputs for {len(chunk)}")
                for index, text in zip(chunk, texts):
                    outputs[index] = text
                seconds[task_type] += took
                answered[task_type] += len(chunk)
                if took > self.per_question_s * len(chunk):
                    over_cap += 1
                    log.warning("chunk of %d %s questions took %.1f s, over the %.0f s per-question cap",
                                len(chunk), task_type, took, self.per_question_s)
                bar.update(len(chunk))
                bar.set_postfix(self._postfix(requests, chunks[number + 1:], seconds, answered, start))
        return BudgetOutcome(outputs, sorted(cut), self.limit_s, self.clock() - start, over_cap)

    @staticmethod
    def _rate(seconds: Counter[str], answered: Counter[str], task_type: str) -> float:
        """Seconds per question: this type's so far, else all types', else 0 (nothing measured yet)."""
        if answered[task_type]:
            return seconds[task_type] / answered[task_type]
        total = sum(answered.values())
        return sum(seconds.values()) / total if total else 0.0

    def _postfix(self, requests: Sequence[GenerationRequest], left: list[list[int]], seconds: Counter[str],
                 answered: Counter[str], start: float) -> dict[str, str]:
        elapsed = self.clock() - start
        projected = elapsed + sum(len(c) * self._rate(seconds, answered, requests[c[0]].task_type) for c in left)
        done = sum(answered.values())
        return {"q/s": f"{done / elapsed:.2f}" if elapsed > 0 else "-",
                "left": f"{self.limit_s - elapsed:.0f}s", "finish": f"{projected:.0f}/{self.limit_s:.0f}s"}
