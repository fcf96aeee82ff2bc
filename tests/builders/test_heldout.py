"""Held-out slices of a built mixture (``build.mixtures.<m>.heldout``) and the evaluation sets that name them
(``heldout_sets``): built on the sample sources with the smol-heldout profile's mixture, checked for size,
disjointness, decontamination and the ShopBench format; then the stages that write and copy them."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from shoplm.builders.decontam import decontaminate, tokens
from shoplm.builders.mixtures import (
    build_mixture,
    heldout_allocation,
    largest_remainder,
    track5_weights,
    write_mixture,
)
from shoplm.builders.registry import get_builder
from shoplm.params.build import MixtureSpec
from shoplm.params.profiles import resolve
from shoplm.shopbench.answers import render_gold
from shoplm.shopbench.records import load_questions
from shoplm.shopbench.scoring import score

from .conftest import REPO_ROOT, SAMPLE_QUESTIONS

PROFILE = resolve("smol-heldout", profiles_dir=REPO_ROOT / "profiles").validate()
MINIMUM = 200  # what the search needs on each side (issue 23)


@pytest.fixture(scope="module")
def sample_questions():
    return load_questions(SAMPLE_QUESTIONS)  # the profile's only file evaluation set


@pytest.fixture(scope="module")
def built(sample_frames, sample_questions):
    spec = PROFILE.build.mixtures["v7"]
    settings = PROFILE.build.decontamination
    with_slices = build_mixture(spec, sample_frames, sample_questions, settings, name="v7")
    without = build_mixture(spec.model_copy(update={"heldout": {}}), sample_frames, sample_questions, settings,
                            name="v7")
    return spec, with_slices, without


def _text(question) -> str:
    return " ".join(tokens(question.input_field))


def test_the_profile_holds_out_two_slices_of_the_training_mixture():
    assert PROFILE.build.mixtures["v7"].heldout == {"validation": 250, "test": 250}
    assert {name: (s.mixture, s.slice) for name, s in PROFILE.heldout_sets.items()} == {
        "v7-validation": ("v7", "validation"), "v7-test": ("v7", "test")}
    assert (PROFILE.search.validation_set, PROFILE.search.test_set) == ("v7-validation", "v7-test")
    assert {adapter.mixture for adapter in PROFILE.train.adapters.values()} == {"v7"}


def test_sample_sources_fill_both_slices(built):
    spec, result, _ = built
    sizes = {name: len(questions) for name, questions in result.heldout.items()}
    print(f"\nheld out of v7 on the sample sources: {sizes}; training rows: {len(result.questions)}")
    assert sizes == {"validation": 250, "test": 250} and min(sizes.values()) >= MINIMUM
    manifest = result.manifest["heldout"]
    assert {name: row["questions"] for name, row in manifest["slices"].items()} == sizes
    assert not any(row["shortfall"] for row in manifest["builders"].values())
    for name, questions in result.heldout.items():  # each builder's share, as allocated
        assert Counter(q.task_name for q in questions) == +Counter(heldout_allocation(spec)[name])


def test_slices_are_disjoint_from_each_other_and_from_training(built):
    _, result, _ = built
    validation, test = ({_text(q) for q in result.heldout[name]} for name in ("validation", "test"))
    training = {_text(q) for q in result.questions}
    assert len(validation) == len(result.heldout["validation"]) and len(test) == len(result.heldout["test"])
    assert not validation & test
    assert not (validation | test) & training


def test_slices_are_decontaminated_against_evaluation_sets_and_training_rows(built, sample_questions):
    spec, result, _ = built
    settings = PROFILE.build.decontamination
    for questions in result.heldout.values():
        groups = [q.task_name for q in questions]
        assert decontaminate(questions, sample_questions, settings, groups).total_dropped == 0
        assert decontaminate(questions, result.questions, settings, groups, large_reference=True).total_dropped == 0
    checked = result.manifest["heldout"]["decontamination"]
    assert checked["evaluation_sets"]["eval_questions"] == len(sample_questions)
    assert checked["training_rows"]["eval_questions"] == len(result.questions)


def test_the_large_reference_index_drops_what_the_full_index_drops(built):
    _, result, _ = built
    settings = PROFILE.build.decontamination
    near = result.questions[:40]  # training rows against themselves: every one is an exact match
    candidates = [*near, *result.heldout["test"][:40]]
    groups = [q.task_name for q in candidates]
    full = decontaminate(candidates, result.questions, settings, groups)
    small = decontaminate(candidates, result.questions, settings, groups, large_reference=True)
    assert full.kept_indices == small.kept_indices and full.dropped == small.dropped
    assert full.total_dropped >= 40


def test_training_rows_are_the_same_with_or_without_slices(built):
    _, result, without = built
    assert result.questions == without.questions
    assert "heldout" not in without.manifest and without.heldout == {}
    assert {k: v for k, v in result.manifest.items() if k != "heldout"} == without.manifest


def test_slices_are_shopbench_questions_their_gold_answers_score_fully(built, tmp_path):
    _, result, _ = built
    paths = write_mixture(result, tmp_path / "v7")
    for name, questions in result.heldout.items():
        assert paths[f"heldout/{name}"] == tmp_path / "v7" / "heldout" / f"{name}.jsonl"
        assert load_questions(paths[f"heldout/{name}"]) == questions  # strict: every field validated
        report = score(questions, [render_gold(q) for q in questions])
        assert report.track5 == pytest.approx(1.0) and report.parse_failures == 0
    # A rebuild without slices leaves the folder (a DVC output) empty, with no stale slice in it.
    write_mixture(build_mixture(MixtureSpec(seed=7, builders={"mmlu-mc": 3}), {"mmlu": _mmlu()}, []),
                  tmp_path / "v7")
    assert list((tmp_path / "v7" / "heldout").iterdir()) == []


def _mmlu():
    from shoplm.sources import read_source

    return read_source("mmlu").frame


def test_allocation_follows_the_training_rows():
    assert largest_remainder(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert largest_remainder(7, {"big": 30, "small": 4}) == {"big": 6, "small": 1}
    assert largest_remainder(0, {"a": 1}) == {"a": 0}
    rows = MixtureSpec(seed=1, builders={"mmlu-mc": 30, "alpaca-generation": 10}, heldout={"a": 8, "b": 4},
                       heldout_allocation="rows")
    assert heldout_allocation(rows) == {"a": {"mmlu-mc": 6, "alpaca-generation": 2},
                                        "b": {"mmlu-mc": 3, "alpaca-generation": 1}}
    # track5 (the default): one task per track here, so each gets half, whatever its training rows.
    assert heldout_allocation(rows.model_copy(update={"heldout_allocation": "track5"})) == {
        "a": {"mmlu-mc": 4, "alpaca-generation": 4}, "b": {"mmlu-mc": 2, "alpaca-generation": 2}}


def test_track5_allocation_gives_each_track_an_equal_share():
    v7 = PROFILE.build.mixtures["v7"]
    weights = track5_weights(sorted(v7.builders))
    assert sum(weights.values()) == pytest.approx(1.0)
    assert weights["mmlu-mc"] == weights["ecinstruct-answerability-mc"] == 1 / 8  # reasoning: two tasks
    assert weights["reviews-rating-mc"] == 1 / 20  # behaviour: five tasks
    per_track = Counter()
    for builder, count in heldout_allocation(v7)["validation"].items():
        per_track[get_builder(builder).track] += count
    assert max(per_track.values()) - min(per_track.values()) <= 2  # 250 questions, about 62 a track


def test_a_small_source_shares_what_it_has_among_the_slices(sample_frames):
    spec = MixtureSpec(seed=3, builders={"reviews-also-buy": 4}, heldout={"a": 60, "b": 30})
    result = build_mixture(spec, sample_frames, [], name="small")
    sizes = {name: len(q) for name, q in result.heldout.items()}
    row = result.manifest["heldout"]["builders"]["reviews-also-buy"]
    assert row["kept"] == sum(sizes.values()) < 90 and row["shortfall"] == 90 - row["kept"]
    assert sizes["a"] >= sizes["b"] > 0  # in proportion to what each slice asked for


# --- the stages: build writes the slices, eval_sets copies a held-out set into data/eval/ ----------------------

@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.delenv("SHOPLM_MLFLOW_PARENT_RUN_ID", raising=False)
    params = {"eval_sets": {"sample": str(SAMPLE_QUESTIONS)},
              "heldout_sets": {"mmlu-dev": {"mixture": "small", "slice": "dev"}},
              "ingest": {"progress": False, "sources": {"mmlu": {"path": None}}},
              "build": {"mixtures": {"small": {"seed": 1, "builders": {"mmlu-mc": 20},
                                               "heldout": {"dev": 30, "final": 20}}}}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    return tmp_path


@pytest.mark.slow
def test_build_writes_the_slices_and_eval_sets_copies_a_heldout_set(project, capsys):
    from tasks import build, eval_sets, ingest

    assert ingest.main([]) == 0
    assert eval_sets.main(["sample"]) == 0
    assert (project / "data/eval/sample.jsonl").is_file() and (project / "data/decontam/sample.jsonl").is_file()
    assert build.main(["small"]) == 0
    out = project / "data/processed/small"
    assert sorted(p.name for p in (out / "heldout").iterdir()) == ["dev.jsonl", "final.jsonl"]
    assert "held out: dev 30/30, final 20/20 questions" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["heldout"]["decontamination"]["evaluation_sets"]["eval_questions"] == 36

    assert eval_sets.main(["mmlu-dev"]) == 0
    copied = load_questions(project / "data/eval/mmlu-dev.jsonl")
    assert copied == load_questions(out / "heldout/dev.jsonl") and len(copied) == 30
    assert not (project / "data/decontam/mmlu-dev.jsonl").exists()  # training is not decontaminated against it
    assert "data/processed/small/heldout/dev.jsonl: 30 questions, 1 tasks → data/eval/mmlu-dev.jsonl" in (
        capsys.readouterr().out)

    shutil.rmtree(out)
    from shoplm.params.loader import ParamsError

    with pytest.raises(ParamsError, match=r"heldout_sets.mmlu-dev: .*not found; run `dvc repro build@small`"):
        eval_sets.main(["mmlu-dev"])


def test_the_dag_builds_before_it_copies_and_searches_after_both(tmp_path):
    from flows.plan import stage_order

    resolved = resolve("smol-heldout", profiles_dir=REPO_ROOT / "profiles")
    order = stage_order(REPO_ROOT, resolved.render("test"))
    position = {stage: i for i, stage in enumerate(order)}
    for name in ("v7-validation", "v7-test"):
        assert position["build@v7"] < position[f"heldout_sets@{name}"] < position["search@ensemble"]
    assert position["eval_sets@sample"] < position["build@v7"]
    dvc = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    assert "data/decontam" in dvc["build"]["do"]["deps"] and "data/eval" not in dvc["build"]["do"]["deps"]
    assert "data/decontam/${key}.jsonl" in dvc["eval_sets"]["do"]["outs"]
    assert dvc["heldout_sets"]["do"]["outs"] == ["data/eval/${key}.jsonl"]
    assert "data/eval" in dvc["search"]["do"]["deps"]  # the test set is read from there too


def test_heldout_paths_under_the_build_output():
    assert PROFILE.heldout_sets["v7-test"].source() == Path("data/processed/v7/heldout/test.jsonl")
