"""The end-of-run tables, rendered from report files as the stages write them (no pipeline run)."""

from __future__ import annotations

import json
from pathlib import Path

from flows.summary import comparison_metrics, eval_set_dirs, print_summary, search_table

TRACKS = {"track1-concepts": 0.5, "track2-reasoning": 0.25}


def _column(track5: float, failures: int) -> dict:
    return {"tracks": TRACKS, "track5": track5, "mean_over_tasks": track5 / 2, "parse_failures": failures, "n": 18}


def _write(root: Path, before_track5: float = 0.4) -> None:
    search = root / "reports/search/ensemble"
    search.mkdir(parents=True)
    (search / "test_side_by_side.json").write_text(json.dumps(
        {"zero-shot": _column(0.1, 9), "v7": _column(0.2, 5), "v8": _column(0.3, 4), "merged": _column(0.4, 2)}))
    quantize = root / "reports/quantize/search-ensemble"
    quantize.mkdir(parents=True)
    (quantize / "metrics.json").write_text(json.dumps({
        "before/track5": before_track5, "before/n": 18.0, "before/parse_failures": 2.0,
        "rtn/bits": 4.0, "rtn/quantize_seconds": 0.5, "rtn/after/tracks/track1-concepts": 0.375,
        "rtn/after/track5": 0.35, "rtn/after/mean_over_tasks": 0.2, "rtn/after/parse_failures": 3.0,
        "rtn/after/n": 18.0, "rtn/after/eval_seconds": 1.5}))


def test_held_out_table_puts_base_adapters_merge_and_its_4_bit_version_side_by_side(tmp_path, capsys):
    _write(tmp_path)
    lines = search_table(tmp_path, "ensemble").splitlines()
    assert lines[0].split() == ["score", "zero-shot", "v7", "v8", "merged", "rtn-4bit"]
    rows = {line[:20].strip(): line[20:].split() for line in lines[1:]}
    assert rows["track5-all-around"] == ["0.1000", "0.2000", "0.3000", "0.4000", "0.3500"]
    assert rows["track1-concepts"][-1] == "0.3750" and rows["track3-behavior"] == ["-"] * 5
    assert rows["parse failures"] == ["9", "5", "4", "2", "3"] and rows["questions"] == ["18"] * 5

    # Stage folders are not evaluation sets (the arena's neither: `make run` after `make arena` once failed
    # on its metrics.json); the parent run gets the held-out scores too.
    arena = tmp_path / "reports/arena/baselines"
    arena.mkdir(parents=True)
    (arena / "metrics.json").write_text(json.dumps({"prior": {"log_loss": 1.1}}))
    assert eval_set_dirs(tmp_path) == []
    metrics = comparison_metrics(tmp_path)
    assert metrics["compare/search-ensemble/rtn-4bit/track5"] == 0.35
    assert metrics["compare/search-ensemble/zero-shot/track1-concepts"] == 0.5
    assert not any(k.endswith(("eval_seconds", "/n")) for k in metrics)

    print_summary(tmp_path, {"quantize": "ran"})
    out = capsys.readouterr().out
    assert "=== held-out test questions of search@ensemble: models side by side ===" in out
    assert "warning" not in out


def test_a_quantize_score_on_other_questions_is_flagged(tmp_path, capsys):
    _write(tmp_path, before_track5=0.3)
    print_summary(tmp_path, {"quantize": "ran"})
    out = capsys.readouterr().out
    assert "warning: " in out and "is not the search's merged test score 0.4000" in out
    assert "quantize.eval_set: search:ensemble" in out


def test_each_set_prints_every_model_with_its_interval_and_its_paired_change(tmp_path, capsys):
    """Reports as tasks/evaluate.py writes them: the summary puts intervals beside the scores, marks a
    change whose interval excludes 0, and refuses to compare a report of other questions."""
    import shutil

    from shoplm.shopbench.records import load_questions
    from tests.shopbench.test_comparison import SAMPLE, _samples

    (tmp_path / "data/eval").mkdir(parents=True)
    shutil.copy(SAMPLE, tmp_path / "data/eval/sample.jsonl")
    questions = load_questions(SAMPLE)
    n = len(questions)
    right = {"zero-shot": set(range(0, n, 4)), "v7": set(range(0, n, 4)) | {1}, "final": set(range(n)),
             "short": set()}
    for model, answered in right.items():
        folder = tmp_path / "reports/sample" / model
        folder.mkdir(parents=True)
        rows = _samples(questions[:10] if model == "short" else questions, answered)
        (folder / "samples.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
        (folder / "metrics.json").write_text(json.dumps({"tracks": TRACKS, "track5": 0.1, "mean_over_tasks": 0.1,
                                                         "parse_failures": 0, "n": len(rows)}))
        (folder / "score.txt").write_text("table\n")

    print_summary(tmp_path, {})
    out = capsys.readouterr().out
    table = out.split("=== sample: how sure")[1].split("===\n", 1)[1].splitlines()
    assert table[0].split()[:4] == ["model", "track5", "95%", "CI"]
    assert [line.split()[0] for line in table[1:4]] == ["zero-shot", "final", "v7"]  # "short": other questions
    assert table[2].endswith("*") and not table[3].endswith("*")
    assert f"{n} questions; paired bootstrap" in table[4]
    # Each model's verdict against the constrained base in words, as the search's are.
    assert "  final is better than zero-shot: " in out and f"on {n} questions" in out
    assert "  v7 is not told apart from zero-shot: " in out and "short is" not in out
    metrics = comparison_metrics(tmp_path)
    assert metrics["compare/sample/final/change_vs_zero-shot_low"] > 0
    v7 = "compare/sample/v7/change_vs_zero-shot"
    assert metrics[f"{v7}_low"] <= 0 < metrics[f"{v7}_high"]


def test_the_search_s_held_out_table_carries_intervals_from_its_per_question_scores(tmp_path, capsys):
    import shutil

    from shoplm.shopbench.records import load_questions
    from tests.shopbench.test_comparison import SAMPLE, _samples

    _write(tmp_path)
    folder = tmp_path / "reports/search/ensemble"
    shutil.copy(SAMPLE, folder / "test_questions.jsonl")
    n = len(load_questions(SAMPLE))
    questions = load_questions(SAMPLE)
    right = {"zero-shot": set(range(0, n, 5)), "v7": set(range(0, n, 5)), "merged": set(range(n))}
    (folder / "test_samples.json").write_text(json.dumps({m: _samples(questions, r) for m, r in right.items()}))

    print_summary(tmp_path, {"search@ensemble": "ran"})
    out = capsys.readouterr().out
    table = out.split("search@ensemble: how sure")[1].split("===\n", 1)[1].splitlines()
    assert [line.split()[0] for line in table[1:4]] == ["zero-shot", "v7", "merged"]
    assert table[3].endswith("*") and not table[2].endswith("*")
    assert "  merged is better than zero-shot: " in out and "  v7 is not told apart from zero-shot: " in out
    metrics = comparison_metrics(tmp_path)
    assert metrics["compare/search-ensemble/merged/change_vs_zero-shot_low"] > 0
