"""The arena run's report: every model's validation figures with 95% intervals, and the submission's
comparison with the best trained model and the prior (paired intervals), as Markdown.

``reports/arena/report.md`` is this text; the ensemble stage and ``make arena`` print it.
"""

from __future__ import annotations

from dataclasses import dataclass

from arena.evidence import Difference, Estimate


@dataclass(frozen=True)
class Row:
    name: str
    log_loss: Estimate
    accuracy: Estimate

    def metrics(self) -> dict[str, float]:
        """The row as metrics.json holds it (and MLflow logs it)."""
        return {"valid_log_loss": self.log_loss.point, "valid_log_loss_low": self.log_loss.low,
                "valid_log_loss_high": self.log_loss.high, "valid_accuracy": self.accuracy.point,
                "valid_accuracy_low": self.accuracy.low, "valid_accuracy_high": self.accuracy.high}


def _acc(e: Estimate) -> str:
    return f"{e.point:.3f} [{e.low:.3f}, {e.high:.3f}]"


def runs_table(rows: list[Row]) -> list[str]:
    lines = ["| run | val log loss [95% CI] | accuracy [95% CI] |", "|---|---|---|"]
    lines += [f"| {r.name} | {r.log_loss} | {_acc(r.accuracy)} |" for r in rows]
    return lines


def comparison_table(submitted: tuple[str, Estimate], others: list[tuple[str, Estimate, Difference]]) -> list[str]:
    """The submission beside other models: each one's log loss and the paired difference submission - it."""
    lines = ["| model | val log loss [95% CI] | submission − model [95% CI, paired] |", "|---|---|---|",
             f"| submission: {submitted[0]} | {submitted[1]} | |"]
    lines += [f"| {label} | {estimate} | {diff} |" for label, estimate, diff in others]
    return lines


def render(header: str, rows: list[Row], why: str, comparison: list[str]) -> str:
    return "\n".join([header, "", *runs_table(rows), "", why, "", *comparison]) + "\n"
