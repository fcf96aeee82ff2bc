"""Honest evidence for the task-type classifier: its accuracy on questions that carry a gold task type.

The rules of :mod:`shoplm.shopbench.tasktype` were written against the 96 development questions, where
they score 100%; that is no estimate for the hidden tasks. The ``build`` stage's questions come from
public data through the builders, each with its gold type, so every build reports the classifier's
accuracy per builder and a confusion table (``data/processed/<mixture>/tasktype.md``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from shoplm.shopbench.tasktype import classify_task_type_with_rule

def classifier_report(questions: Iterable, groups: Iterable[str]) -> dict:
    """How well :func:`classify_task_type` recovers the gold ``task_type`` of labelled questions.

    ``groups`` names each question's origin (its builder). Returns ``per_group`` (n, correct, accuracy,
    the rules that decided and those that misfired), ``overall``, ``without_flag`` (the questions the
    multiple-choice flag does not decide, where the wording rules do the work) and ``confusion`` (gold
    type → predicted type → count). Questions built from public data carry their task type, so they
    give an estimate on prompts the rules were not written against, unlike the development set.
    """
    per_group: dict[str, dict] = {}
    confusion: dict[str, Counter] = {}
    for question, group in zip(questions, groups, strict=True):
        predicted, rule = classify_task_type_with_rule(question.input_field, question.is_multiple_choice)
        row = per_group.setdefault(group, {"n": 0, "correct": 0, "rules": Counter(), "misfired_rules": Counter()})
        row["n"] += 1
        row["rules"][rule] += 1
        row["correct"] += predicted == question.task_type
        if predicted != question.task_type:
            row["misfired_rules"][f"{rule}→{predicted}"] += 1
        confusion.setdefault(question.task_type, Counter())[predicted] += 1
    def summary(rows: list[dict]) -> dict:
        n, correct = sum(r["n"] for r in rows), sum(r["correct"] for r in rows)
        return {"n": n, "correct": correct, "accuracy": round(correct / n, 4) if n else None}

    return {
        "overall": summary(list(per_group.values())),
        "without_flag": summary([r for r in per_group.values() if set(r["rules"]) != {"multiple_choice_flag"}]),
        "per_group": {group: {**summary([r]), "rules": dict(sorted(r["rules"].items())),
                              "misfired_rules": dict(sorted(r["misfired_rules"].items()))}
                      for group, r in sorted(per_group.items())},
        "confusion": {gold: dict(sorted(row.items())) for gold, row in sorted(confusion.items())},
    }


def confusion_markdown(report: dict, title: str = "Task-type classifier") -> str:
    """The report of :func:`classifier_report` as two Markdown tables (per builder, then confusion)."""
    overall, without_flag = report["overall"], report["without_flag"]
    lines = [f"# {title}", "",
             f"Overall: {overall['correct']}/{overall['n']} ({overall['accuracy']}); builders whose questions "
             f"the multiple-choice flag does not decide: {without_flag['correct']}/{without_flag['n']} "
             f"({without_flag['accuracy']})", "",
             "| builder | n | correct | accuracy | deciding rules | misfired rules |", "|---|---:|---:|---:|---|---|"]
    for group, row in report["per_group"].items():
        rules, misfired = (", ".join(f"{rule} ×{count}" for rule, count in row[key].items())
                           for key in ("rules", "misfired_rules"))
        lines.append(f"| {group} | {row['n']} | {row['correct']} | {row['accuracy']:.3f} | {rules} | {misfired} |")
    predicted_types = sorted(set(report["confusion"]) | {p for row in report["confusion"].values() for p in row})
    lines += ["", "Rows: gold task type; columns: predicted.", "",
              "| gold \\ predicted | " + " | ".join(predicted_types) + " |",
              "|---|" + "---:|" * len(predicted_types)]
    for gold, row in report["confusion"].items():
        lines.append(f"| {gold} | " + " | ".join(str(row.get(p, 0)) for p in predicted_types) + " |")
    return "\n".join(lines) + "\n"
