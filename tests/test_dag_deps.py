"""Every DVC stage depends on all the project code it runs, so editing that code makes the stage stale.

A stage's command is ``python -m tasks.<stage>``; the code it runs is that module plus every project
module it imports, transitively. Imports are read from the source (``ast``), function-local ones
included (they run when the stage calls the function), and importing ``a.b.c`` also runs the package
files ``a/__init__.py`` and ``a/b/__init__.py``. A package that exports names lazily (a module-level
``__getattr__``, as ``shoplm.modeling`` does) is followed to the submodule that defines the name.
Each such file must be under one of the stage's ``deps`` in ``dvc.yaml``; the failure names the stage,
the file and the import chain that reaches it.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections import deque
from collections.abc import Iterable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = ("shoplm", "tasks", "data")  # data/generators/ included: no stage may import it
STAGE_COMMAND = re.compile(r"^python -m (tasks(?:\.\w+)+)\b")


class ProjectModules:
    """The project's modules under ``root``, and the project modules each one imports."""

    def __init__(self, root: Path, packages: Iterable[str] = PROJECT_PACKAGES) -> None:
        self.root = root
        self.packages = tuple(packages)
        self._trees: dict[str, ast.Module] = {}

    def file(self, module: str) -> Path | None:
        """The file of ``module`` (``a/b.py`` or ``a/b/__init__.py``), or None if not a project module."""
        if module.split(".")[0] not in self.packages:
            return None
        base = self.root.joinpath(*module.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def _tree(self, module: str) -> ast.Module:
        if module not in self._trees:
            self._trees[module] = ast.parse(self.file(module).read_text(encoding="utf-8"))  # type: ignore[union-attr]
        return self._trees[module]

    def _defining_submodules(self, package: str, name: str) -> list[str]:
        """Where a lazily exported ``package.name`` comes from: the submodules that define ``name``."""
        folder = self.root.joinpath(*package.split("."))
        found = []
        for path in sorted(folder.glob("*.py")):
            if path.name == "__init__.py":
                continue
            submodule = f"{package}.{path.stem}"
            if name in _top_level_names(self._tree(submodule), with_imports=False):
                found.append(submodule)
        return found

    def imports(self, module: str) -> set[str]:
        """Project modules that running ``module`` imports directly (parent packages included)."""
        is_package = self.file(module).name == "__init__.py"  # type: ignore[union-attr]
        package = module if is_package else module.rpartition(".")[0]
        found: set[str] = {package} if package else set()  # running a module runs its package first
        for node in ast.walk(self._tree(module)):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                found.add(base)
                base_file = self.file(base)
                for alias in node.names:
                    if self.file(f"{base}.{alias.name}"):
                        found.add(f"{base}.{alias.name}")
                    elif base_file and base_file.name == "__init__.py":
                        tree = self._tree(base)
                        if alias.name not in _top_level_names(tree) and "__getattr__" in _top_level_names(tree):
                            found.update(self._defining_submodules(base, alias.name))
        with_parents = {".".join(m.split(".")[:i]) for m in found for i in range(1, m.count(".") + 2)}
        return {m for m in with_parents if self.file(m) and m != module}

    def closure(self, module: str) -> dict[str, list[str]]:
        """Every project module ``module`` runs, each with the import chain that reaches it."""
        chains = {module: [module]}
        queue = deque([module])
        while queue:
            current = queue.popleft()
            for imported in sorted(self.imports(current)):
                if imported not in chains:
                    chains[imported] = chains[current] + [imported]
                    queue.append(imported)
        return chains


def _top_level_names(tree: ast.Module, with_imports: bool = True) -> set[str]:
    """Names a module binds at top level; ``with_imports=False``: only those it defines itself."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif with_imports and isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def missing_deps(modules: ProjectModules, stage: str, command: str, deps: Iterable[str]) -> list[str]:
    """One message per project file the stage runs that no dep path covers (empty: all covered)."""
    match = STAGE_COMMAND.match(command)
    if not match:
        return [f"stage {stage}: command {command!r} is not `python -m tasks.<stage> ...`, so its code "
                f"cannot be checked"]
    covered = [modules.root / dep for dep in deps]
    problems = []
    for module, chain in modules.closure(match.group(1)).items():
        path = modules.file(module)
        if not any(path == dep or dep in path.parents for dep in covered):  # type: ignore[operator]
            problems.append(f"stage {stage} runs {path.relative_to(modules.root)} (module {module}, imported "
                            f"via {' → '.join(chain)}) but no dep in dvc.yaml covers it")
    return problems


def _stages() -> list[tuple[str, str, list[str]]]:
    from dvc.repo import Repo

    with Repo(str(REPO_ROOT)) as repo:
        return [(stage.addressing, stage.cmd, [str(dep.def_path) for dep in stage.deps])
                for stage in repo.index.stages if getattr(stage, "cmd", None)]


STAGES = _stages()
PROJECT_MODULES = ProjectModules(REPO_ROOT)  # parsed files are cached across the stages


@pytest.mark.parametrize(("stage", "command", "deps"), STAGES, ids=[s[0] for s in STAGES])
def test_stage_deps_cover_the_code_it_imports(stage: str, command: str, deps: list[str]) -> None:
    problems = missing_deps(PROJECT_MODULES, stage, " ".join(shlex.split(command)), deps)
    assert not problems, "\n".join(problems)


# ---- the checker itself, on a small made-up project ---------------------------------------------------

def _write(root: Path, files: dict[str, str]) -> ProjectModules:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return ProjectModules(root)


PROJECT = {
    "tasks/__init__.py": "",
    "tasks/demo.py": "from shoplm.lib import helper\n\ndef main():\n    from shoplm.lazy import late_name\n",
    "shoplm/__init__.py": "",
    "shoplm/lib/__init__.py": "",
    "shoplm/lib/helper.py": "import json\nfrom . import util\n",
    "shoplm/lib/util.py": "",
    "shoplm/lazy/__init__.py": "def __getattr__(name):\n    ...\n",
    "shoplm/lazy/impl.py": "late_name = 1\n",
    "shoplm/lazy/other.py": "unrelated = 2\n",
}


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
