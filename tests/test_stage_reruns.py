"""Which stages a one-line comment in a project file makes stale, as real ``dvc status`` says.

The test works on a copy of the repository (the files git tracks plus the untracked ones it does not
ignore, so uncommitted work counts) in a temporary folder, with ``git init`` there. A fresh copy has no
outputs, so every stage would be stale for its missing outs, and the committed dvc.lock records older
code. The copy is therefore brought to a clean state without running any stage: every out of every stage
gets a small stand-in file (an out of one stage is a dep of the next, so the deps exist too), then each
stage is saved the way ``dvc commit --force`` does it (``Stage.save`` hashes its deps, outs and params,
``Stage.commit`` puts the outs in the copy's cache, ``dump_stages`` writes dvc.lock and arena/dvc.lock).
That is ``Repo.commit(force=True, allow_missing=True)`` minus the run cache: its run-cache step fails on
a dep that is not on disk. ``dvc status`` of the copy is then empty unless dvc.yaml names a dep that
exists nowhere, which ``test_the_copy_starts_clean`` reports. To stay exact even then, a stage counts
as stale after an edit when its ``dvc status`` entry after the edit differs from its entry before
(``stale_after_comment``), so a dep that was already ``deleted`` cannot hide or fake an edit's effect.

``test_status_agrees_with_the_deps_in_dvc_yaml`` checks this harness (and tools/stage_deps.py's
reading of the stages) against DVC itself: the stages ``dvc status`` marks are exactly those with a dep
in dvc.yaml that covers the file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tools.stage_deps import REPO_ROOT, ProjectModules, Stage, load_stages, stage_module

pytestmark = pytest.mark.slow  # DVC status in a copy of the repository: outside make test-fast

COMMENT = "# a one-line comment added by tests/test_stage_reruns.py\n"


@dataclass
class RepoCopy:
    root: Path
    stages: list[Stage]
    baseline: dict[str, list]  # dvc status --json before any edit ({} when clean)
    stale: dict[str, set[str]] = field(default_factory=dict)  # file → stages, memoized


def _copy_worktree(source: Path, target: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=source,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        path = source / name
        if path.is_file():  # a tracked file deleted in the work tree is left out
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / name)


def _lock_without_running(root: Path) -> None:
    """Stand-in outs, then every stage's deps, outs and params hashed into dvc.lock (see the module doc)."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        stages = list(repo.index.stages)
        for stage in stages:
            for out in stage.outs:
                path = Path(out.fs_path)
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text("a stand-in output (tests/test_stage_reruns.py)\n", encoding="utf-8")
        with repo.lock:
            by_file: dict[str, tuple[object, list]] = {}
            for stage in stages:
                stage.save(allow_missing=True, run_cache=False)
                stage.commit(allow_missing=True)
                by_file.setdefault(stage.dvcfile.path, (stage.dvcfile, []))[1].append(stage)
            for dvcfile, group in by_file.values():
                dvcfile.dump_stages(group, update_pipeline=False)  # type: ignore[attr-defined]


def dvc_status(root: Path) -> dict[str, list]:
    """``dvc status --json`` of the repository at ``root`` (the real command line)."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run([sys.executable, "-m", "dvc", "status", "--json"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}


def stale_after_comment(copy: RepoCopy, file: str) -> set[str]:
    """The stages whose ``dvc status`` changes when a one-line comment is appended to ``file`` (restored after)."""
    if file not in copy.stale:
        path = copy.root / file
        original = path.read_bytes()
        try:
            path.write_bytes(original + (b"" if original.endswith(b"\n") or not original else b"\n") + COMMENT.encode())
            after = dvc_status(copy.root)
        finally:
            path.write_bytes(original)
        copy.stale[file] = {stage for stage, entry in after.items() if entry != copy.baseline.get(stage)}
    return copy.stale[file]


def covering_stages(copy: RepoCopy, file: str) -> set[str]:
    """The stages with a dep in dvc.yaml (or arena/dvc.yaml) that is ``file`` or a folder holding it."""
    path = Path(file)
    return {s.addressing for s in copy.stages if any(Path(dep) == path or Path(dep) in path.parents for dep in s.deps)}


def closure_stages(copy: RepoCopy, file: str) -> set[str]:
    """The stages whose import closure (tools/stage_deps.py) holds ``file``."""
    modules = ProjectModules(copy.root)
    path = copy.root / file
    return {s.addressing for s in copy.stages if (m := stage_module(s.command)) and path in modules.needed(m)}


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory: pytest.TempPathFactory) -> RepoCopy:
    root = tmp_path_factory.mktemp("repo")
    _copy_worktree(REPO_ROOT, root)
    subprocess.run(["git", "init", "-q", "."], cwd=root, check=True)
    site_cache = tmp_path_factory.mktemp("dvc_site_cache")  # DVC's state/index off /var/tmp/dvc
    (root / ".dvc" / "config.local").write_text(f"[core]\n    site_cache_dir = {site_cache}\n", encoding="utf-8")
    _lock_without_running(root)
    # DVC instantiates no stage for a foreach with no items (dpo on the smol profile), so dvc status
    # cannot mark one; tools/stage_deps.py still checks their deps.
    stages = [stage for stage in load_stages(root) if not stage.addressing.endswith("@<no items>")]
    return RepoCopy(root=root, stages=stages, baseline=dvc_status(root))


def _skip_if_absent(copy: RepoCopy, file: str) -> None:
    if not (copy.root / file).is_file():
        pytest.skip(f"{file} is not in this tree")


# ---- always on: DVC marks exactly the stages whose deps cover the file ------------------------------

@pytest.mark.parametrize("file", ["shoplm/builders/amazon_m2.py", "shoplm/merging/methods.py", "arena/metrics.py",
                                  "data/generators/corpus.py"])  # the last: no stage depends on it
def test_status_agrees_with_the_deps_in_dvc_yaml(repo_copy: RepoCopy, file: str) -> None:
    _skip_if_absent(repo_copy, file)
    assert stale_after_comment(repo_copy, file) == covering_stages(repo_copy, file)


def test_the_copy_starts_clean(repo_copy: RepoCopy) -> None:
    """With stand-in outs and a saved lock, only a dep that exists nowhere (not even as an out) is left."""
    entries: dict[str, list[str]] = {}
    for stage, items in repo_copy.baseline.items():
        for item in items:
            for kind, changes in (item.items() if isinstance(item, dict) else [(item, {"": ""})]):
                for path, state in changes.items():
                    entries.setdefault(f"{kind} {path}: {state}".rstrip(": "), []).append(stage)
    assert not entries, "dvc status of the copy is not clean before any edit:\n" + "\n".join(
        f"  {entry} (stages {', '.join(stages)})" for entry, stages in sorted(entries.items()))


# ---- a comment re-runs only the stages that run the file ---------------------------------------------

NOT_FOR_MERGING = ("build@", "ingest", "base", "eval_sets@", "arena/dvc.yaml:")


def _builders_only(copy: RepoCopy, stale: set[str]) -> list[str]:
    problems = [f"{s} is stale, but only build@* (and synth) should be" for s in sorted(stale)
                if not (s.startswith("build@") or s == "synth")]
    return problems + ([] if any(s.startswith("build@") for s in stale) else ["no build@* stage is stale"])


def _merging_closure(copy: RepoCopy, stale: set[str]) -> list[str]:
    expected = closure_stages(copy, "shoplm/merging/methods.py")
    problems = [f"{s} is stale and must not be" for s in sorted(stale)
                if s.startswith(NOT_FOR_MERGING)]
    problems += [f"{s} is stale but never imports shoplm/merging/methods.py" for s in sorted(stale - expected)]
    problems += [f"{s} imports shoplm/merging/methods.py but is not stale" for s in sorted(expected - stale)]
    return problems


def _arena_only(copy: RepoCopy, stale: set[str]) -> list[str]:
    problems = [f"{s} is stale, but only arena stages should be" for s in sorted(stale)
                if not s.startswith("arena/dvc.yaml:")]
    return problems + ([] if stale else ["no arena stage is stale"])


@pytest.mark.parametrize(("file", "check"), [
    pytest.param("shoplm/builders/amazon_m2.py", _builders_only, id="builder-marks-only-build"),
    pytest.param("shoplm/merging/methods.py", _merging_closure, id="merging-marks-its-closure"),
    pytest.param("arena/metrics.py", _arena_only, id="arena-marks-only-arena"),
])
def test_a_comment_marks_only_the_stages_that_run_the_file(
        repo_copy: RepoCopy, file: str, check: Callable[[RepoCopy, set[str]], list[str]]) -> None:
    _skip_if_absent(repo_copy, file)
    stale = stale_after_comment(repo_copy, file)
    problems = check(repo_copy, stale)
    assert not problems, f"a comment in {file} marks {sorted(stale)}:\n" + "\n".join(problems)


def test_python_bytecode_in_a_dep_folder_marks_no_stage(repo_copy: RepoCopy) -> None:
    """Importing the code (a stage, a test run) writes __pycache__/ into the folders stages depend on;
    .dvcignore leaves it out of their hashes, or `make test` after `make run` would make them stale."""
    folder = repo_copy.root / "shoplm/builders"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(folder)], check=True)
    caches = sorted(folder.rglob("__pycache__"))
    assert caches, "compileall wrote no bytecode"
    try:
        after = dvc_status(repo_copy.root)
    finally:
        for cache in caches:
            shutil.rmtree(cache)
    assert sorted(stage for stage, entry in after.items() if entry != repo_copy.baseline.get(stage)) == []
