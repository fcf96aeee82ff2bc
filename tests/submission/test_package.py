"""A written package imports in a fresh process with the project off its path, honours the
multiple-choice flag, and answers exactly as the evaluate stage's code does for the same model, under
the same constraints, which the check lists."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shoplm.evaluation import run_zero_shot
from shoplm.inference.backends import backend_options, create_backend, open_backend
from shoplm.inference.constraints import active_constraints
from shoplm.params.evaluate import EvaluateSection
from shoplm.params.generation import GenerationSettings
from shoplm.shopbench.records import load_questions
from shoplm.submission.check import check_submission
from shoplm.submission.report import format_check
from shoplm.submission.tracks import SUBMISSION_TRACKS
from shoplm.submission.writer import PackageSpec, resolve_model, write_package
from tests.forged import FORGED_QUESTION, LITERAL

SETTINGS = GenerationSettings()


def _spec(backend: str, **kwargs) -> PackageSpec:
    return PackageSpec(track=SUBMISSION_TRACKS.get("track2"), backend=backend, generation=SETTINGS,
                       batch_size=16, commit="abc1234", **kwargs)


def _call_user_model(package: Path, prompts: list[str], is_multiple_choice: bool) -> list[str]:
    """What the evaluator gets: a fresh interpreter in the package, no PYTHONPATH."""
    code = ("import json, sys\nfrom models.user_config import UserModel\nm = UserModel()\n"
            f"print(json.dumps(m.batch_predict({{'prompt': {prompts!r}}}, {is_multiple_choice})))")
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=package, env=env, capture_output=True, text=True,
                          check=True, timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_package_has_the_starter_kit_layout(tmp_path):
    out = write_package(tmp_path / "dist/submission-track2", _spec("echo", authors=["me"]))
    assert json.loads((out / "aicrowd.json").read_text()) == {
        "challenge_id": "amazon-kdd-cup-24-shopping-knowledge-reasoning", "authors": ["me"], "gpu": True,
        "description": "the echo backend (no model)"}
    for name in ("models/user_config.py", "requirements.txt", "apt.txt", "Dockerfile", ".gitattributes",
                 "shoplm/submission/predictor.py", "shoplm/inference/transformers_backend.py"):
        assert (out / name).is_file(), name
    assert not (out / "shoplm/config.py").exists() and not (out / "shoplm/tracking.py").exists()  # no pipeline code
    assert all("==" in line for line in (out / "requirements.txt").read_text().splitlines() if not line.startswith("#"))
    assert [p.name for p in tmp_path.joinpath("dist").iterdir()] == ["submission-track2"]  # no scratch left


def test_the_multiple_choice_flag_reaches_the_classifier(tmp_path):
    # The echo backend answers with the question's first max_new_tokens words: 2 for multiple-choice.
    out = write_package(tmp_path / "pkg", _spec("echo"))
    prompt = "Which of these is a shoe? 0. hat 1. boot 2. scarf 3. glove Answer:"
    assert _call_user_model(out, [prompt], True) == ["Which of"]
    assert _call_user_model(out, [prompt, prompt], False) == [" ".join(prompt.split()[:50])] * 2


def test_the_harness_matches_the_evaluate_code_on_the_echo_backend(tmp_path, many_mc_questions_file):
    questions = load_questions(many_mc_questions_file)
    expected = run_zero_shot(questions, create_backend("echo"), SETTINGS).predictions
    out = write_package(tmp_path / "pkg", _spec("echo"))
    result = check_submission(out, questions, reference=expected)
    assert result.ok, result.failures
    assert result.differing == 0
    assert {len(b.indices) for b in result.batches} >= {1, 7, 16}
    assert Path(result.shoplm_file).resolve().is_relative_to((out / "shoplm").resolve())  # the vendored copy


@pytest.fixture(scope="module")
def tiny_package(tiny_base_dir, tmp_path_factory) -> Path:
    spec = _spec("transformers", source=resolve_model(tiny_base_dir),
                 backend_options={"dtype": "float32", "batch_size": SETTINGS.batch_size,
                                  "max_input_tokens": SETTINGS.max_input_tokens})
    return write_package(tmp_path_factory.mktemp("tiny") / "submission-track2", spec)


@pytest.mark.slow
def test_a_tiny_model_package_reproduces_the_evaluate_answers(tiny_package, tiny_base_dir, many_mc_questions_file):
    questions = load_questions(many_mc_questions_file)
    with create_backend("transformers", model_dir=tiny_base_dir, batch_size=SETTINGS.batch_size,
                        show_progress=False) as backend:
        expected = run_zero_shot(questions, backend, SETTINGS).predictions
    result = check_submission(tiny_package, questions, reference=expected)
    assert result.ok, result.failures
    assert {len(b.indices) for b in result.batches if b.task_type == "multiple-choice"} == {1, 7, 16}
    assert sorted(p.name for p in (tiny_package / "models/weights").iterdir()) == sorted(
        p.name for p in tiny_base_dir.iterdir() if p.is_file())
    config = json.loads((tiny_package / "models/shoplm_package.json").read_text())
    assert config["backend_options"]["model_dir"] == "models/weights"  # relative: the package can move


@pytest.mark.slow
def test_a_package_decodes_under_the_evaluate_constraints_and_the_check_lists_them(tiny_base_dir, tmp_path,
                                                                                    many_mc_questions_file):
    pytest.importorskip("xgrammar", reason="the transformers backend matches answer shapes with xgrammar")
    evaluate = EvaluateSection()  # backend transformers under the default constraints, as the 4-bit package ships
    out = write_package(tmp_path / "pkg", _spec("transformers", source=resolve_model(tiny_base_dir),
                                                backend_options=backend_options(evaluate)))
    questions = load_questions(many_mc_questions_file)
    with open_backend(evaluate, lambda: tiny_base_dir) as backend:
        expected = run_zero_shot(questions, backend, evaluate.generation).predictions
    result = check_submission(out, questions, reference=expected)
    assert result.ok, result.failures
    assert result.report is not None and result.report.parse_failures == 0  # every shaped answer parses
    assert result.decoding == {"backend": "transformers", "constraints": active_constraints(evaluate.constraints)}
    assert set(result.decoding["constraints"]) == {"multiple-choice", "ranking", "retrieval",
                                                   "named_entity_recognition", "keyphrase", "generation"}
    assert "decoding      backend transformers, constraints: per answer kind\n" \
           "  multiple-choice            shape: one option index\n" in format_check(result, 10)


@pytest.mark.slow
def test_the_package_reads_special_token_text_in_a_prompt_as_text(tiny_package):
    """The evaluator's prompts are untrusted: the vendored encoder gives the model only the template's markers."""
    code = f"""
import json
import shoplm
from models.user_config import UserModel
m = UserModel()
seen, encode = [], m.backend.encode
m.backend.encode = lambda request: seen.append(encode(request)) or seen[-1]
answers = m.batch_predict({{"prompt": [{FORGED_QUESTION!r}]}}, True)
tok = m.backend.tokenizer
print(json.dumps({{"shoplm": shoplm.__file__, "answers": answers, "text": tok.decode(seen[0], skip_special_tokens=True),
                  "markers": [seen[0].count(tok.convert_tokens_to_ids(t)) for t in ("<|im_start|>", "<|im_end|>")]}}))
"""
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tiny_package, env=env, capture_output=True, text=True,
                          check=True, timeout=300)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(out["shoplm"]).resolve().is_relative_to(tiny_package.resolve())  # the vendored copy ran
    assert out["markers"] == [3, 2] and LITERAL in out["text"] and len(out["answers"]) == 1
