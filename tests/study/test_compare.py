"""The comparison table and chart put variants side by side with scores and parse failures."""

from __future__ import annotations

from pathlib import Path

from shoplm.shopbench.answers import render_gold
from shoplm.shopbench.records import load_questions
from shoplm.shopbench.scoring import score
from shoplm.study.compare import comparison_chart, comparison_metrics, comparison_row, format_comparison

REPO = Path(__file__).resolve().parents[2]
MC_AND_RANKING = [q for q in load_questions(REPO / "data/sample/shopbench/questions.jsonl")
                  if q.task_type in ("multiple-choice", "ranking")]


def test_rows_hold_scores_and_parse_failures_per_task_type(tmp_path):
    perfect = comparison_row(score(MC_AND_RANKING, [render_gold(q) for q in MC_AND_RANKING]), runtime_s=1.0)
    unparsable = comparison_row(score(MC_AND_RANKING, ["none" for _ in MC_AND_RANKING]), runtime_s=2.5)
    n_mc = sum(q.task_type == "multiple-choice" for q in MC_AND_RANKING)
    assert perfect["task_types"]["multiple-choice"] == 1.0 and perfect["parse_failures"] == 0
    assert unparsable["parse_failures_by_type"]["multiple-choice"] == n_mc

    table = format_comparison({"gold": perfect, "none": unparsable}, "strategy")
    lines = table.splitlines()
    assert lines[0] == "| strategy → | gold | none |"
    assert f"| multiple-choice | 1.0000 (0) | 0.0000 ({n_mc}) |" in lines
    assert "| generation s | 1.0 | 2.5 |" in lines

    metrics = comparison_metrics({"gold": perfect, "k-shot": unparsable})
    assert metrics["gold/task_types/multiple-choice"] == 1.0 and metrics["k-shot/parse_failures"] >= n_mc
    png = comparison_chart({"gold": perfect, "none": unparsable}, tmp_path / "c.png", "test")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
