"""A flow run's mistakes fail before anything runs; a failed stage says why and is retried only if transient.

Fast: no Prefect server, no pipeline run (``flows.pipeline.pipeline`` is replaced by a tripwire).
"""

from __future__ import annotations

import subprocess
import textwrap

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
