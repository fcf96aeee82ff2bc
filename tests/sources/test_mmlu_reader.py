from __future__ import annotations

import pytest

from shoplm.sources import SourceError, read_mmlu
from shoplm.sources.mmlu import COLUMNS

from .conftest import COMPOSED


def test_reads_sample(sample_root):
    result = read_mmlu(sample_root / "mmlu")
    frame = result.frame
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 27 + COMPOSED["mmlu_test"] and result.skipped == 0
    splits = frame.groupby("split").size().to_dict()
    assert splits == {"auxiliary_train": 3, "dev": 6, "test": 18 + COMPOSED["mmlu_test"]}
    test = frame[frame["split"] == "test"]
    assert test.groupby("subject").size().to_dict() == {
        subject: 6 + COMPOSED["mmlu_test_per_subject"][subject]
        for subject in ("high_school_microeconomics", "marketing", "nutrition")}
    assert set(frame["answer"]) <= {"A", "B", "C", "D"}
    assert set(frame[frame["split"] == "auxiliary_train"]["subject"]) == {"arc_easy"}
    first = frame[(frame["subject"] == "marketing") & (frame["split"] == "dev")].iloc[0]
    assert first["B"] == "A loss leader" and first["answer"] == "B"


def test_paths_and_filters(sample_root):
    data = sample_root / "mmlu" / "data"
    assert len(read_mmlu(data, splits="test").frame) == 18 + COMPOSED["mmlu_test"]
    assert len(read_mmlu(data / "dev").frame) == 6
    one = read_mmlu(data / "test" / "nutrition_test.csv").frame
    assert set(one["subject"]) == {"nutrition"} and set(one["split"]) == {"test"}
    marketing = read_mmlu(data, subjects=["marketing"], splits=["dev", "test"]).frame
    assert len(marketing) == 8 + COMPOSED["mmlu_test_per_subject"]["marketing"]
    assert len(read_mmlu(data, limit=10).frame) == 10
    with pytest.raises(ValueError, match="known"):
        read_mmlu(data, subjects="marketting")
    with pytest.raises(ValueError, match="known"):
        read_mmlu(data, splits="train")


def test_corrupted_rows(copy_sample):
    folder = copy_sample("mmlu")
    path = folder / "data" / "test" / "marketing_test.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].rstrip("\n")[:-1] + "E\n"
    lines[3] = "Only a question,and,three,choices\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(SourceError) as info:
        read_mmlu(folder)
    assert "marketing_test.csv: line 2: field 'answer'" in str(info.value)
    result = read_mmlu(folder, on_error="skip")
    assert len(result.frame) == 25 + COMPOSED["mmlu_test"] and result.skipped == 2
    assert "line 4" in result.errors[1] and "expected 6 fields" in result.errors[1]
