"""Named mixtures: reproducible, independent per builder, honest manifests, clear refusals."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from shoplm.builders.mixtures import build_mixture, builder_seed, detect_language, write_mixture
from shoplm.params.build import BuildSettings, DecontamSettings, MixtureSpec
from shoplm.params.ingest import IngestSettings
from shoplm.shopbench.records import load_questions

from .conftest import ESCI_BUILDERS, LLM_BUILDERS, NON_LLM_BUILDERS

SIZES = {name: 12 for name in NON_LLM_BUILDERS}


def _build(frames, eval_questions, seed=5, builders=None, tmp=None):
    spec = MixtureSpec(seed=seed, builders=builders or SIZES)
    result = build_mixture(spec, frames, eval_questions, DecontamSettings(), name="test")
    return result, (write_mixture(result, tmp) if tmp else None)


def test_seeded_builds_are_byte_identical(sample_frames, eval_questions, tmp_path) -> None:
    _, first = _build(sample_frames, eval_questions, tmp=tmp_path / "a")
    _, second = _build(sample_frames, eval_questions, tmp=tmp_path / "b")
    # Every output but metrics.json, wall clock included nowhere else: a rebuild leaves them unchanged.
    for key in ("train", "manifest", "examples", "tasktype"):
        assert first[key].read_bytes() == second[key].read_bytes(), key
    metrics = [json.loads(p["metrics"].read_text()) for p in (first, second)]
    assert set(metrics[0]["timing"]) == set(SIZES)
    assert metrics[0]["tasktype"] == metrics[1]["tasktype"]


def test_classifier_accuracy_is_reported_per_builder(sample_frames, eval_questions, tmp_path) -> None:
    result, paths = _build(sample_frames, eval_questions, tmp=tmp_path)
    per_builder = json.loads(paths["metrics"].read_text())["tasktype"]["builders"]
    kept = {name: row["kept"] for name, row in result.manifest["builders"].items() if row["kept"]}
    assert {name: row["n"] for name, row in per_builder.items()} == kept
    assert all(0 <= row["accuracy"] <= 1 for row in per_builder.values())
    table = paths["tasktype"].read_text()
    assert "| esci-query-ranking |" in table and "Rows: gold task type; columns: predicted." in table


def test_a_different_seed_gives_different_questions(sample_frames, eval_questions) -> None:
    first, _ = _build(sample_frames, eval_questions, seed=5)
    other, _ = _build(sample_frames, eval_questions, seed=6)
    assert [q.input_field for q in first.questions] != [q.input_field for q in other.questions]


def test_adding_a_builder_leaves_the_others_unchanged(sample_frames, eval_questions) -> None:
    alone, _ = _build(sample_frames, eval_questions, builders={"esci-query-ranking": 8})
    together, _ = _build(sample_frames, eval_questions,
                         builders={"esci-query-ranking": 8, "esci-brand-mc": 8, "esci-relation-mc": 4})
    ranking = sorted(q.input_field for q in together.questions if q.task_name == "esci-query-ranking")
    assert ranking == sorted(q.input_field for q in alone.questions)
    assert builder_seed(5, "esci-query-ranking") != builder_seed(5, "esci-brand-mc")


def test_manifest_counts_add_up(sample_frames, eval_questions, tmp_path) -> None:
    sizes = {**SIZES, "esci-multilingual-query-mc": 500}  # more than the sample can give
    result, paths = _build(sample_frames, eval_questions, builders=sizes, tmp=tmp_path)
    manifest = json.loads(paths["manifest"].read_text())
    rows = manifest["builders"]
    assert manifest["rows"] == len(result.questions) == len(load_questions(paths["train"]))
    assert manifest["rows"] == sum(row["kept"] for row in rows.values())
    for name, row in rows.items():
        assert row["kept"] == row["produced"] - row["dropped_decontamination"], name
        assert row["shortfall"] == row["requested"] - row["produced"] >= 0, name
        assert row["kept"] == sum(q.task_name == name for q in result.questions)
    assert rows["esci-multilingual-query-mc"]["shortfall"] > 0
    for group in ("task_types", "tracks", "languages"):
        assert sum(manifest[group].values()) == manifest["rows"], group
    assert manifest["languages"].get("ja", 0) > 0
    assert manifest["decontamination"]["checked"] == sum(row["produced"] for row in rows.values())
    assert manifest["seed"] == 5 and manifest["requested"] == sum(sizes.values())
    assert "## esci-query-ranking" in paths["examples"].read_text()


def test_unknown_builder_is_refused_with_suggestions() -> None:
    with pytest.raises(ValidationError, match="Did you mean 'esci-query-ranking'") as info:
        MixtureSpec(seed=1, builders={"esci-query-rankng": 10})
    assert "esci-brand-mc" in str(info.value)  # the known builders are listed


@pytest.mark.skipif(not LLM_BUILDERS, reason="no LLM-only builder registered")
def test_llm_row_takes_the_synth_stages_questions_and_names_that_stage_when_missing() -> None:
    import pandas as pd

    from shoplm.builders.registry import SYNTHETIC_FRAME, get_builder

    name = LLM_BUILDERS[0]
    spec = MixtureSpec(seed=1, builders={name: 10})
    with pytest.raises(KeyError, match="synth stage"):
        build_mixture(spec, {}, [])
    info = get_builder(name)
    gold = {"multiple-choice": 1, "retrieval": [1, 2, 3], "named_entity_recognition": ["a"]}.get(info.task_type, "x")
    made = [{"row": row, "input_field": f"synthesized question {i} of {row}?", "output_field": gold,
             "task_name": row, "task_type": info.task_type, "metric": info.metric,
             "is_multiple_choice": info.task_type == "multiple-choice", "track": info.track}
            for i, row in enumerate([name, name, "another-row"])]
    result = build_mixture(spec, {SYNTHETIC_FRAME: pd.DataFrame(made)}, [])
    assert sorted(q.input_field for q in result.questions) == [m["input_field"] for m in made[:2]]
    assert result.manifest["builders"][name]["shortfall"] == 8


def test_missing_frame_is_named() -> None:
    with pytest.raises(KeyError, match="needs source frame.*esci"):
        build_mixture(MixtureSpec(seed=1, builders={ESCI_BUILDERS[0]: 3}), {}, [])


def test_settings_forbid_typos() -> None:
    with pytest.raises(ValidationError, match="rows must be"):
        MixtureSpec(seed=1, builders={"esci-brand-mc": 0})
    with pytest.raises(ValidationError, match="extra"):
        BuildSettings.model_validate({"mixtures": {}, "decontaminaton": {}})
    with pytest.raises(ValidationError, match="unknown source 'escii'"):
        IngestSettings.model_validate({"sources": {"escii": {}}})
    with pytest.raises(ValidationError, match="unknown reader option"):
        IngestSettings.model_validate({"sources": {"esci": {"options": {"locale": "us"}}}})
    settings = IngestSettings.model_validate({"sources": {"esci": {"options": {"locales": "us"}}}})
    assert settings.sources["esci"].path is None and settings.sources["esci"].on_error == "raise"


@pytest.mark.parametrize("text, language", [
    ("Which of the following products best matches the query?", "en"),
    ("Product Title: Funda de silicona para iPhone 13, color azul, con forro", "es"),
    ("Product Title: Kabel für das Ladegerät und die Station, mit Stecker", "de"),
    ("Product Title: Câble pour le chargeur et les écouteurs, avec prise", "fr"),
    ("Product Title: Cavo per il caricatore della cuffia, con spina, è nero", "it"),
    ("Product Title: ワイヤレスマウス 静音", "ja"),
])
def test_detect_language(text, language) -> None:
    assert detect_language(text) == language
