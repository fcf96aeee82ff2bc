"""One run of the whole tiny DAG per test session, in a throwaway copy of the repository.

The copy holds the files git sees (tracked or untracked-but-not-ignored), so build outputs of the
working tree never leak in; MLflow writes to a SQLite file inside the copy; Prefect runs under its
test harness (a temporary local API on 127.0.0.1, stopped at the end).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# A profile of the defaults (the tiny model), smaller: the tests check the plumbing, not the model.
TEST_PROFILE = """\
# Each stage kind once, not each item it could have: what more items add is minutes, not code paths (a
# stage costs ~9 s of DVC, process start and MLflow before any work). So one mixture of a few builders and
# one adapter: tests/builders runs every builder and the build stage on a mixture of its own,
# tests/merging the merge and search stages on two adapters (weighted and TIES),
# tests/training/test_learning_curve.py the curve on the vLLM backend.
base:
  tiny: {pretrain_steps: 20}
build:
  mixtures: !replace
    v7: {seed: 7, builders: {esci-query-ranking: 10, reviews-rating-mc: 10, m2-title-translation: 5,
                             alpaca-generation: 10, mmlu-mc: 10}}
train:
  defaults: {max_steps: 3, logging_steps: 1}
  adapters: !replace
    v7: {mixture: v7, seed: 7}
dpo:
  defaults: {max_steps: 2}
merge:
  specs: !replace
    ensemble: {method: weighted, adapters: {v7: 0.75}, alpha: 1.0}
search:                    # wise-ft on the one adapter: α=0 is the base, scored as zero-shot
  grids: !replace
    ensemble: {method: weighted, adapters: {v7: [1.0]}, alpha: [0.0, 1.0]}
synth:                     # no request, so no server: the stage reports on its (empty) cache. tests/synthesis
  budget: {max_requests: 0}  # runs it against a real vLLM server and a fault-injecting one
prompt_ablation:           # the DVC wiring; tests/test_prompt_ablation_stage.py scores every strategy
  limit: 12
sweep:                     # one model (tests/test_sweep_stage.py builds and compares two), pre-trained as
  limit: 12                # briefly as the base above (the defaults' 160 steps took a minute of the DAG)
  models: !replace
    tiny: {model: tiny, tiny: {pretrain_steps: 20}}
learning_curve:            # the base and one kept step (of the 3 trained), not 4 points of 60 steps; scored
  steps: [0, 2]            # with transformers: the vLLM backend, one engine for every step, is checked by
  backend: transformers    # tests/training/test_learning_curve.py (each engine start is a minute here)
package:                   # one batch size, not three: the harness's cycling is tests/submission's
  check_batch_sizes: [16]
"""


@dataclass
class FailedRun:
    """A second flow run that fails at evaluate@sample with a user error (exit 2): what it left behind."""

    failed: bool
    params_before: bytes
    params_after: bytes
    reports_before: dict[str, bytes]
    reports_after: dict[str, bytes]
    task_runs: list[tuple[str, int]]  # (Prefect task run name, how many times it ran)


@dataclass
class PipelineRun:
    root: Path
    outcomes: dict[str, str]
    tracking_uri: str
    failed: FailedRun


def copy_repository(dest: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO_ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = REPO_ROOT / rel
        if rel == "dvc.lock" or not src.is_file():
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=dest, check=True)
    return dest


def dvc(root: Path, *args: str) -> str:
    """Run dvc in ``root`` with this interpreter's environment; return its combined output."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("SHOPLM_MLFLOW_PARENT_RUN_ID", None)
    proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def _reports(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (root / "reports/sample/zero-shot").iterdir()}


def run_a_failing_flow(root: Path) -> FailedRun:
    """Break the evaluation set under evaluate@sample, run the flow on that stage, restore the set."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.pipeline import pipeline

    params, reports = (root / "params.yaml").read_bytes(), _reports(root)
    eval_set = root / "data/eval/sample.jsonl"
    eval_set.write_text(eval_set.read_text() + "{not json\n")  # a user error the stage reports (exit 2)
    try:
        # An eval_sets parameter (the same set, so the same stages) makes the run write its own params.yaml.
        state = pipeline(stages=["evaluate@sample"], eval_sets={"sample": "data/sample/shopbench/questions.jsonl"},
                         return_state=True)
    finally:
        dvc(root, "checkout", "--force", "data/eval/sample.jsonl")
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
    return FailedRun(failed=state.is_failed(), params_before=params, params_after=(root / "params.yaml").read_bytes(),
                     reports_before=reports, reports_after=_reports(root),
                     task_runs=[(t.name, t.run_count) for t in task_runs])


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    from prefect.testing.utilities import prefect_test_harness

    from shoplm.params.profiles import use_profile

    root = copy_repository(tmp_path_factory.mktemp("repo"))
    (root / "profiles/pipeline-test.yaml").write_text(TEST_PROFILE)
    use_profile("pipeline-test", target=root / "params.yaml", profiles_dir=root / "profiles")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "test params"], cwd=root,
                   check=True)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        mp.chdir(root)
        with prefect_test_harness(server_startup_timeout=120):
            from flows.pipeline import pipeline

            outcomes = pipeline()
            failed = run_a_failing_flow(root)
    # Yielded outside the context: the chdir and environment must not leak into the rest of the session.
    return PipelineRun(root=root, outcomes=outcomes, tracking_uri=uri, failed=failed)
