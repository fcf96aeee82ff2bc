"""``flows.parallel`` runs only stages that can run side by side: independent of each other and restorable
from DVC's run-cache. A wrong target list fails at once, in one line, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.parallel import NotParallelizable, main, plan

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_upstream_of_an_adapter_is_what_it_trains_on():
    assert plan(REPO_ROOT, ["train@v7"]) == ["base", "build@v7", "eval_sets@sample", "ingest"]



def test_plan_does_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # DVC reads bare stage names relative to the cwd; plan must not
    assert plan(REPO_ROOT, ["train@v7"]) == ["base", "build@v7", "eval_sets@sample", "ingest"]


@pytest.mark.parametrize(("targets", "says"), [
    (["train@v7", "build@v7"], "build@v7 is upstream of another target"),
    (["evaluate@sample"], "persist outputs"),
    (["train@v77"], "'train@v77' is not one stage"),
])
def test_targets_that_cannot_run_side_by_side_are_refused(targets, says):
    with pytest.raises(NotParallelizable, match=says):
        plan(REPO_ROOT, targets)


def test_refusal_is_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.chdir(REPO_ROOT)
    assert main(["train@v7", "build@v7", "--jobs", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: dvc.yaml: build@v7") and "\n" not in err
