"""Models side by side with the evidence: each score's 95% interval, each difference to a reference model
with its paired interval, and what the set can detect at all.

A bare 0.3347 beside 0.3440 invites a reading the data cannot carry. Every table the pipeline prints
that puts models side by side goes through ``compare``: the score of each model with its bootstrap
interval, its difference to the reference (zero-shot, or the unconstrained pass) on the same questions
with a paired interval, a ``*`` where that interval excludes 0, and the set's minimum detectable
difference (80% power, 5% two-sided), so a reader sees at once whether a gap is evidence or noise.
The statistics are ``shoplm.shopbench.evidence``'s (stratified by task, aggregated the official way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shoplm.shopbench.evidence import (
    Difference,
    Estimate,
    Scored,
    interval,
    minimum_detectable_difference,
    paired_difference,
)
from shoplm.shopbench.records import Question

N_RESAMPLES = 2000
SEED = 0


@dataclass(frozen=True)
class ModelEvidence:
    name: str
    score: Estimate
    difference: Difference | None  # to the reference; None for the reference itself


@dataclass(frozen=True)
class Comparison:
    """The models of one question set, the reference first."""

    reference: str
    metric: str
    n: int
    mde: float  # minimum detectable difference of the set, from the reference's own variance
    rows: list[ModelEvidence]

    def table(self) -> str:
        header = ["model", self.metric, "95% CI", f"change vs {self.reference}", "95% CI", ""]
        lines = []
        for row in self.rows:
            diff = row.difference
            lines.append([row.name, f"{row.score.point:.4f}", f"[{row.score.low:.4f}, {row.score.high:.4f}]",
                          "" if diff is None else f"{diff.point:+.4f}",
                          "" if diff is None else f"[{diff.low:+.4f}, {diff.high:+.4f}]",
                          "*" if diff is not None and diff.excludes_zero else ""])
        widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]

        def render(cells: list[str]) -> str:
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

        return "\n".join([render(header), *(render(line) for line in lines), self.legend()])

    def legend(self) -> str:
        return (f"{self.n} questions; paired bootstrap over questions stratified by task, {N_RESAMPLES:,} "
                f"resamples. * the change's 95% CI excludes 0; without *, the change is inside the noise. "
                f"Smallest change this set detects (80% power, 5% two-sided): about {self.mde:.3f}.")

    def verdict(self, model: str) -> str:
        """One line: whether ``model`` is told apart from the reference on this set."""
        row = next(r for r in self.rows if r.name == model)
        diff = row.difference
        if diff is None:
            return f"{model} is the reference"
        word = ("better than" if diff.point > 0 else "worse than") if diff.excludes_zero else "not told apart from"
        return (f"{model} is {word} {self.reference}: {diff.point:+.4f} [{diff.low:+.4f}, {diff.high:+.4f}] "
                f"on {self.n} questions")

    def metrics(self, prefix: str) -> dict[str, float]:
        """``<prefix>/<model>/<metric>_low|_high`` and ``…/change_vs_<reference>[_low|_high]``; ``<prefix>/mde``."""
        out = {f"{prefix}/mde": self.mde}
        for row in self.rows:
            base = f"{prefix}/{row.name}/{self.metric}"
            out.update({base: row.score.point, f"{base}_low": row.score.low, f"{base}_high": row.score.high})
            if row.difference is not None:
                change = f"{prefix}/{row.name}/change_vs_{self.reference}"
                out.update({change: row.difference.point, f"{change}_low": row.difference.low,
                            f"{change}_high": row.difference.high})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "metric": self.metric, "n": self.n, "mde": self.mde,
                "n_resamples": N_RESAMPLES,
                "models": {row.name: {"score": vars(row.score),
                                      "change": None if row.difference is None else vars(row.difference)}
                           for row in self.rows}}


def compare(questions: Sequence[Question], scored: Mapping[str, Scored], reference: str,
            metric: str = "track5") -> Comparison:
    """Every model of ``scored`` (name → its ScoreReport or per-sample rows, all on ``questions`` in this
    order) with its interval and its paired difference to ``reference``."""
    if reference not in scored:
        raise ValueError(f"reference model {reference!r} is not among {', '.join(scored)}")
    names = [reference, *(name for name in scored if name != reference)]
    rows = [ModelEvidence(name, interval(questions, scored[name], metric, N_RESAMPLES, SEED),
                          None if name == reference else paired_difference(questions, scored[name], scored[reference],
                                                                           metric, N_RESAMPLES, SEED))
            for name in names]
    mde = minimum_detectable_difference(questions, scored[reference], None, metric, N_RESAMPLES, SEED)
    return Comparison(reference, metric, len(questions), mde, rows)
