"""The harness reports what the evaluator would trip on: exceptions, wrong counts or types, slow batches,
answers that differ from the evaluate stage's, and a folder that is no package."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoplm import cli
from shoplm.shopbench.records import load_questions
from shoplm.submission.check import check_submission, plan_batches
from shoplm.submission.report import check_metrics, format_check
from tests.submission.conftest import write_fake_package

# Answers "1" to everything: a valid, model-free package.
CONSTANT = """
class UserModel:
    def get_batch_size(self):
        return 16

    def batch_predict(self, batch, is_multiple_choice):
        return ["1" for _ in batch["prompt"]]
"""


def _package_raising_on(tmp_path: Path, task_word: str) -> Path:
    return write_fake_package(tmp_path / "pkg", f"""
        class UserModel:
            def get_batch_size(self):
                return 16

            def batch_predict(self, batch, is_multiple_choice):
                if any({task_word!r} in p for p in batch["prompt"]):
                    raise RuntimeError("model crashed on this batch")
                return ["1" for _ in batch["prompt"]]
        """)


def test_batches_group_one_task_type_and_cycle_sizes(many_mc_questions_file):
    questions = load_questions(many_mc_questions_file)
    batches = plan_batches(questions, (1, 7, 16))
    assert [len(b.indices) for b in batches if b.task_type == "multiple-choice"] == [1, 7, 16]
    for batch in batches:
        assert {questions[i].task_type for i in batch.indices} == {batch.task_type}
        assert {questions[i].is_multiple_choice for i in batch.indices} == {batch.is_multiple_choice}
    assert sorted(i for b in batches for i in b.indices) == list(range(len(questions)))


def test_a_valid_package_passes_and_is_scored(tmp_path, cheap_questions_file):
    package = write_fake_package(tmp_path / "pkg", CONSTANT)
    questions = load_questions(cheap_questions_file)
    result = check_submission(package, questions)
    assert result.ok, result.failures
    assert result.predictions == ["1"] * len(questions)
    assert result.batch_size == 16 and result.import_s is not None
    assert result.report is not None and result.report.n == len(questions)


def test_a_raising_predictor_is_reported_with_its_batch(tmp_path, cheap_questions_file):
    package = _package_raising_on(tmp_path, "rank")
    result = check_submission(package, load_questions(cheap_questions_file))
    assert not result.ok
    assert any("(ranking," in f and "batch_predict raised RuntimeError: model crashed on this batch" in f
               for f in result.failures), result.failures
    assert all(f.startswith("batch ") for f in result.failures)  # the other batches still ran
    assert any(p == "1" for p in result.predictions)


def test_a_wrong_count_or_type_is_reported_with_its_batch(tmp_path, cheap_questions_file):
    package = write_fake_package(tmp_path / "pkg", """
        class UserModel:
            def get_batch_size(self):
                return 16

            def batch_predict(self, batch, is_multiple_choice):
                if is_multiple_choice:
                    return ["1"] * (len(batch["prompt"]) + 1)
                return [1 for _ in batch["prompt"]]
        """)
    result = check_submission(package, load_questions(cheap_questions_file), sizes=(7,))
    assert any(f.startswith("batch 1 (multiple-choice, 7 prompts: questions")
               and f.endswith("batch_predict returned 8 answers for 7 prompts") for f in result.failures)
    assert any("(ranking," in f and "is not a string but int 1" in f for f in result.failures), result.failures


def test_a_batch_over_the_per_sample_limit_is_reported(tmp_path, cheap_questions_file):
    package = write_fake_package(tmp_path / "pkg", """
        import time

        class UserModel:
            def get_batch_size(self):
                return 16

            def batch_predict(self, batch, is_multiple_choice):
                if not is_multiple_choice:
                    time.sleep(0.3 * len(batch["prompt"]))
                return ["1" for _ in batch["prompt"]]
        """)
    result = check_submission(package, load_questions(cheap_questions_file), seconds_per_sample=0.2)
    slow = [f for f in result.failures if "over the limit" in f]
    assert slow and all("multiple-choice" not in f for f in slow)
    assert "(0.2 s per sample)" in slow[0]
    assert result.max_seconds_per_sample() >= 0.3


def test_a_bad_batch_size_and_an_import_error_fail(tmp_path, cheap_questions_file):
    questions = load_questions(cheap_questions_file)
    package = write_fake_package(tmp_path / "a", CONSTANT.replace("return 16", "return 17"))
    assert any("get_batch_size() returned 17" in f for f in check_submission(package, questions).failures)
    broken = write_fake_package(tmp_path / "b", "import not_installed_anywhere\n")
    result = check_submission(broken, questions)
    assert result.failures == [result.fatal] == [
        "from models.user_config import UserModel failed: ModuleNotFoundError: No module named 'not_installed_anywhere'"]
    assert result.report is None  # nothing was answered: no scores of empty answers


def test_an_import_failure_is_printed_alone_on_one_line(tmp_path, cheap_questions_file, capsys):
    broken = write_fake_package(tmp_path / "pkg", "import not_installed_anywhere\n")
    assert cli.main(["check-submission", str(broken), "--questions", str(cheap_questions_file)]) == 1
    out = capsys.readouterr().out
    assert out == (f"FAILED: from models.user_config import UserModel failed: ModuleNotFoundError: No module named "
                   f"'not_installed_anywhere' (in {broken.resolve()})\n")
    failing_init = write_fake_package(tmp_path / "init", """
        class UserModel:
            def __init__(self):
                raise OSError("models/weights: no such folder")
        """)
    assert cli.main(["check-submission", str(failing_init), "--questions", str(cheap_questions_file)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"FAILED: UserModel() failed: OSError: models/weights: no such folder (in {failing_init.resolve()})"]


def test_the_decoding_a_package_reports_is_listed_per_answer_kind(tmp_path, cheap_questions_file):
    questions = load_questions(cheap_questions_file)
    said = write_fake_package(tmp_path / "said", CONSTANT + """
    def decoding(self):
        return {"backend": "transformers", "constraints": {"multiple-choice": "shape: one option index",
                                                          "generation": "no None/none"}}
""")
    result = check_submission(said, questions)
    assert result.ok, result.failures
    text = format_check(result, 10)
    assert "decoding      backend transformers, constraints: per answer kind\n" \
           "  multiple-choice            shape: one option index\n" \
           "  generation                 no None/none\n" in text
    assert check_metrics(result)["constrained_answer_kinds"] == 2
    none = write_fake_package(tmp_path / "none", CONSTANT + """
    def decoding(self):
        return {"backend": "transformers", "constraints": {}}
""")
    assert "decoding      backend transformers, constraints: none\n" in format_check(check_submission(none, questions), 10)
    silent = check_submission(write_fake_package(tmp_path / "silent", CONSTANT), questions)
    assert silent.decoding is None and "decoding      - (the package does not say" in format_check(silent, 10)


def test_the_first_answer_that_differs_from_the_evaluate_stage_is_named(tmp_path, cheap_questions_file):
    package = write_fake_package(tmp_path / "pkg", CONSTANT)
    questions = load_questions(cheap_questions_file)
    reference = ["1"] * len(questions)
    reference[4] = reference[9] = "2"
    result = check_submission(package, questions, reference=reference)
    assert result.differing == 2
    assert f"2 answer(s) differ from the evaluate stage's; the first, question 5 ({questions[4].task_name}, " \
           f"{questions[4].task_type}): package '1', evaluate '2'" in result.failures[-1]


def test_cli_exit_codes(tmp_path, cheap_questions_file, capsys):
    good = write_fake_package(tmp_path / "good", CONSTANT)
    assert cli.main(["check-submission", str(good), "--questions", str(cheap_questions_file)]) == 0
    assert "OK: " in capsys.readouterr().out
    bad = _package_raising_on(tmp_path, "rank")
    assert cli.main(["check-submission", str(bad), "--questions", str(cheap_questions_file)]) == 1
    assert "FAILED: " in capsys.readouterr().out
    assert cli.main(["check-submission", str(tmp_path), "--questions", str(cheap_questions_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a submission package (no models/user_config.py)" in err
    missing = tmp_path / "nope.jsonl"
    assert cli.main(["check-submission", str(good), "--questions", str(missing)]) == 2


@pytest.mark.parametrize("flag", ["--help"])
def test_help_explains_the_contract(flag, capsys):
    with pytest.raises(SystemExit):
        cli.main(["check-submission", flag])
    out = " ".join(capsys.readouterr().out.split())
    assert "from models.user_config import UserModel" in out and "Exit 0" in out


def test_a_package_that_hangs_is_stopped_and_reported(tmp_path, cheap_questions_file):
    package = write_fake_package(tmp_path / "pkg", """
        import time

        class UserModel:
            def get_batch_size(self):
                return 16

            def batch_predict(self, batch, is_multiple_choice):
                time.sleep(600)
        """)
    questions = load_questions(cheap_questions_file)
    result = check_submission(package, questions, seconds_per_sample=0.01, load_timeout_s=3)
    assert result.failures[-1].startswith("the package was stopped after 3 s with 0 of ")
    assert "(the next: batch 1 (multiple-choice, 1 prompt: question " in result.failures[-1]
