"""A flow run's mistakes fail before anything runs; a failed stage says why and is retried only if transient.

Fast: no Prefect server, no pipeline run (``flows.pipeline.pipeline`` is replaced by a tripwire).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest
from prefect.states import Failed

from flows import pipeline as flow_module
from flows.pipeline import StageFailed, _retry_if_transient, main, reproduce
from tests.pipeline.conftest import copy_repository


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return copy_repository(tmp_path_factory.mktemp("repo"))


@pytest.fixture
def in_repo(repo, monkeypatch):
    monkeypatch.chdir(repo)

    def tripwire(**kwargs):
        raise AssertionError(f"the flow started: {kwargs}")

    monkeypatch.setattr(flow_module, "pipeline", tripwire)
    return repo


@pytest.mark.parametrize(("argv", "message"), [
    (["--stages", "evalute"], "unknown stage 'evalute'. Did you mean 'evaluate'"),
    (["--force", "eval_set"], "unknown stage 'eval_set'. Did you mean 'eval_sets'"),
    (["--stages", "evaluate@dev"],
     "unknown stage 'evaluate@dev'. Did you mean 'evaluate', "),  # the rest depends on the profile's stages
    (["--profile", "tiny", "--stages", "train@v9b"], "unknown stage 'train@v9b'"),
    (["--eval-set", "dev=data/missing.jsonl"], "eval_sets.dev: data/missing.jsonl: no such file"),
    (["--profile", "tny"], "unknown profile 'tny'"),
])
def test_a_bad_argument_fails_at_once_in_one_line(in_repo, capsys, argv, message):
    before = (in_repo / "params.yaml").read_bytes()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert (in_repo / "params.yaml").read_bytes() == before


def test_a_bad_eval_set_name_is_refused_at_once_naming_the_option(repo):
    """``--eval-set NAME=PATH`` is checked as the command line is read, before Prefect and MLflow load."""
    env = {**os.environ, "PYTHONPATH": str(repo)}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "flows.pipeline", "--eval-set", "a b=x.jsonl"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.splitlines() == [
        "error: --eval-set a b=x.jsonl: set name 'a b': use letters, digits, '-' and '_' only"]
    assert took < 10, f"{took:.1f} s: importing Prefect alone takes longer on a loaded 2-core machine"


@pytest.mark.parametrize(("argv", "message"), [
    (["--eval-set", "dev"], "error: --eval-set dev: takes NAME=PATH"),
    (["--eval-set", "dev="], "error: --eval-set dev=: set 'dev': path must be a non-empty string"),
])
def test_a_malformed_eval_set_names_the_option(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines() == [message]


def test_a_bad_eval_sets_parameter_is_named_as_such(repo):
    """A deployment run has no command line: its ``eval_sets`` parameter is named, not params.yaml."""
    from flows.plan import plan_run
    from shoplm.params.loader import ParamsError

    with pytest.raises(ParamsError, match=r"^eval_sets parameter: set name 'a;b'"):
        plan_run(repo, eval_sets={"a;b": "data/sample/shopbench/questions.jsonl"})


def test_stage_names_follow_the_run_params(repo):
    from flows.plan import plan_run

    plan = plan_run(repo, eval_sets={"dev": "data/sample/shopbench/questions.jsonl"}, stages=["evaluate@dev"])
    assert plan.selected == ["evaluate@dev"]
    assert "evaluate@sample" in plan.order  # --eval-set adds a set, the params' own stay
    assert "dev: data/sample/shopbench/questions.jsonl" in plan.params_text


@pytest.fixture
def dvc_repo(tmp_path):
    """A one-stage DVC project whose command does what the test writes into step.py."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([flow_module.sys.executable, "-m", "dvc", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "dvc.yaml").write_text("stages:\n  step:\n    cmd: python step.py\n    deps: [step.py]\n")
    return tmp_path


def _step(folder, body):
    (folder / "step.py").write_text(textwrap.dedent(body))


def test_a_user_error_fails_with_its_own_line_and_is_not_retried(dvc_repo):
    _step(dvc_repo, """
        import sys
        print("error: data/eval/dev.jsonl:3: input_field: field required", file=sys.stderr)
        sys.exit(2)
    """)
    with pytest.raises(StageFailed) as failed:
        reproduce("step", force=False, log=lambda line: None, cwd=dvc_repo)
    assert failed.value.exit_code == 2
    assert failed.value.error == "data/eval/dev.jsonl:3: input_field: field required"
    assert _retry_if_transient(None, None, Failed(data=failed.value)) is False


def test_a_crash_may_be_transient_and_is_retried(dvc_repo):
    _step(dvc_repo, "raise MemoryError('out of memory')\n")
    with pytest.raises(StageFailed) as failed:
        reproduce("step", force=False, log=lambda line: None, cwd=dvc_repo)
    assert failed.value.exit_code == 1
    assert _retry_if_transient(None, None, Failed(data=failed.value)) is True


def test_a_failed_stage_says_how_to_restore_its_outputs_and_the_command_does(dvc_repo, in_repo, monkeypatch, capsys):
    """DVC deletes a stage's outputs before running it: after a failure, the hint's `dvc checkout`
    brings the last good ones back (checked for real on a one-stage project), and main prints it."""
    (dvc_repo / "dvc.yaml").write_text("stages:\n  step:\n    cmd: python step.py\n    deps: [step.py]\n"
                                       "    outs: [out.txt]\n")
    _step(dvc_repo, "open('out.txt', 'w').write('good')\n")
    reproduce("step", force=False, log=lambda line: None, cwd=dvc_repo)
    _step(dvc_repo, "raise SystemExit('error: the model file is gone')\n")
    with pytest.raises(StageFailed) as failed:
        reproduce("step", force=False, log=lambda line: None, cwd=dvc_repo)
    assert not (dvc_repo / "out.txt").exists()  # what the user met: the good output is gone

    hint = flow_module.restore_hint(failed.value.stage)
    command = hint.split("`")[1].removeprefix(".venv/bin/")
    assert command == "dvc checkout step"
    subprocess.run([flow_module.sys.executable, "-m", *command.split()], cwd=dvc_repo, check=True,
                   capture_output=True)
    assert (dvc_repo / "out.txt").read_text() == "good"

    def failing(**kwargs):
        raise failed.value

    monkeypatch.setattr(flow_module, "pipeline", failing)
    monkeypatch.setattr(flow_module.tracking, "check_store", lambda root=None: "0")
    assert main(["--stages", "eval_sets"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == hint
