"""Score reports of several variants (prompt strategies, base models) side by side.

A row holds what a comparison needs from one ``ScoreReport``: the score per task type with its parse
failures, Track 5, the mean over tasks, and the run's time. ``format_comparison`` lays rows out as a
Markdown table (task types down, variants across; each cell "score (parse failures)");
``comparison_chart`` draws the headline score per variant.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shoplm.shopbench.records import TASK_TYPES
from shoplm.shopbench.scoring import ScoreReport


def comparison_row(report: ScoreReport, runtime_s: float) -> dict[str, Any]:
    failures: Counter[str] = Counter()
    for task in report.tasks.values():
        failures[task.task_type] += task.parse_failures
    return {"task_types": dict(report.task_types),
            "parse_failures_by_type": {t: failures[t] for t in report.task_types},
            "track5": report.track5, "mean_over_tasks": report.mean_over_tasks,
            "parse_failures": report.parse_failures, "n": report.n, "runtime_s": runtime_s}


def format_comparison(rows: Mapping[str, Mapping[str, Any]], variant: str) -> str:
    """Markdown: one column per variant; task-type cells read "score (parse failures)"."""
    labels = list(rows)
    types = [t for t in TASK_TYPES.names() if any(t in r["task_types"] for r in rows.values())]
    lines = [f"| {variant} → | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for task_type in types:
        cells = [f"{r['task_types'][task_type]:.4f} ({r['parse_failures_by_type'][task_type]})"
                 if task_type in r["task_types"] else "–" for r in rows.values()]
        lines.append(f"| {task_type} | " + " | ".join(cells) + " |")
    for key, label, fmt in (("track5", "**track 5**", "{:.4f}"), ("mean_over_tasks", "mean over tasks", "{:.4f}"),
                            ("parse_failures", "parse failures", "{}"), ("n", "questions", "{}"),
                            ("runtime_s", "generation s", "{:.1f}")):
        lines.append(f"| {label} | " + " | ".join(fmt.format(r[key]) for r in rows.values()) + " |")
    return "\n".join(lines) + "\n\nCells: score (parse failures) per task type."


def comparison_metrics(rows: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """Flat ``<variant>/<number>`` metrics for the parent MLflow run (each child run has its own)."""
    from shoplm.tracking import metric_name

    metrics = {}
    for label, row in rows.items():
        metrics[metric_name(label, "track5")] = float(row["track5"])
        metrics[metric_name(label, "parse_failures")] = float(row["parse_failures"])
        for task_type, value in row["task_types"].items():
            metrics[metric_name(label, "task_types", task_type)] = float(value)
    return metrics


def comparison_chart(rows: Mapping[str, Mapping[str, Any]], path: Path, title: str) -> Path:
    """Grouped bars: score per task type and Track 5, one colour per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    types = [t for t in TASK_TYPES.names() if any(t in r["task_types"] for r in rows.values())]
    groups = [*types, "track5"]
    x = np.arange(len(groups))
    width = 0.8 / max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(max(7, 1.4 * len(groups)), 3.8))
    for i, (label, row) in enumerate(rows.items()):
        values = [row["task_types"].get(t, 0.0) for t in types] + [row["track5"]]
        bars = ax.bar(x + (i - (len(rows) - 1) / 2) * width, values, width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=6)
    ax.set_xticks(x, [g.replace("named_entity_recognition", "NER") for g in groups], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=min(len(rows), 4))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
