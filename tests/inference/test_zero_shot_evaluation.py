"""run_zero_shot with the model-free doubles (and once with the tiny model): no scoring inside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shoplm.evaluation import EvaluationResult, run_zero_shot
from shoplm.inference import GenerationBackend, create_backend
from shoplm.params.generation import GenerationSettings

DEVELOPMENT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "shopbench" / "development.json"

QUESTIONS = [
    {"input_field": "Which fits?\n0. a\n1. b\n2. c\n3. d\nAnswer: ", "is_multiple_choice": True,
     "task_type": "multiple-choice"},
    {"input_field": "Explain the product type Handbag\nOutput: ", "is_multiple_choice": False,
     "task_type": "generation"},
    {"input_field": "Please rank the products by relevance.\n1. a\n2. b\n3. c\n4. d\n5. e\nOutput: ",
     "is_multiple_choice": False, "task_type": "retrieval"},  # gold disagrees: counted as a miss
]


def test_dummy_run_aligns_everything_with_the_questions() -> None:
    backend = create_backend("dummy", answers={"generation": "A bag. It is carried by hand. " + "word " * 30})
    result = run_zero_shot(QUESTIONS, backend)
    assert isinstance(result, EvaluationResult)
    assert result.task_types == ["multiple-choice", "generation", "ranking"]
    assert result.rules == ["multiple_choice_flag", "generation_instruction", "ranking_keyword"]
    assert result.predictions[0] == "0" and result.predictions[2] == "1,2,3,4,5"
    assert result.predictions[1] == "A bag. It is carried by hand. " + " ".join(["word"] * 30)  # no sentence end
    assert result.raw_outputs[1].endswith("word ")
    assert result.gold_task_types == ["multiple-choice", "generation", "retrieval"]
    assert result.classification_accuracy == pytest.approx(2 / 3)
    assert result.misclassified == [2]
    assert result.prediction_records() == [{"prediction": p} for p in result.predictions]
    assert result.n_questions == 3 and result.runtime_s >= 0 and result.questions_per_s > 0
    metrics = result.metrics()
    assert metrics["task_type_accuracy"] == pytest.approx(2 / 3)
    assert metrics["n_predicted_ranking"] == 1.0 and metrics["n_questions"] == 3.0
    assert len(backend.calls) == 1 and [r.max_new_tokens for r in backend.calls[0]] == [2, 50, 12]


def test_without_gold_types_there_is_no_accuracy() -> None:
    hidden = [{k: v for k, v in q.items() if k != "task_type"} for q in QUESTIONS]
    result = run_zero_shot(hidden, create_backend("dummy"))
    assert result.classification_accuracy is None and result.misclassified == []
    assert "task_type_accuracy" not in result.metrics()


def test_postprocessing_can_be_switched_off() -> None:
    settings = GenerationSettings(postprocess=False)
    result = run_zero_shot(QUESTIONS, create_backend("dummy", answers={"multiple-choice": " 1\n"}), settings)
    assert result.predictions[0] == " 1\n" == result.raw_outputs[0]


def test_a_backend_returning_the_wrong_count_fails_loudly() -> None:
    class Broken(GenerationBackend):
        def generate(self, requests):
            return ["x"]

    with pytest.raises(RuntimeError, match="returned 1 outputs for 3 requests"):
        run_zero_shot(QUESTIONS, Broken())


def test_empty_question_list() -> None:
    result = run_zero_shot([], create_backend("echo"))
    assert result.predictions == [] and result.classification_accuracy is None


@pytest.mark.skipif(not DEVELOPMENT.exists(), reason=f"development set not found at {DEVELOPMENT}")
def test_development_set_with_dummy_backend() -> None:
    questions = [json.loads(line) for line in DEVELOPMENT.read_text(encoding="utf-8").splitlines() if line.strip()]
    result = run_zero_shot(questions, create_backend("dummy"))
    assert len(result.predictions) == 96
    assert result.classification_accuracy == 1.0


@pytest.mark.skipif(not DEVELOPMENT.exists(), reason=f"development set not found at {DEVELOPMENT}")
def test_development_set_with_the_tiny_model(tiny_base_dir) -> None:
    questions = [json.loads(line) for line in DEVELOPMENT.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = questions[::8]  # 12 questions across task types keep this fast
    settings = GenerationSettings(batch_size=4)
    backend = create_backend(
        "transformers", model_dir=tiny_base_dir, batch_size=settings.batch_size, device="cpu", show_progress=False
    )
    result = run_zero_shot(questions, backend, settings)
    assert len(result.predictions) == len(questions) and result.classification_accuracy == 1.0
    assert all(isinstance(p, str) for p in result.predictions)
