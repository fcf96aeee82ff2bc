"""What the pipeline prints at the end: each score table, models side by side, and where the records are."""

from __future__ import annotations

import json
import os
from pathlib import Path

from shoplm import tracking
from shoplm.merging.reports import MERGED_LABEL, SEARCH_REPORTS_DIR, TEST_QUESTIONS, TEST_SAMPLES, TEST_SIDE_BY_SIDE
from shoplm.shopbench.comparison import Comparison, compare
from shoplm.shopbench.records import TRACK_SHORT_NAMES, load_questions

# reports/<name>/ holds an evaluation set's reports, except these folders, which other stages (and the
# arena pipeline, `make arena`) write: their metrics.json are not score reports.
STAGE_REPORT_DIRS = ("search", "quantize", "package", "prompt_ablation", "sweep", "register_model", "arena")
QUANTIZE_METRICS = "metrics.json"  # tasks/quantize.py, under reports/quantize/search-<grid>/
SCORE_TOLERANCE = 1e-9
EVAL_DIR = Path("data/eval")  # tasks/eval_sets.py
ZERO_SHOT = "zero-shot"  # tasks/evaluate.py: the reference every change is measured from


def eval_set_dirs(root: Path) -> list[Path]:
    """reports/<set>/ of every evaluation set that has reports."""
    return sorted(p for p in (root / "reports").glob("*") if p.is_dir() and p.name not in STAGE_REPORT_DIRS)


def _table(columns: dict[str, dict], rows: list[tuple[str, str]]) -> str:
    """A scores table: one column per model, one row per (label, key) of its flat column dict."""
    models = list(columns)
    width = max(len(m) for m in models + ["score"]) + 2
    lines = ["score".ljust(20) + "".join(m.rjust(width) for m in models)]
    for label, key in rows:
        values = [columns[m].get(key) for m in models]
        cells = ["-" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v)) for v in values]
        lines.append(label.ljust(20) + "".join(c.rjust(width) for c in cells))
    return "\n".join(lines)


def search_comparison(root: Path, grid: str) -> tuple[dict[str, dict], list[str]]:
    """The held-out test questions of search@<grid>: model → {<track>, track5, mean_over_tasks,
    parse_failures, n}, for zero-shot, each adapter, the searched merge and each quantized version of it
    (reports/quantize/search-<grid>/, scored there on the same questions); and warnings when the
    quantize stage's score before quantization is not the search's test score of the merge (then it was
    scored on other questions, or the models differ)."""
    rows = json.loads((root / SEARCH_REPORTS_DIR / grid / TEST_SIDE_BY_SIDE).read_text())
    columns = {model: {**row["tracks"], **{k: v for k, v in row.items() if k != "tracks"}}
               for model, row in rows.items()}
    warnings: list[str] = []
    quantize = root / "reports/quantize" / f"search-{grid}" / QUANTIZE_METRICS
    if not quantize.is_file() or MERGED_LABEL not in columns:
        return columns, warnings
    metrics = json.loads(quantize.read_text())
    before, merged = metrics.get("before/track5"), columns[MERGED_LABEL]
    if before is None:
        warnings.append(f"{quantize}: no score before quantization (quantize.eval_set is null)")
    elif abs(before - merged["track5"]) > SCORE_TOLERANCE or metrics.get("before/n", merged["n"]) != merged["n"]:
        warnings.append(f"{quantize}: track5 before quantization {before:.4f} on {metrics.get('before/n', '?')} "
                        f"questions is not the search's merged test score {merged['track5']:.4f} on {merged['n']}: "
                        f"set quantize.eval_set: search:{grid} to score on the same questions")
    methods = [k.split("/")[0] for k in metrics if k.endswith("/after/track5")]  # the kept method first
    for method in methods:
        prefix = f"{method}/after/"
        bits = int(metrics.get(f"{method}/bits", 4))
        after = {k.removeprefix(prefix): v for k, v in metrics.items() if k.startswith(prefix)}
        columns[f"{method}-{bits}bit"] = {
            **{k.removeprefix("tracks/"): v for k, v in after.items() if k.startswith("tracks/")},
            "track5": after["track5"], "mean_over_tasks": after.get("mean_over_tasks"),
            "parse_failures": int(after["parse_failures"]), "n": int(after.get("n", merged["n"]))}
    return columns, warnings


def search_grids(root: Path) -> list[str]:
    return sorted(p.parent.name for p in (root / SEARCH_REPORTS_DIR).glob(f"*/{TEST_SIDE_BY_SIDE}"))


def search_evidence(root: Path, grid: str) -> Comparison | None:
    """The held-out test questions of search@<grid>: each model's interval and its paired change to
    zero-shot (the per-question scores the search kept, test_samples.json); None before it kept them."""
    folder = root / SEARCH_REPORTS_DIR / grid
    samples, questions = folder / TEST_SAMPLES, folder / TEST_QUESTIONS
    if not samples.is_file() or not questions.is_file():
        return None
    scored = json.loads(samples.read_text(encoding="utf-8"))
    return compare(load_questions(questions), scored, reference=ZERO_SHOT) if ZERO_SHOT in scored else None


def search_table(root: Path, grid: str) -> str:
    columns, _ = search_comparison(root, grid)
    rows = [(name, name) for name in TRACK_SHORT_NAMES.values()]
    rows += [("track5-all-around", "track5"), ("mean over tasks", "mean_over_tasks"),
             ("parse failures", "parse_failures"), ("questions", "n")]
    return _table(columns, rows)


def _reports(set_dir: Path) -> dict[str, dict]:
    """model name → its metrics.json, zero-shot first, then adapters by name."""
    paths = sorted(set_dir.glob("*/metrics.json"), key=lambda p: (p.parent.name != "zero-shot", p.parent.name))
    return {p.parent.name: json.loads(p.read_text()) for p in paths}


def _samples(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def set_evidence(root: Path, set_dir: Path) -> Comparison | None:
    """The models of one evaluation set with their intervals and their paired changes to zero-shot.

    Only reports of the same questions are compared: the set's questions (data/eval/<set>.jsonl, cut to
    the reports' length when evaluate.limit cut them) and each model's samples.jsonl, checked sample by
    sample against them. None when the set has no zero-shot report or no questions file.
    """
    questions_file = root / EVAL_DIR / f"{set_dir.name}.jsonl"
    reference = set_dir / ZERO_SHOT / "samples.jsonl"
    if not questions_file.is_file() or not reference.is_file():
        return None
    scored = {ZERO_SHOT: _samples(reference)}
    questions = load_questions(questions_file)[: len(scored[ZERO_SHOT])]
    for model in _reports(set_dir):
        path = set_dir / model / "samples.jsonl"
        if model != ZERO_SHOT and path.is_file() and len(rows := _samples(path)) == len(questions):
            scored[model] = rows
    return compare(questions, scored, reference=ZERO_SHOT)


def comparison_metrics(root: Path) -> dict[str, float]:
    """Every model's headline scores per set, for the flow's parent run: compare/<set>/<model>/<score>."""
    out: dict[str, float] = {}
    for set_dir in eval_set_dirs(root):
        for model, report in _reports(set_dir).items():
            scores = {**{TRACK_SHORT_NAMES.get(t, t): v for t, v in report["tracks"].items()},
                      "track5": report.get("track5"), "mean_over_tasks": report.get("mean_over_tasks")}
            out.update({tracking.metric_name("compare", set_dir.name, model, k): float(v)
                        for k, v in scores.items() if v is not None})
        if (evidence := set_evidence(root, set_dir)) is not None:  # the intervals and the paired changes
            out.update({tracking.metric_name(k): v for k, v in evidence.metrics(f"compare/{set_dir.name}").items()})
    # The held-out test questions of each search: compare/search-<grid>/<model>/<score>.
    for grid in search_grids(root):
        for model, column in search_comparison(root, grid)[0].items():
            out.update({tracking.metric_name("compare", f"search-{grid}", model, k): float(v)
                        for k, v in column.items() if v is not None and k != "n"})
        if (evidence := search_evidence(root, grid)) is not None:
            out.update({tracking.metric_name(k): v for k, v in evidence.metrics(f"compare/search-{grid}").items()})
    return out


def side_by_side(set_dir: Path) -> str:
    """Tracks × models for one evaluation set (zero-shot first, then adapters)."""
    columns = {model: {**{TRACK_SHORT_NAMES.get(t, t): v for t, v in report["tracks"].items()}, **report}
               for model, report in _reports(set_dir).items()}
    rows = [(name, name) for name in TRACK_SHORT_NAMES.values()]
    rows += [("track5-all-around", "track5"), ("mean over tasks", "mean_over_tasks"),
             ("parse failures", "parse_failures")]
    return _table(columns, rows)


def experiment_id(root: Path) -> str:
    """The id of the experiment the flow logged to (the UI's links carry it)."""
    import mlflow

    mlflow.set_tracking_uri(tracking.tracking_uri(root))
    experiment = mlflow.get_experiment_by_name(os.environ.get(tracking.EXPERIMENT_ENV, tracking.DEFAULT_EXPERIMENT))
    return experiment.experiment_id if experiment else "0"


def print_summary(root: Path, outcomes: dict[str, str]) -> None:
    ran = [s for s, o in outcomes.items() if o == "ran"]
    print(f"\nstages: {len(outcomes)} in the DAG, {len(ran)} ran, {len(outcomes) - len(ran)} cached by DVC")
    for set_dir in eval_set_dirs(root):
        for model in _reports(set_dir):  # zero-shot first
            table = set_dir / model / "score.txt"
            print(f"\n=== {set_dir.name} · {model} ===\n{table.read_text().rstrip()}")
        if len(list(set_dir.glob("*/metrics.json"))) > 1:
            print(f"\n=== {set_dir.name}: models side by side ===\n{side_by_side(set_dir)}")
        if (evidence := set_evidence(root, set_dir)) is not None and len(evidence.rows) > 1:
            print(f"\n=== {set_dir.name}: how sure (Track 5, 95% intervals, changes paired on the same "
                  f"questions) ===\n{evidence.table()}")
            for row in evidence.rows[1:]:
                print(f"  {evidence.verdict(row.name)}")
    for grid in search_grids(root):
        print(f"\n=== held-out test questions of search@{grid}: models side by side ===\n{search_table(root, grid)}")
        for warning in search_comparison(root, grid)[1]:
            print(f"warning: {warning}")
        if (evidence := search_evidence(root, grid)) is not None:
            print(f"\n=== held-out test questions of search@{grid}: how sure (Track 5, 95% intervals, changes "
                  f"paired on the same questions) ===\n{evidence.table()}")
            for row in evidence.rows[1:]:
                print(f"  {evidence.verdict(row.name)}")
    uri = tracking.tracking_uri(root)
    print("\nMLflow runs:   ", uri)
    if uri.startswith("sqlite"):
        print("  browse with:   make ui, then open", tracking.runs_url(tracking.UI_URL, experiment_id(root)))
    else:
        print("  browse at:    ", tracking.runs_url(uri, experiment_id(root)) if uri.startswith("http")
              else "your tracking server's UI")
    api = os.environ.get("PREFECT_API_URL")
    home = os.environ.get("PREFECT_HOME", str(Path.home() / ".prefect"))
    print("Prefect runs:  ", api or f"{home}/prefect.db (temporary local server)")
    if not api:
        print("  browse with:   prefect server start --host 127.0.0.1   (same PREFECT_HOME)")
