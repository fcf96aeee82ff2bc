"""Copy the project modules a package's predictor runs into the package, so it needs no shoplm install.

Why vendored rather than ``shoplm`` installed by the package's requirements.txt: shoplm is not on PyPI,
so installing it means a git URL (a public repository, network while the image is built, and a commit
that must match the one this run evaluated with), and it would pull the pipeline's own dependencies
(DVC, Prefect, MLflow, trl, llm-compressor) into the T4 image. The copy is exactly the code that scored
the model in this run: the import closure of the predictor and of every registered inference backend
(about fifteen files), plus the data files beside them (prompt wordings and the like). The harness then
proves it complete by importing the package with the project off ``sys.path``.

The closure is read from the sources (``ast``): every ``import shoplm...`` and ``from shoplm... import``,
function-local ones included, relative ones resolved, and the ``__init__.py`` of every package on the way.
"""

from __future__ import annotations

import ast
import shutil
from collections import deque
from collections.abc import Iterable
from pathlib import Path

import shoplm

PROJECT_ROOT = Path(shoplm.__file__).resolve().parent.parent
PACKAGE = "shoplm"
#: What the predictor runs: itself, and every backend the registry can build (they register on import).
ENTRY_MODULES = ("shoplm.submission.predictor", "shoplm.inference")
SKIPPED_DIRS = {"__pycache__"}
#: Packages whose data files are the package writer's own (templates, track ids), not the predictor's.
WRITER_ONLY_DATA = ("shoplm.submission",)


def module_file(module: str, root: Path = PROJECT_ROOT) -> Path | None:
    """``a/b.py`` or ``a/b/__init__.py`` of a project module under ``root``; None for anything else."""
    if module.split(".")[0] != PACKAGE:
        return None
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(module: str, root: Path) -> set[str]:
    path = module_file(module, root)
    assert path is not None
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = {package}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: anchored at this module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # a name may be a submodule
    parents = {".".join(m.split(".")[:i]) for m in found for i in range(1, m.count(".") + 2)}
    return {m for m in parents if module_file(m, root) is not None and m != module}


def _package_modules(package: str, root: Path) -> list[str]:
    folder = root.joinpath(*package.split("."))
    return [f"{package}.{path.stem}" for path in sorted(folder.glob("*.py")) if path.name != "__init__.py"]


def import_closure(entries: Iterable[str] = ENTRY_MODULES, root: Path = PROJECT_ROOT) -> set[str]:
    """Every project module that importing ``entries`` can run; an entry that is a package brings all of
    its modules (``shoplm.inference``: every backend, including one registered after this was written)."""
    queue: deque[str] = deque()
    for entry in entries:
        queue.append(entry)
        if module_file(entry, root) and module_file(entry, root).name == "__init__.py":  # type: ignore[union-attr]
            queue.extend(_package_modules(entry, root))
    seen: set[str] = set()
    while queue:
        module = queue.popleft()
        if module in seen:
            continue
        seen.add(module)
        queue.extend(_imports(module, root) - seen)
    return seen


def vendor(target: Path, entries: Iterable[str] = ENTRY_MODULES, root: Path = PROJECT_ROOT) -> list[Path]:
    """Copy the closure of ``entries`` and the data files of its packages into ``target`` (the package
    root); returns the copied paths relative to ``target``."""
    modules = import_closure(entries, root)
    files = {module_file(m, root) for m in modules}
    packages = {module_file(m, root).parent for m in modules  # type: ignore[union-attr]
                if m not in WRITER_ONLY_DATA and module_file(m, root).name == "__init__.py"}  # type: ignore[union-attr]
    for folder in packages:  # data files (not modules) that the code reads beside itself
        for path in folder.rglob("*"):
            inside = path.relative_to(folder).parts
            if path.is_file() and path.suffix not in {".py", ".pyc"} and not SKIPPED_DIRS & set(inside) \
                    and not any((folder.joinpath(*inside[:i]) / "__init__.py").is_file()
                                for i in range(1, len(inside))):  # a subpackage's files go with it
                files.add(path)
    copied = []
    for path in sorted(files):  # type: ignore[type-var]
        relative = path.relative_to(root)  # type: ignore[union-attr]
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / relative)  # type: ignore[arg-type]
        copied.append(relative)
    return copied
