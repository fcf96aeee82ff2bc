"""Every DVC stage depends on exactly the project code it runs: editing that code makes the stage stale,
and editing code it never runs does not.

A stage's command is ``python -m tasks.<stage>`` (or ``python -m arena.<...>``); the code it runs is that
module plus every project module it imports, transitively (``tools/stage_deps.py`` computes it from the
source: function-local imports, package ``__init__`` files and lazy package exports included, and the
files a module reads beside itself). Each such file must be under one of the stage's ``deps`` in
dvc.yaml or arena/dvc.yaml (the failure names the stage, the file and the import chain that reaches it),
and each code dep (a ``.py`` file, or a folder with ``.py`` files under it) must hold only such files (the
failure names the stage, the dep and the files it never imports). ``python -m tools.stage_deps --write``
rewrites the code deps to the exact closure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.stage_deps import REPO_ROOT, ProjectModules, exact_code_deps, extra_deps, load_stages, missing_deps

STAGES = load_stages(REPO_ROOT)
PROJECT_MODULES = ProjectModules(REPO_ROOT)  # parsed files are cached across the stages
STAGE_PARAMS = [pytest.param(s.addressing, s.command, list(s.deps), id=s.addressing) for s in STAGES]


@pytest.mark.parametrize(("stage", "command", "deps"), STAGE_PARAMS)
def test_stage_deps_cover_the_code_it_imports(stage: str, command: str, deps: list[str]) -> None:
    problems = missing_deps(PROJECT_MODULES, stage, command, deps)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("stage", "command", "deps"), STAGE_PARAMS)
def test_stage_code_deps_hold_only_the_code_it_imports(stage: str, command: str, deps: list[str]) -> None:
    problems = extra_deps(PROJECT_MODULES, stage, command, deps)
    assert not problems, "\n".join(problems + ["(python -m tools.stage_deps --write lists the exact closure)"])


# ---- the checker itself, on a small made-up project ---------------------------------------------------

def _write(root: Path, files: dict[str, str]) -> ProjectModules:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return ProjectModules(root)


PROJECT = {
    "tasks/__init__.py": "",
    "tasks/demo.py": "from shoplm.lib import helper\n\ndef main():\n    from shoplm.lazy import late_name\n",
    "tasks/other.py": "",
    "shoplm/__init__.py": "",
    "shoplm/lib/__init__.py": "",
    "shoplm/lib/helper.py": "import json\nfrom . import util\n",
    "shoplm/lib/util.py": "",
    "shoplm/lazy/__init__.py": "def __getattr__(name):\n    ...\n",
    "shoplm/lazy/impl.py": "late_name = 1\n",
    "shoplm/lazy/other.py": "unrelated = 2\n",
    "shoplm/unused.py": "",
    "shoplm/reader/__init__.py": "",
    "shoplm/reader/words.py": "from pathlib import Path\nWORDS = Path(__file__).with_name('words.yaml')\n",
    "shoplm/reader/words.yaml": "a: 1\n",
    "shoplm/reader/unread.py": "",
    "shoplm/templates/row.yaml": "x: 1\n",
    "data/sample/rows.csv": "a,b\n",
    "arena/__init__.py": "",
    "arena/dvc.yaml": "stages: {}\n",
    "arena/metrics.py": "from shoplm.lib import util\n",
}
DEMO_NEEDS = ["tasks/__init__.py", "tasks/demo.py", "shoplm/__init__.py", "shoplm/lib", "shoplm/lazy/__init__.py",
              "shoplm/lazy/impl.py"]


def test_checker_follows_relative_local_and_lazy_imports(tmp_path: Path) -> None:
    modules = _write(tmp_path, PROJECT)
    assert set(modules.closure("tasks.demo")) == {
        "tasks.demo", "tasks", "shoplm", "shoplm.lib", "shoplm.lib.helper", "shoplm.lib.util",
        "shoplm.lazy", "shoplm.lazy.impl"}
    assert missing_deps(modules, "demo", "python -m tasks.demo x", ["tasks", "shoplm"]) == []


def test_checker_names_the_stage_and_the_uncovered_module(tmp_path: Path) -> None:
    modules = _write(tmp_path, PROJECT)
    problems = missing_deps(modules, "demo@a", "python -m tasks.demo a",
                            ["tasks", "shoplm/__init__.py", "shoplm/lib", "shoplm/lazy/__init__.py"])
    assert len(problems) == 1
    assert problems[0].startswith("stage demo@a runs shoplm/lazy/impl.py (module shoplm.lazy.impl")
    assert "imported via tasks.demo → shoplm.lazy.impl)" in problems[0]


def test_a_stage_that_is_not_a_task_module_is_reported(tmp_path: Path) -> None:
    modules = _write(tmp_path, PROJECT)
    assert "is not `python -m tasks.<stage>" in missing_deps(modules, "x", "bash run.sh", ["tasks"])[0]
    assert extra_deps(modules, "x", "bash run.sh", ["tasks"]) == []  # reported once, by missing_deps


def test_an_arena_module_command_and_its_package_are_project_code(tmp_path: Path) -> None:
    modules = _write(tmp_path, PROJECT)
    assert set(modules.closure("arena.metrics")) == {"arena.metrics", "arena", "shoplm", "shoplm.lib",
                                                     "shoplm.lib.util"}
    assert modules.file("arena.dvc") is None  # arena/dvc.yaml is not a module
    assert missing_deps(modules, "arena/dvc.yaml:m", "python -m arena.metrics", ["arena", "shoplm"]) == []


def test_exact_deps_are_neither_missing_nor_extra(tmp_path: Path) -> None:
    modules = _write(tmp_path, PROJECT)
    assert extra_deps(modules, "demo", "python -m tasks.demo", DEMO_NEEDS) == []
    assert missing_deps(modules, "demo", "python -m tasks.demo", DEMO_NEEDS) == []
    exact = exact_code_deps(modules, modules.needed("tasks.demo"), "tasks.demo")
    assert exact == ["tasks/demo.py", "shoplm/__init__.py", "shoplm/lazy/__init__.py", "shoplm/lazy/impl.py",
                     "shoplm/lib", "tasks/__init__.py"]  # shoplm/lib: every .py file under it is imported


def test_a_py_file_the_stage_never_imports_is_an_extra_dep(tmp_path: Path) -> None:
    modules = _write(tmp_path, PROJECT)
    problems = extra_deps(modules, "demo@a", "python -m tasks.demo a", [*DEMO_NEEDS, "shoplm/unused.py"])
    assert problems == ["stage demo@a depends on shoplm/unused.py, but never imports it (module shoplm.unused): "
                        "drop the dep"]


def test_a_folder_the_stage_imports_only_part_of_is_an_extra_dep(tmp_path: Path) -> None:
    modules = _write(tmp_path, PROJECT)
    problems = extra_deps(modules, "demo@a", "python -m tasks.demo a", [*DEMO_NEEDS, "shoplm/lazy", "shoplm"])
    assert len(problems) == 2
    assert problems[0].startswith("stage demo@a depends on folder shoplm/lazy/, but never imports 1 of its 3 .py "
                                  "files: shoplm/lazy/other.py; list the files it imports instead: "
                                  "shoplm/lazy/__init__.py, shoplm/lazy/impl.py")
    assert problems[1].startswith("stage demo@a depends on folder shoplm/, but never imports ")
    assert "shoplm/unused.py" in problems[1] and "shoplm/lib/util.py" not in problems[1].split(";")[0]


def test_data_deps_and_deps_not_on_disk_are_not_checked(tmp_path: Path) -> None:
    modules = _write(tmp_path, PROJECT)
    data = ["shoplm/templates", "shoplm/templates/row.yaml", "data/sample", "models/base", "data/eval/x.jsonl",
            "arena/dvc.yaml", "shoplm/reader/words.yaml"]
    assert extra_deps(modules, "demo", "python -m tasks.demo", [*DEMO_NEEDS, *data]) == []


def test_a_file_a_module_reads_beside_itself_is_needed(tmp_path: Path) -> None:
    modules = _write(tmp_path, {**PROJECT, "tasks/demo.py": "import shoplm.reader.words\n"})
    needs = ["tasks/__init__.py", "tasks/demo.py", "shoplm/__init__.py", "shoplm/reader/__init__.py",
             "shoplm/reader/words.py"]
    problems = missing_deps(modules, "r", "python -m tasks.demo", needs)
    assert len(problems) == 1
    assert problems[0].startswith("stage r reads shoplm/reader/words.yaml (read by shoplm.reader.words")
    assert missing_deps(modules, "r", "python -m tasks.demo", [*needs, "shoplm/reader/words.yaml"]) == []
    assert extra_deps(modules, "r", "python -m tasks.demo", ["shoplm/reader"]) == [
        "stage r depends on folder shoplm/reader/, but never imports 1 of its 3 .py files: shoplm/reader/unread.py; "
        "list the files it imports instead: shoplm/reader/__init__.py, shoplm/reader/words.py"]


def _named_params(dvc_file: Path) -> list[tuple[str, str]]:
    """(stage, key) for every params key a stage of ``dvc_file`` names literally (templated keys are
    checked by DVC when it resolves them)."""
    import yaml

    named = []
    for name, stage in yaml.safe_load(dvc_file.read_text(encoding="utf-8"))["stages"].items():
        for entry in stage.get("do", stage).get("params", []) or []:
            if isinstance(entry, str) and "${" not in entry:
                named.append((name, entry))
    return named


@pytest.mark.parametrize("profile", ["tiny", "smol", "smol-heldout", "kddcup-qwen2-72b"])
def test_every_params_key_a_stage_names_is_written_by_each_profile(profile: str) -> None:
    """DVC refuses a stage whose params key is missing from params.yaml (`Parameters 'search.backend' are
    missing`), and only when it runs the stage: a key that only has a schema default must be written out."""
    from shoplm.params.profiles import resolve

    params = resolve(profile).doc
    missing = []
    for stage, key in _named_params(REPO_ROOT / "dvc.yaml"):
        node = params
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                missing.append(f"{stage}: {key}")
                break
            node = node[part]
    assert not missing, f"profile {profile} writes no value for: " + ", ".join(missing)
