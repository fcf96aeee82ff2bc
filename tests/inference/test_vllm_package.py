"""A submission package of backend vllm builds its engine exactly as the evaluate stage does (one
registry method, ``options_from``, gives both their options), so it decodes under the same constraints
and gives the same answers; where vLLM is missing it answers through transformers instead, under the
same constraints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shoplm.evaluation import run_zero_shot
from shoplm.inference.backends import backend_options
from shoplm.params.evaluate import EvaluateSection
from shoplm.params.serving import ConstraintSettings, VLLMSettings
from shoplm.shopbench.records import load_questions
from shoplm.submission import predictor
from shoplm.submission.check import check_submission
from shoplm.submission.tracks import SUBMISSION_TRACKS
from shoplm.submission.writer import PackageSpec, resolve_model, write_package

REPO = Path(__file__).resolve().parents[2]
#: Metrics that need no sentence-embedding model (choice, ranking, retrieval, NER): scored in milliseconds.
CHEAP_METRICS = {"accuracy", "hit rate@3", "ndcg", "micro f1"}


def _evaluate() -> EvaluateSection:
    # The engine settings of the session's one engine (tests/inference/conftest.py): the reference below
    # is computed on it, so the package must build an engine that decodes the same way. All but one: the
    # package's engine core runs in a process of its own (in_process false), the session's in the test's
    # process, so the answers being equal also says where the engine runs changes nothing.
    settings = VLLMSettings(enforce_eager=True, enable_lora=True, max_lora_rank=8, cpu_kvcache_space_gib=1)
    return EvaluateSection(backend="vllm", vllm=settings)


def _package(tiny_base_dir: Path, out: Path) -> Path:
    evaluate = _evaluate()
    spec = PackageSpec(track=SUBMISSION_TRACKS.get("track2"), backend="vllm", generation=evaluate.generation,
                       batch_size=16, source=resolve_model(tiny_base_dir), backend_options=backend_options(evaluate),
                       fallback_options=backend_options(evaluate, "transformers"), commit="abc1234")
    return write_package(out, spec)


def test_the_package_stores_the_evaluate_stages_engine_settings_and_constraints(tiny_base_dir, tmp_path,
                                                                                 monkeypatch):
    pytest.importorskip("vllm", reason="a vllm package pins the installed vllm")
    config = json.loads((_package(tiny_base_dir, tmp_path / "pkg") / "models/shoplm_package.json").read_text())
    options = config["backend_options"]
    assert options["constraints"] == ConstraintSettings().model_dump(mode="json")
    assert options["settings"]["enforce_eager"] is True and options["max_input_tokens"] == 3072
    assert options == {**backend_options(_evaluate()), "model_dir": "models/weights", "adapter_dir": None}

    assert predictor.choose_backend(config)[0] == "vllm"
    monkeypatch.setattr(predictor.importlib.util, "find_spec", lambda name: None)  # a machine without vLLM
    name, fallback = predictor.choose_backend(config)
    assert name == "transformers" and set(fallback) == {"dtype", "batch_size", "max_input_tokens", "model_dir",
                                                        "adapter_dir", "constraints"}
    assert fallback["constraints"] == options["constraints"]  # the fallback decodes under the same constraints


@pytest.mark.slow
@pytest.mark.vllm
def test_a_vllm_package_answers_as_the_evaluate_stage_under_the_same_constraints(vllm_engine, tiny_base_dir,
                                                                                 tmp_path):
    lines = (REPO / "data/sample/shopbench/questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions_file = tmp_path / "questions.jsonl"
    questions_file.write_text("\n".join(line for line in lines if json.loads(line)["metric"] in CHEAP_METRICS) + "\n")
    questions = load_questions(questions_file)
    evaluate = _evaluate()
    engine = vllm_engine(tiny_base_dir, dtype="float32")
    try:
        engine.constrain(evaluate.constraints)
        constrained = run_zero_shot(questions, engine, evaluate.generation).predictions
        engine.constrain(ConstraintSettings.off())
        unconstrained = run_zero_shot(questions, engine, evaluate.generation).predictions
    finally:
        engine.sampling_overrides = None  # the session's engine as the other tests expect it
    assert constrained != unconstrained  # else this test could not tell a package without constraints

    result = check_submission(_package(tiny_base_dir, tmp_path / "pkg"), questions, reference=constrained)
    assert result.ok, result.failures
    assert result.differing == 0
