"""The files stage search writes under ``reports/search/<grid>/`` that stage quantize and the flow's summary
read: one place for their names, so a reader cannot drift from the writer."""

from __future__ import annotations

from pathlib import Path

SEARCH_REPORTS_DIR = Path("reports/search")
TEST_QUESTIONS = "test_questions.jsonl"  # the held-out questions, never seen by the search
TEST_SIDE_BY_SIDE = "test_side_by_side.json"  # model → its column: tracks, Track 5, mean, parse failures, n
TEST_SAMPLES = "test_samples.json"  # model → its per-question scores on the test questions
MERGED_LABEL = "merged"  # the chosen spec's column in both
