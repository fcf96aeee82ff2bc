"""Constraints on vs off, side by side: the score and the parse failures of each task type.

The evaluate stage answers the same questions twice, once with ``evaluate.constraints`` and once with
``ConstraintSettings.off()``, scores both with the official rules and logs this comparison: a text table
for the run's artifacts and a flat dict for ``mlflow.log_metrics``. What to expect, and why both columns
matter: a zero-shot model gains mostly by parsing (a constrained answer always parses), while a
fine-tuned one that already answers in the right format gains little, and a constraint that scored
lower than no constraint would show up here first.

    ablation = constraint_ablation(questions, predictions_on, predictions_off)
    print(ablation.table())
    mlflow.log_metrics(ablation.metrics())
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shoplm.shopbench.evidence import Difference, paired_difference
from shoplm.shopbench.records import Question
from shoplm.shopbench.scoring import ScoreReport, score

SIDES = ("off", "on")


@dataclass(frozen=True)
class AblationRow:
    """One task type (or the whole set: ``name`` "all", score = Track 5)."""

    name: str
    n: int
    score: dict[str, float]  # side ("off", "on") → score
    parse_failures: dict[str, int]

    @property
    def delta(self) -> float:
        return self.score["on"] - self.score["off"]


@dataclass(frozen=True)
class ConstraintAblation:
    """Per task type in the official order, then ``all`` (Track 5 and the total parse failures)."""

    rows: list[AblationRow]
    change: Difference | None = None  # Track 5 on - off, paired bootstrap interval (when the questions are known)

    def table(self) -> str:
        header = ["task type", "n", "score off", "score on", "change", "parse failures off", "on"]
        lines = [[row.name, str(row.n), f"{row.score['off']:.4f}", f"{row.score['on']:.4f}",
                  f"{row.delta:+.4f}", str(row.parse_failures["off"]), str(row.parse_failures["on"])]
                 for row in self.rows]
        widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]

        def render(cells: list[str]) -> str:
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

        rule = "  ".join("-" * w for w in widths)
        note = "(the 'all' row's score is Track 5: the mean of the track scores)"
        if (c := self.change) is not None:
            word = "excludes 0" if c.excludes_zero else "holds 0: inside the noise"
            note += (f"\nTrack 5 change on - off: {c.point:+.4f}, 95% CI [{c.low:+.4f}, {c.high:+.4f}] ({word}; "
                     f"paired bootstrap over the {c.n} questions, stratified by task)")
        return "\n".join([render(header), rule, *(render(line) for line in lines), note])

    def metrics(self, prefix: str = "ablation") -> dict[str, float]:
        """``ablation/{off,on}/<task type>/{score,parse_failures}``, ``ablation/change/<task type>``;
        the ``all`` row gives ``.../all/score`` (Track 5) and ``.../all/parse_failures``."""
        out: dict[str, float] = {}
        for row in self.rows:
            for side in SIDES:
                out[f"{prefix}/{side}/{row.name}/score"] = row.score[side]
                out[f"{prefix}/{side}/{row.name}/parse_failures"] = float(row.parse_failures[side])
            out[f"{prefix}/change/{row.name}"] = row.delta
        if self.change is not None:
            out.update({f"{prefix}/change/all_low": self.change.low, f"{prefix}/change/all_high": self.change.high})
        return out

    def to_dict(self) -> dict[str, Any]:
        """For a JSON artifact: one entry per row."""
        out: dict[str, Any] = {row.name: {"n": row.n, "score": row.score, "parse_failures": row.parse_failures,
                                          "change": row.delta} for row in self.rows}
        if self.change is not None:
            out["all"]["change_ci"] = [self.change.low, self.change.high]
        return out


def compare_reports(off: ScoreReport, on: ScoreReport,
                    questions: Sequence[Question] | None = None) -> ConstraintAblation:
    """The ablation of two score reports of the same questions (constraints off, then on); with the
    questions, Track 5's change carries its paired bootstrap interval."""
    reports = {"off": off, "on": on}
    if set(off.tasks) != set(on.tasks) or off.n != on.n:
        raise ValueError("the two score reports are of different questions")
    rows = []
    for task_type in on.task_types:  # the scorer's order: the official task-type order
        tasks = {side: [t for t in r.tasks.values() if t.task_type == task_type] for side, r in reports.items()}
        rows.append(AblationRow(
            name=task_type,
            n=sum(t.n for t in tasks["on"]),
            score={side: reports[side].task_types[task_type] for side in SIDES},
            parse_failures={side: sum(t.parse_failures for t in tasks[side]) for side in SIDES},
        ))
    rows.append(AblationRow("all", on.n, {side: reports[side].track5 for side in SIDES},
                            {side: reports[side].parse_failures for side in SIDES}))
    change = None if questions is None else paired_difference(questions, on, off)
    return ConstraintAblation(rows, change)


def constraint_ablation(
    questions: Sequence[Question],
    predictions_on: Sequence[str],
    predictions_off: Sequence[str],
    models: Any = None,
) -> ConstraintAblation:
    """Score both prediction lists (aligned with ``questions``) and compare them per task type.

    ``models`` is the scorer's ``MetricModels`` (embedding models for the sent-transformer metrics).
    """
    return compare_reports(score(questions, predictions_off, models), score(questions, predictions_on, models),
                           questions)
