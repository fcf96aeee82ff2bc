from __future__ import annotations

import json

import pytest

from shoplm.sources import SourceError, read_alpaca

from .conftest import COMPOSED


def test_reads_sample(sample_root):
    result = read_alpaca(sample_root / "alpaca")
    frame = result.frame
    assert list(frame.columns) == ["instruction", "input", "output"]
    assert (frame.dtypes == "str").all()
    assert len(frame) == 20 + COMPOSED["alpaca"] and result.skipped == 0
    assert (frame["input"] == "").sum() >= 5 and (frame["input"] != "").sum() >= 5
    assert frame.iloc[1]["input"] == "this charger is super fast and tiny, love it"
    assert len(read_alpaca(sample_root / "alpaca" / "alpaca_data_cleaned.json", limit=3)) == 3


def test_corrupted_records(copy_sample):
    folder = copy_sample("alpaca")
    path = folder / "alpaca_data_cleaned.json"
    records = json.loads(path.read_text("utf-8"))
    del records[3]["output"]
    records[7]["input"] = None
    records[9] = ["not", "an", "object"]
    path.write_text(json.dumps(records, indent=4), encoding="utf-8")
    with pytest.raises(SourceError) as info:
        read_alpaca(folder)
    assert "alpaca_data_cleaned.json: row index 3: field 'output': missing" in str(info.value)
    result = read_alpaca(folder, on_error="skip")
    assert len(result.frame) == 17 + COMPOSED["alpaca"] and result.skipped == 3
    assert "row index 7: field 'input': is null" in result.errors[1]
    assert "row index 9" in result.errors[2]


def test_not_a_json_array(tmp_path):
    path = tmp_path / "alpaca_data_cleaned.json"
    path.write_text('{"instruction": "x"}', encoding="utf-8")
    with pytest.raises(SourceError, match="expected a JSON array"):
        read_alpaca(path, on_error="skip")
    path.write_text('[{"instruction": "x",', encoding="utf-8")
    with pytest.raises(SourceError, match="not valid JSON"):
        read_alpaca(tmp_path)
