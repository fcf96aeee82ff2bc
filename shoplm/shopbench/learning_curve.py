"""A learning curve with its evidence: Track 5 against training steps, per evaluation set.

Each point is one step's adapter (step 0: the base model) scored on the same questions. It carries Track
5's 95% interval, and its change to step 0 with the interval of the PAIRED difference (the same bootstrap
draws of questions for both, stratified by task: ``shoplm.shopbench.evidence``), so step 0's own change is
exactly 0 [0, 0] and a later step's is the evidence that training moved the score. ``first_change`` is
the first step whose change's interval excludes 0: how many steps this model needs before the training
shows on this set (in either direction; ``direction`` says which).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shoplm.shopbench.comparison import N_RESAMPLES, SEED
from shoplm.shopbench.evidence import (
    Difference,
    Estimate,
    Scored,
    interval,
    minimum_detectable_difference,
    paired_difference,
)
from shoplm.shopbench.records import Question

METRIC = "track5"


@dataclass(frozen=True)
class CurvePoint:
    step: int
    score: Estimate
    change: Difference  # vs step 0 on the same questions (step 0: exactly 0 [0, 0])


@dataclass(frozen=True)
class SetCurve:
    """One set's curve, step 0 first."""

    name: str
    n: int
    mde: float  # smallest change this set detects (80% power, 5% two-sided), from the base's variance
    points: list[CurvePoint]

    @property
    def first_change(self) -> CurvePoint | None:
        """The first step past 0 whose change's 95% interval excludes 0, or None."""
        return next((p for p in self.points if p.step > 0 and p.change.excludes_zero), None)

    @property
    def direction(self) -> str | None:
        first = self.first_change
        return None if first is None else ("better" if first.change.point > 0 else "worse")

    def verdict(self) -> str:
        first = self.first_change
        if first is None:
            last = self.points[-1]
            return (f"{self.name}: no listed step is told apart from the base (step {last.step}: "
                    f"{last.change.point:+.4f} [{last.change.low:+.4f}, {last.change.high:+.4f}])")
        return (f"{self.name}: the training shows from step {first.step} ({self.direction} than the base: "
                f"{first.change.point:+.4f} [{first.change.low:+.4f}, {first.change.high:+.4f}])")

    def table(self) -> str:
        header = ["step", METRIC, "95% CI", "change vs base", "95% CI", ""]
        lines = [[str(p.step), f"{p.score.point:.4f}", f"[{p.score.low:.4f}, {p.score.high:.4f}]",
                  f"{p.change.point:+.4f}", f"[{p.change.low:+.4f}, {p.change.high:+.4f}]",
                  "*" if p.change.excludes_zero else ""] for p in self.points]
        widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
        rows = ["  ".join(cell.rjust(width) for cell, width in zip(line, widths)).rstrip() for line in [header, *lines]]
        return "\n".join([f"=== {self.name}: {self.n} questions ===", *rows, self.verdict(),
                          f"smallest change this set detects (80% power, 5% two-sided): about {self.mde:.3f}"])

    def to_dict(self) -> dict[str, Any]:
        first = self.first_change
        return {"n": self.n, "mde": self.mde, "first_change_step": None if first is None else first.step,
                "first_change_direction": self.direction,
                "steps": {str(p.step): {METRIC: p.score.point, f"{METRIC}_low": p.score.low,
                                        f"{METRIC}_high": p.score.high, "change": p.change.point,
                                        "change_low": p.change.low, "change_high": p.change.high,
                                        "change_excludes_zero": p.change.excludes_zero}
                          for p in self.points}}

    def metrics(self, point: CurvePoint) -> dict[str, float]:
        """One step's MLflow metrics (logged at that step): ``<set>/track5[_low|_high]``, ``<set>/change_vs_base…``."""
        base, change = f"{self.name}/{METRIC}", f"{self.name}/change_vs_base"
        return {base: point.score.point, f"{base}_low": point.score.low, f"{base}_high": point.score.high,
                change: point.change.point, f"{change}_low": point.change.low, f"{change}_high": point.change.high}


def set_curve(name: str, questions: Sequence[Question], scored: Mapping[int, Scored]) -> SetCurve:
    """The curve of one set: ``scored`` maps each step (0 included: the base) to its ScoreReport (or per-sample
    rows) on ``questions``, in this order."""
    if 0 not in scored:
        raise ValueError("step 0 (the base model) is the reference of every change: score it too")
    points = [CurvePoint(step, interval(questions, scored[step], METRIC, N_RESAMPLES, SEED),
                         paired_difference(questions, scored[step], scored[0], METRIC, N_RESAMPLES, SEED))
              for step in sorted(scored)]
    mde = minimum_detectable_difference(questions, scored[0], None, METRIC, N_RESAMPLES, SEED)
    return SetCurve(name, len(questions), mde, points)


def legend() -> str:
    return (f"Track 5 with its 95% interval (bootstrap over questions stratified by task, {N_RESAMPLES:,} "
            "resamples); each change is to step 0 (the base model) on the same questions, its interval paired. "
            "* the change's interval excludes 0.")


def plot_curves(curves: Sequence[SetCurve], path: Path, title: str) -> Path:
    """Two panels sharing the step axis: Track 5 with its interval band, one line per set; and each step's
    paired change to the base with its band, where the first step whose interval excludes 0 is marked."""
    import matplotlib

    matplotlib.use("Agg")  # no display on CI or servers
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 6.5), sharex=True, height_ratios=[3, 2])
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, curve in enumerate(curves):
        color = colors[index % len(colors)]
        steps = [p.step for p in curve.points]
        top.plot(steps, [p.score.point for p in curve.points], "o-", color=color, label=f"{curve.name} ({curve.n} q)")
        top.fill_between(steps, [p.score.low for p in curve.points], [p.score.high for p in curve.points],
                         color=color, alpha=0.15, linewidth=0)
        bottom.plot(steps, [p.change.point for p in curve.points], "o-", color=color)
        bottom.fill_between(steps, [p.change.low for p in curve.points], [p.change.high for p in curve.points],
                            color=color, alpha=0.15, linewidth=0)
        if (first := curve.first_change) is not None:
            for axis, value in ((top, first.score.point), (bottom, first.change.point)):
                axis.plot([first.step], [value], marker="*", markersize=16, color=color, markeredgecolor="black",
                          linestyle="none")
            bottom.annotate(f"{curve.name}: step {first.step}", (first.step, first.change.point),
                            textcoords="offset points", xytext=(6, 6), fontsize=8, color=color)
    bottom.axhline(0.0, color="grey", linewidth=0.8, linestyle="--")
    top.set_ylabel("Track 5 (95% CI)")
    top.set_title(title)
    top.legend(fontsize=8, loc="best")
    bottom.set_ylabel("change vs base (paired 95% CI)")
    bottom.set_xlabel("training steps (★ first step whose change excludes 0)")
    steps = sorted({p.step for curve in curves for p in curve.points})
    bottom.set_xticks(steps)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
