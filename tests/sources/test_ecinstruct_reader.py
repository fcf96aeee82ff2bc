from __future__ import annotations

import json

import pytest

from shoplm.sources import SourceError, read_ecinstruct
from shoplm.sources.ecinstruct import COLUMNS, TASKS, parse_options

from .conftest import COMPOSED

# Seed 003, Table 7 rows 11-19 (and 28, built from Sentiment_Analysis reviews).
TABLE7_TASKS = {
    "Attribute_Value_Extraction", "Multiclass_Product_Classification", "Product_Relation_Prediction",
    "Query_Product_Rank", "Sequential_Recommendation", "Answerability_Prediction",
    "Product_Matching", "Product_Substitute_Identification", "Sentiment_Analysis",
}


def test_reads_sample(sample_root):
    result = read_ecinstruct(sample_root / "ecinstruct")
    frame = result.frame
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 31 + COMPOSED["ecinstruct"] and result.skipped == 0
    assert TABLE7_TASKS <= set(frame["task"]) <= set(TASKS)
    assert frame.groupby("task").size().min() >= 2
    assert set(frame["split"]) == {"train", "val", "test"}
    sentiment = frame[frame["task"] == "Sentiment_Analysis"]
    assert sentiment["options"].iloc[0][0] == "A: very positive"
    assert sorted(o[0] for o in sentiment["output"].iloc[:5]) == ["A", "B", "C", "D", "E"]  # the hand-written ones
    assert set(o[0] for o in sentiment["output"]) == {"A", "B", "C", "D", "E"}
    recommend = frame[frame["task"] == "Sequential_Recommendation"].iloc[0]
    assert len(recommend["options"]) == 5  # parsed from a Python list repr
    classify = frame[frame["task"] == "Multiclass_Product_Classification"].iloc[0]
    assert classify["input_fields"] == {"query": "wireless mouse",
                                        "product title": "Keyline USB Wired Optical Mouse, 1000 DPI"}
    assert frame[frame["task"] == "Query_Product_Rank"]["options"].isna().all()
    shots = frame[frame["setting"].str.endswith("1-shot")]
    assert len(shots) == 1 and json.loads(shots.iloc[0]["few_shot_example"])["output"]
    assert frame["few_shot_example"].isna().sum() == 30 + COMPOSED["ecinstruct"]


def test_filters_and_limit(sample_root):
    path = sample_root / "ecinstruct" / "dataset.json"
    sentiment = read_ecinstruct(path, tasks="Sentiment_Analysis").frame
    assert len(sentiment) == 5 + COMPOSED["ecinstruct_per_task"]["Sentiment_Analysis"]
    train = read_ecinstruct(path, splits="train", settings=["IND_Diverse_Instruction"]).frame
    assert len(train) == 10 + COMPOSED["ecinstruct"] and set(train["split"]) == {"train"}
    assert len(read_ecinstruct(path, limit=4).frame) == 4
    with pytest.raises(ValueError, match="Sentiment_Analysis"):
        read_ecinstruct(path, tasks="Sentiment")


def test_json_lines_and_legacy_layout(sample_root, tmp_path):
    records = json.loads((sample_root / "ecinstruct" / "dataset.json").read_text("utf-8"))
    lines = tmp_path / "dataset.jsonl"
    lines.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    expected = read_ecinstruct(sample_root / "ecinstruct").frame
    assert read_ecinstruct(lines).frame.equals(expected)

    legacy = tmp_path / "ECInstruct" / "Product_Matching" / "IND_Diverse_Instruction"
    legacy.mkdir(parents=True)
    bare = [{k: r[k] for k in ("instruction", "input", "output")}
            for r in records if r["task"] == "Product_Matching"]
    (legacy / "test.json").write_text(json.dumps(bare, indent=4), encoding="utf-8")
    frame = read_ecinstruct(tmp_path / "ECInstruct").frame
    assert len(frame) == 3 + COMPOSED["ecinstruct_per_task"]["Product_Matching"]
    assert set(zip(frame["task"], frame["setting"], frame["split"])) == {
        ("Product_Matching", "IND_Diverse_Instruction", "test")}


def test_corrupted_array_and_lines(copy_sample, tmp_path):
    folder = copy_sample("ecinstruct")
    path = folder / "dataset.json"
    records = json.loads(path.read_text("utf-8"))
    del records[4]["output"]
    records[6]["options"] = 3
    path.write_text(json.dumps(records), encoding="utf-8")
    with pytest.raises(SourceError) as info:
        read_ecinstruct(folder)
    assert "dataset.json: row index 4: field 'output': missing" in str(info.value)
    result = read_ecinstruct(folder, on_error="skip")
    assert len(result.frame) == 29 + COMPOSED["ecinstruct"] and result.skipped == 2
    assert "row index 6" in result.errors[1] and "'options'" in result.errors[1]

    lines = tmp_path / "broken.jsonl"
    lines.write_text(json.dumps(records[0]) + "\n[1, 2\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"broken\.jsonl: line 2: not valid JSON"):
        read_ecinstruct(lines)

    path.write_text("[{\"task\": ", encoding="utf-8")
    for policy in ("raise", "skip"):
        with pytest.raises(SourceError, match="not valid JSON"):
            read_ecinstruct(folder, on_error=policy)


def test_parse_options():
    assert parse_options(None) is None and parse_options("") is None
    assert parse_options(["A: x", "B: y"]) == ["A: x", "B: y"]
    assert parse_options('["A: x", "B: y"]') == ["A: x", "B: y"]
    assert parse_options("['A: x', \"B: it's\"]") == ["A: x", "B: it's"]
