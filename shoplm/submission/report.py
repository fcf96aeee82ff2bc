"""The harness's printed report and its numbers for metrics files: one table per concern, failures last.

A package that failed to import or build gets one line, its failure: it answered nothing to report."""

from __future__ import annotations

from collections import defaultdict

from shoplm.shopbench.report import format_table
from shoplm.submission.check import CheckResult


def batches_table(result: CheckResult) -> str:
    """Per task type: batches answered of planned, their sizes, and the slowest seconds per sample."""
    rows: dict[str, dict] = defaultdict(lambda: {"planned": 0, "answered": 0, "sizes": set(), "worst": 0.0})
    for batch in result.batches:
        row = rows[batch.task_type]
        row["planned"] += 1
        row["sizes"].add(len(batch.indices))
        if batch.number in result.seconds:
            row["answered"] += 1
            row["worst"] = max(row["worst"], result.seconds[batch.number] / len(batch.indices))
    lines = [f"{'task type':<26} {'batches':>9} {'sizes':<10} {'max s/sample':>12}"]
    for task_type, row in rows.items():
        sizes = ",".join(str(s) for s in sorted(row["sizes"]))
        lines.append(f"{task_type:<26} {row['answered']:>4} of {row['planned']:<2} {sizes:<10} {row['worst']:>12.2f}")
    return "\n".join(lines)


def decoding_lines(result: CheckResult) -> list[str]:
    """What answered: the backend, and the constraints active per answer kind, or "none"."""
    if result.decoding is None:
        return ["decoding      - (the package does not say which backend answers, nor its constraints)"]
    constraints = result.decoding.get("constraints") or {}
    first = f"decoding      backend {result.decoding.get('backend', '?')}, constraints: "
    if not constraints:
        return [first + "none"]
    return [first + "per answer kind"] + [f"  {kind:<26} {what}" for kind, what in constraints.items()]


def decoding_summary(result: CheckResult) -> str:
    """``decoding_lines`` as one sentence (the package README)."""
    if result.decoding is None:
        return "not reported by the package"
    constraints = result.decoding.get("constraints") or {}
    what = "; ".join(f"{kind}: {line}" for kind, line in constraints.items()) or "none"
    return f"backend `{result.decoding.get('backend', '?')}`, constraints {what}"


def format_check(result: CheckResult, seconds_per_sample: float) -> str:
    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} s"

    if result.fatal is not None:  # nothing answered: the failure alone, no table of empty answers
        return f"FAILED: {result.fatal} (in {result.package})"
    head = [f"package       {result.package}",
            f"import        {seconds(result.import_s)} (from models.user_config import UserModel, fresh process)",
            f"UserModel()   {seconds(result.init_s)}; get_batch_size() = {result.batch_size!r}",
            f"shoplm from   {result.shoplm_file or '-'}",
            *decoding_lines(result),
            f"time limit    {seconds_per_sample:g} s per sample, per batch; slowest "
            f"{result.max_seconds_per_sample():.2f} s per sample"]
    parts = ["\n".join(head), batches_table(result)]
    if result.report is not None:
        parts.append(format_table(result.report))
    if result.differing is not None:
        same = "identical to" if result.differing == 0 else f"{result.differing} different from"
        parts.append(f"answers {same} the evaluate stage's; Track 5 {result.report.track5:.4f} "  # type: ignore[union-attr]
                     f"(package) vs {result.reference_track5:.4f} (evaluate)")
    if result.failures:
        parts.append(f"FAILED: {len(result.failures)} problem(s)\n" + "\n".join(f"- {f}" for f in result.failures))
    else:
        parts.append(f"OK: {len(result.batches)} batches, every call answered in time with one string per prompt")
    return "\n\n".join(parts)


def check_metrics(result: CheckResult) -> dict[str, float]:
    """Numbers for metrics.json / MLflow."""
    out = {"n_batches": float(len(result.batches)), "failures": float(len(result.failures)),
           "max_seconds_per_sample": result.max_seconds_per_sample()}
    if result.import_s is not None:
        out.update(import_s=result.import_s, init_s=result.init_s or 0.0)
    if result.report is not None:
        out.update(track5=result.report.track5, mean_over_tasks=result.report.mean_over_tasks,
                   parse_failures=float(result.report.parse_failures))
    if result.differing is not None:
        out.update(differing_from_evaluate=float(result.differing), evaluate_track5=result.reference_track5 or 0.0)
    if result.decoding is not None:
        out["constrained_answer_kinds"] = float(len(result.decoding.get("constraints") or {}))
    return out
