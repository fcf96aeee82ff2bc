"""Each DVC stage's code deps, exactly: the project files its command runs, no fewer and no more.

A stage's command is ``python -m tasks.<stage> ...`` (or ``python -m arena.<...>``); the code it runs is
that module plus every project module it imports, transitively: its *closure*. Imports are read from
the source (``ast``), function-local ones included (they run when the stage calls the function), and
importing ``a.b.c`` also runs the package files ``a/__init__.py`` and ``a/b/__init__.py``. A package that
exports names lazily (a module-level ``__getattr__``, as ``shoplm.modeling`` does) is followed to the
submodule that defines the name. A file that a closure module reads beside itself
(``Path(__file__).with_name("tracks.yaml")``, ``Path(__file__).parent / "templates"``) is needed too.

A dep is *code* when it is a ``.py`` file or a folder with ``.py`` files under it; every other dep (data,
YAML, templates folders, outputs of other stages) is data and left alone. A stage's deps must cover its
closure (else: a *missing* dep, the stage would not re-run when that code changes) and its code deps
must hold nothing outside it (else: an *extra* dep, the stage re-runs for code it never runs).

    python -m tools.stage_deps                 # per stage: its deps, and the exact code deps it needs
    python -m tools.stage_deps --summary       # one line per stage, and the unneeded (stage, file) pairs
    python -m tools.stage_deps --check         # exit 1 listing every missing and extra dep
    python -m tools.stage_deps --write         # rewrite the code deps in dvc.yaml / arena/dvc.yaml

This is a developer tool (tests/test_dag_deps.py uses it); nothing under shoplm/ or tasks/ imports it.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import os
import re
import shlex
import sys
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Top-level folders whose modules are project code (a folder's module must exist: arena/dvc.yaml is not one).
PROJECT_PACKAGES = ("shoplm", "tasks", "data", "arena")  # data/generators/ included: no stage may import it
STAGE_COMMAND = re.compile(r"^python -m ((?:tasks|arena)(?:\.\w+)+)\b")


class ProjectModules:
    """The project's modules under ``root``, and the project modules each one imports."""

    def __init__(self, root: Path, packages: Iterable[str] = PROJECT_PACKAGES) -> None:
        self.root = root
        self.packages = tuple(packages)
        self._trees: dict[str, ast.Module] = {}
        self._closures: dict[str, dict[str, list[str]]] = {}

    def file(self, module: str) -> Path | None:
        """The file of ``module`` (``a/b.py`` or ``a/b/__init__.py``), or None if not a project module."""
        if not module or module.split(".")[0] not in self.packages:
            return None
        base = self.root.joinpath(*module.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def module(self, path: Path) -> str:
        """The dotted name of the project file ``path`` (``a/b/__init__.py`` → ``a.b``)."""
        parts = path.relative_to(self.root).with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

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
        if module not in self._closures:
            chains = {module: [module]}
            queue = deque([module])
            while queue:
                current = queue.popleft()
                for imported in sorted(self.imports(current)):
                    if imported not in chains:
                        chains[imported] = chains[current] + [imported]
                        queue.append(imported)
            self._closures[module] = chains
        return self._closures[module]

    def reads(self, module: str) -> set[Path]:
        """Files (or folders) beside ``module`` that it reads (``Path(__file__).with_name("x")``, ``.parent / "x"``)."""
        folder = self.file(module).parent  # type: ignore[union-attr]
        names: set[str] = set()
        for node in ast.walk(self._tree(module)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "with_name"
                    and node.args and _is_str(node.args[0]) and _mentions_file(node.func.value)):
                names.add(node.args[0].value)  # type: ignore[attr-defined]
            elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and _is_str(node.right)
                  and isinstance(node.left, ast.Attribute) and node.left.attr == "parent"
                  and _mentions_file(node.left.value)):
                names.add(node.right.value)  # type: ignore[attr-defined]
        return {folder / name for name in names if (folder / name).exists()}

    def needed(self, module: str) -> dict[Path, str]:
        """Every file the stage module ``module`` needs (its closure, and what it reads beside its code), each
        with why: ``"module a.b, imported via x → a.b"`` or ``"read by a.b, imported via x → a.b"``."""
        found: dict[Path, str] = {}
        closure = self.closure(module)
        for name, chain in closure.items():
            found[self.file(name)] = f"module {name}, imported via {' → '.join(chain)}"  # type: ignore[index]
        for name, chain in closure.items():
            for path in sorted(self.reads(name)):
                found.setdefault(path, f"read by {name}, imported via {' → '.join(chain)}")
        return found


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _mentions_file(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "__file__" for n in ast.walk(node))


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


# ---- deps: code or data, covered, needed ------------------------------------------------------------

def python_files(path: Path) -> list[Path]:
    """The ``.py`` files a dep path holds: itself, or every one under the folder (``__pycache__`` aside)."""
    if path.is_file():
        return [path] if path.suffix == ".py" else []
    if path.is_dir():
        return sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts and p.is_file())
    return []


def is_code_dep(root: Path, dep: str) -> bool:
    """A dep that exists and is a ``.py`` file or a folder with ``.py`` files under it (else: data)."""
    return bool(python_files(root / dep))


def stage_module(command: str) -> str | None:
    """The module a stage command runs (``python -m tasks.build x`` → ``tasks.build``), or None."""
    match = STAGE_COMMAND.match(" ".join(shlex.split(command)))
    return match.group(1) if match else None


def _not_a_task(stage: str, command: str) -> str:
    return (f"stage {stage}: command {command!r} is not `python -m tasks.<stage> ...` (nor `python -m arena.<...>`), "
            f"so its code cannot be checked")


def _covers(dep: Path, path: Path) -> bool:
    return path == dep or dep in path.parents


def _rel(modules: ProjectModules, path: Path) -> str:
    return path.relative_to(modules.root).as_posix()


def missing_deps(modules: ProjectModules, stage: str, command: str, deps: Iterable[str]) -> list[str]:
    """One message per project file the stage runs (or reads beside its code) that no dep covers."""
    module = stage_module(command)
    if module is None:
        return [_not_a_task(stage, command)]
    covered = [modules.root / dep for dep in deps]
    problems = []
    for path, why in modules.needed(module).items():
        if not any(_covers(dep, path) for dep in covered):
            verb = "runs" if why.startswith("module ") else "reads"
            problems.append(f"stage {stage} {verb} {_rel(modules, path)} ({why}) but no dep in dvc.yaml covers it")
    return problems


def _needed_test(needed: Iterable[Path]):
    needed = set(needed)
    folders = [p for p in needed if p.is_dir()]
    return lambda path: path in needed or any(folder in path.parents for folder in folders)


def extra_deps(modules: ProjectModules, stage: str, command: str, deps: Iterable[str]) -> list[str]:
    """One message per code dep of the stage that holds code outside its closure (empty: none).

    A ``.py`` dep must be a module the stage runs; a folder with ``.py`` files under it only if the stage
    runs every one of them. Data deps (no ``.py`` inside) and deps not on disk (other stages' outputs)
    are not checked. A command that is not a task module is reported by :func:`missing_deps`, not here.
    """
    module = stage_module(command)
    if module is None:
        return []
    needed = modules.needed(module)
    is_needed = _needed_test(needed)
    problems = []
    for dep in dict.fromkeys(deps):
        path = modules.root / dep
        files = python_files(path)
        unneeded = [f for f in files if not is_needed(f)]
        if not unneeded:
            continue
        if path.is_file():
            problems.append(f"stage {stage} depends on {dep}, but never imports it (module "
                            f"{modules.module(path)}): drop the dep")
            continue
        used = [_rel(modules, f) for f in files if is_needed(f)]
        listed = ", ".join(_rel(modules, f) for f in unneeded)
        advice = (f"list the files it imports instead: {', '.join(used)}" if used
                  else "drop the dep: the stage imports none of them")
        problems.append(f"stage {stage} depends on folder {dep}/, but never imports {len(unneeded)} of its "
                        f"{len(files)} .py files: {listed}; {advice}")
    return problems


def unneeded_files(modules: ProjectModules, command: str, deps: Iterable[str]) -> set[Path]:
    """The ``.py`` files under the stage's deps that its closure never runs (a folder dep counts per file)."""
    module = stage_module(command)
    if module is None:
        return set()
    is_needed = _needed_test(modules.needed(module))
    return {f for dep in deps for f in python_files(modules.root / dep) if not is_needed(f)}


def exact_code_deps(modules: ProjectModules, needed: Iterable[Path], first: str | None = None) -> list[str]:
    """The fewest dep paths that cover exactly ``needed``: its files, a folder in place of its files when
    every file under that folder (data included) is needed. ``first``: a module whose file goes first (the stage's)."""
    needed = set(needed)
    is_needed = _needed_test(needed)
    root = modules.root
    cache: dict[Path, bool] = {}

    def whole(folder: Path) -> bool:  # folder is relative to root
        # Every file under it, data too: a folder that also holds a file the stage does not read
        # (arena/ holds dvc.yaml and params.yaml) would rerun the stage when that file changes.
        if folder not in cache:
            files = [] if folder == Path(".") else [
                f for f in (root / folder).rglob("*") if f.is_file() and "__pycache__" not in f.parts]
            cache[folder] = any(f.suffix == ".py" for f in files) and all(is_needed(f) for f in files)
        return cache[folder]

    folders = {parent for path in needed for parent in path.relative_to(root).parents}
    collapsed = sorted(f for f in folders if whole(f) and not whole(f.parent))
    paths = [f.as_posix() for f in collapsed]
    paths += [_rel(modules, p) for p in needed
              if not any(folder in p.relative_to(root).parents for folder in collapsed)]
    first_path = _rel(modules, modules.file(first)) if first and modules.file(first) else None  # type: ignore[arg-type]
    return sorted(set(paths), key=lambda p: (p != first_path, p))


# ---- the DVC stages ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stage:
    """One DVC stage (a foreach/matrix item is one stage): where it is defined, its command and its deps."""

    addressing: str  # as dvc names it: train@v7, arena/dvc.yaml:arena_baselines
    dvcfile: str  # dvc.yaml, arena/dvc.yaml (relative to the repository root)
    name: str  # train@v7, arena_baselines
    command: str
    deps: tuple[str, ...]  # paths relative to the repository root (params files left out)

    @property
    def definition(self) -> str:
        """The key of its definition under ``stages:`` (a foreach/matrix stage's items share it)."""
        return self.name.split("@")[0]


def load_stages(root: Path = REPO_ROOT) -> list[Stage]:
    """Every stage with a command in the repository's dvc.yaml files, as DVC resolves them."""
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    stages = []
    with Repo(str(root)) as repo:
        for stage in repo.index.stages:
            cmd = getattr(stage, "cmd", None)
            if not cmd:
                continue
            command = " && ".join(cmd) if isinstance(cmd, list) else cmd
            deps = tuple(Path(os.path.relpath(dep.fs_path, repo.root_dir)).as_posix()
                         for dep in stage.deps if not isinstance(dep, ParamsDependency))
            dvcfile = Path(os.path.relpath(stage.dvcfile.path, repo.root_dir)).as_posix()
            addressing = stage.name if dvcfile == "dvc.yaml" else f"{dvcfile}:{stage.name}"  # from the root
            stages.append(Stage(addressing, dvcfile, stage.name, " ".join(shlex.split(command)), deps))
    return stages + _itemless_definitions(root, stages)


def _itemless_definitions(root: Path, resolved: Sequence[Stage]) -> list[Stage]:
    """foreach/matrix definitions that DVC resolves to no stage because their items are empty in the
    params in use (``dpo.adapters: {}`` on the smol profile): checked and written all the same, as
    ``<name>@<no items>``, so that a profile that fills them in finds correct deps."""
    import yaml

    seen = {(stage.dvcfile, stage.definition) for stage in resolved}
    found = []
    for dvcfile in sorted({stage.dvcfile for stage in resolved} | {"dvc.yaml"}):
        data = yaml.safe_load((root / dvcfile).read_text(encoding="utf-8")) or {}
        for name, definition in (data.get("stages") or {}).items():
            body = definition.get("do", definition) if isinstance(definition, dict) else {}
            if (dvcfile, name) in seen or not isinstance(body.get("cmd"), str):
                continue
            wdir = root / (dvcfile.rpartition("/")[0] or ".") / definition.get("wdir", ".")
            deps = tuple(Path(os.path.relpath(wdir / dep, root)).as_posix() for dep in body.get("deps", [])
                         if isinstance(dep, str) and "${" not in dep)
            command = " ".join(part for part in shlex.split(body["cmd"]) if "${" not in part)
            addressing = f"{name}@<no items>" if dvcfile == "dvc.yaml" else f"{dvcfile}:{name}@<no items>"
            found.append(Stage(addressing, dvcfile, f"{name}@<no items>", command, deps))
    return found


@dataclass
class StageReport:
    stage: Stage
    code_deps: list[str]
    needed: dict[Path, str]  # empty when the command is not a task module
    exact: list[str]
    unneeded: set[Path]
    missing: list[str]
    extra: list[str]


def report(modules: ProjectModules, stage: Stage) -> StageReport:
    module = stage_module(stage.command)
    needed = modules.needed(module) if module else {}
    return StageReport(
        stage=stage,
        code_deps=[dep for dep in stage.deps if is_code_dep(modules.root, dep)],
        needed=needed,
        exact=exact_code_deps(modules, needed, module) if module else [],
        unneeded=unneeded_files(modules, stage.command, stage.deps),
        missing=missing_deps(modules, stage.addressing, stage.command, stage.deps),
        extra=extra_deps(modules, stage.addressing, stage.command, stage.deps),
    )


# ---- --write: the code deps in dvc.yaml rewritten to the closure -----------------------------------

CODE_ROOTS = ("shoplm/", "tasks/", "data/generators/")


def _replaceable(root: Path, dep: str) -> bool:
    """A dep entry that --write may replace: code on disk, or code that is gone (a moved module)."""
    if "${" in dep:  # interpolated: kept as written
        return False
    if (root / dep).exists():
        return is_code_dep(root, dep)
    if dep.endswith(".py"):
        return True
    return (dep + "/").startswith(CODE_ROOTS) and not Path(dep).suffix


def _yaml():
    from ruamel.yaml import YAML

    yaml = YAML()  # round trip: comments, anchors and quoting kept
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _rewrite_deps(root: Path, seq, exact: list[str]) -> tuple[list[str], list[str]]:
    """Replace the code entries of the ruamel deps sequence ``seq`` by ``exact``, in place: entries kept
    keep their place, node (anchor) and comment; new ones go after the last code entry kept. Returns
    (removed, added)."""
    wanted = set(exact)
    old = [(item, seq.ca.items.get(i)) for i, item in enumerate(seq)]
    new: list[tuple[object, object]] = []
    seen: set[str] = set()
    removed: list[str] = []
    insert_at: int | None = None
    kept_at: dict[str, int] = {}
    for item, comment in old:
        value = str(item)
        if _replaceable(root, value):
            if insert_at is None:
                insert_at = len(new)
            if value in wanted and value not in seen:
                kept_at[value] = len(new)
                new.append((item, comment))
                seen.add(value)
                insert_at = len(new)
            else:
                removed.append(value)
                if value in kept_at and comment and not new[kept_at[value]][1]:  # a repeat's comment: keep it
                    new[kept_at[value]] = (new[kept_at[value]][0], comment)
            continue
        new.append((item, comment))
        seen.add(value)
    added = [path for path in exact if path not in seen]
    position = insert_at if insert_at is not None else 0
    new[position:position] = [(path, None) for path in added]
    if not removed and not added:
        return [], []
    del seq[:]
    seq.ca.items.clear()
    for index, (item, comment) in enumerate(new):
        seq.append(item)
        if comment:
            seq.ca.items[index] = comment
    return removed, added


def write(modules: ProjectModules, stages: Sequence[Stage]) -> list[str]:
    """Rewrite each stage's code deps in its dvc.yaml to its exact closure; one line per change.

    A foreach/matrix stage's items share one ``deps`` list: it gets the union of their closures (they
    run the same module). A definition with an item whose command is not a task module is left alone.
    """
    groups: dict[tuple[str, str], set[Path]] = {}
    first: dict[tuple[str, str], str] = {}
    skipped: set[tuple[str, str]] = set()
    for stage in stages:
        key = (stage.dvcfile, stage.definition)
        module = stage_module(stage.command)
        if module is None:
            skipped.add(key)
            continue
        groups.setdefault(key, set()).update(modules.needed(module))
        first.setdefault(key, module)
    lines = [f"{file}: {name}: left alone (its command is not a task module)" for file, name in sorted(skipped)]
    yaml = _yaml()
    for dvcfile in sorted({file for file, _ in groups}):
        path = modules.root / dvcfile
        data = yaml.load(path)
        changed = False
        for (file, name), needed in sorted(groups.items()):
            if file != dvcfile or (file, name) in skipped:
                continue
            definition = data["stages"][name]
            body = definition["do"] if "do" in definition else definition
            if "deps" not in body:
                body["deps"] = []
            removed, added = _rewrite_deps(modules.root, body["deps"],
                                           exact_code_deps(modules, needed, first[(file, name)]))
            if removed or added:
                changed = True
                lines.append(f"{dvcfile}: {name}: -{len(removed)} +{len(added)}"
                             + "".join(f"\n    - {p}" for p in removed) + "".join(f"\n    + {p}" for p in added))
        if changed:
            with path.open("w", encoding="utf-8") as out:
                yaml.dump(data, out)
    return lines


# ---- the command line ---------------------------------------------------------------------------------

def _select(stages: list[Stage], patterns: Sequence[str]) -> list[Stage]:
    if not patterns:
        return stages
    return [s for s in stages if any(fnmatch.fnmatchcase(s.addressing, p) for p in patterns)]


def _summary_lines(reports: Sequence[StageReport]) -> list[str]:
    width = max((len(r.stage.addressing) for r in reports), default=0)
    lines = [f"{r.stage.addressing:<{width}}  deps={len(r.stage.deps)}  code={len(r.code_deps)}  "
             f"closure={sum(1 for why in r.needed.values() if why.startswith('module '))}" for r in reports]
    lines.append(f"unneeded (stage, file) pairs: {sum(len(r.unneeded) for r in reports)}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.stage_deps",
        description="Each DVC stage's exact code deps: the project files its `python -m tasks.<stage>` command "
                    "imports, transitively (function-local imports, package __init__ files and lazy package "
                    "exports followed), and the files those modules read beside themselves. A code dep is a .py "
                    "file or a folder with .py files under it; every other dep is data and is left alone. Stages "
                    "come from every dvc.yaml (dvc.yaml, arena/dvc.yaml) as DVC resolves them.",
        epilog="Without an option: per stage, its deps and the fewest code deps that cover its closure exactly "
               "(a folder only where the stage imports every .py file under it).")
    parser.add_argument("stages", nargs="*", metavar="STAGE",
                        help="only these stages (DVC addressing; shell patterns allowed: 'train@*', "
                             "'arena/dvc.yaml:*'); default: all")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--summary", action="store_true",
                      help="one line per stage: `stage  deps=N  code=M  closure=K` (deps listed, of them code "
                           "deps, modules in its closure), then the number of (stage, .py file) pairs where the "
                           "file is under a code dep of a stage that never imports it")
    mode.add_argument("--check", action="store_true",
                      help="list every missing dep (code a stage runs that no dep covers) and extra dep (a code "
                           "dep holding .py files the stage never imports), per stage; exit 1 if there are any")
    mode.add_argument("--write", action="store_true",
                      help="rewrite the code deps of each stage in dvc.yaml / arena/dvc.yaml to its exact closure, "
                           "keeping its data deps (data, models, other stages' outputs, templates folders, "
                           "${...} entries), their order and comments; a foreach/matrix stage gets the union of "
                           "its items' closures")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root (default: %(default)s)")
    args = parser.parse_args(argv)

    root = args.root.resolve()
    modules = ProjectModules(root)
    stages = _select(load_stages(root), args.stages)
    if args.stages and not stages:
        parser.error(f"no stage matches {' '.join(args.stages)}")

    if args.write:
        lines = write(modules, stages)
        print("\n".join(lines) if lines else "code deps already exact: nothing to write")
        return 0

    reports = [report(modules, stage) for stage in stages]
    if args.summary:
        print("\n".join(_summary_lines(reports)))
        return 0
    if args.check:
        failing = [r for r in reports if r.missing or r.extra]
        for r in failing:
            print(f"{r.stage.addressing}: {len(r.missing)} missing, {len(r.extra)} extra")
            for message in r.missing + r.extra:
                print(f"  {message}")
        print(f"{len(failing)} of {len(reports)} stages have missing or extra code deps" if failing
              else f"all {len(reports)} stages depend on exactly the code they run")
        return 1 if failing else 0
    for r in reports:
        print(f"{r.stage.addressing}: {len(r.stage.deps)} deps, {len(r.code_deps)} of them code; "
              f"its closure needs {len(r.exact)}:")
        if not r.needed:
            print(f"  ({_not_a_task(r.stage.addressing, r.stage.command)})")
        for path in r.exact:
            print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
