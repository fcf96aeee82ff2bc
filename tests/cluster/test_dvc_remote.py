"""A shared DVC remote (a local folder here; S3, GCS or SSH in a team): `dvc push` from one clone, then
`dvc pull` in a second clone makes `dvc repro` a no-op there, with the outputs byte-identical. The stages
are the first of the tiny DAG (base: the tiny model; eval_sets@sample), seconds on a CPU."""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

import pytest

from tests.pipeline.conftest import copy_repository, dvc

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

STAGES = ["base", "eval_sets@sample"]
PROFILE = "base:\n  model: tiny\n  tiny: {pretrain_steps: 20}\n"


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True,
                   capture_output=True)


def _digests(root: Path) -> dict[str, str]:
    files = [p for d in ("models/base", "data/eval") for p in (root / d).rglob("*") if p.is_file()]
    return {str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest() for p in files}


def test_pull_in_a_second_clone_makes_repro_a_no_op(tmp_path):
    from shoplm.params.profiles import use_profile

    first = copy_repository(tmp_path / "first")
    (first / "profiles/remote-test.yaml").write_text(PROFILE)
    use_profile("remote-test", target=first / "params.yaml", profiles_dir=first / "profiles")
    remote = tmp_path / "remote"
    dvc(first, "remote", "add", "--default", "shared", str(remote))
    dvc(first, "repro", *STAGES)
    pushed = dvc(first, "push", *STAGES)
    _git(first, "add", "-A")
    _git(first, "commit", "-qm", "tiny base and sample set, remote 'shared'")

    second = tmp_path / "second"
    _git(tmp_path, "clone", "-q", str(first), str(second))
    assert not (second / "models/base").exists()
    started = time.perf_counter()
    # Only these stages ran, so only they have outputs in dvc.lock: a bare `dvc pull` would fail on every
    # other stage ("No file hash info found"); after a whole-DAG run it pulls everything.
    pulled = dvc(second, "pull", *STAGES)
    pull_s = time.perf_counter() - started
    started = time.perf_counter()
    repro = dvc(second, "repro", *STAGES)
    repro_s = time.perf_counter() - started
    print(f"\n$ dvc push\n{pushed}$ dvc pull ({pull_s:.1f} s)\n{pulled}$ dvc repro {' '.join(STAGES)} "
          f"({repro_s:.1f} s)\n{repro}")
    for stage in STAGES:
        assert f"Stage '{stage}' didn't change, skipping" in repro
    assert "Running stage" not in repro
    assert "Data and pipelines are up to date" in dvc(second, "status", *STAGES)
    assert _digests(second) == _digests(first)
