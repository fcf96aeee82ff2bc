"""What a flow run will do, decided before it touches anything: its params, its stages, what it forces.

Every mistake in a flow run's arguments fails here, at once, in one line: an unknown profile, a params
typo (file and line), an evaluation set whose file does not exist, a stage name that is not in the DAG
(with a did-you-mean). Nothing has run, no MLflow run is open and ``params.yaml`` is untouched.

The run's params are ``params.yaml`` as it is, or a profile resolved over the defaults, plus any
``eval_sets`` given to the run (they add or repoint sets, keeping the others). The stage list is what
DVC expands from ``dvc.yaml`` with exactly those params, read in a scratch folder so that the user's
``params.yaml`` is not needed (nor changed) to plan a run that uses other params.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from shoplm.params import profiles
from shoplm.params.loader import PARAMS_FILE, ParamsError, validate_eval_sets
from shoplm.registry import UnknownNameError


@dataclass(frozen=True)
class RunPlan:
    params_text: str  # what params.yaml holds while the run's stages run
    label: str  # the params' origin, for the MLflow tag "profile"
    order: list[str]  # every stage of the DAG, dependencies first
    selected: list[str]  # the stages this run executes, in order
    forced: set[str] = field(default_factory=set)


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory when inside it: what messages and headers show."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def run_params(root: Path, profile: str | None, eval_sets: dict[str, str] | None) -> tuple[str, str]:
    """(params text, label) for one run; validated, every evaluation set's file checked to exist."""
    params_file = _shown(root / PARAMS_FILE)
    if eval_sets:  # the run's own sets: an error names them, not the params file they are merged into
        try:
            validate_eval_sets(dict(eval_sets))
        except ValueError as exc:
            raise ParamsError(f"eval_sets parameter: {exc}") from None
    extra = {"eval_sets": dict(eval_sets)} if eval_sets else None
    if profile:
        resolved = profiles.resolve(profile, extra=extra, extra_source="eval_sets parameter",
                                    profiles_dir=_shown(root / profiles.PROFILES_DIR))
    else:
        resolved = profiles.resolve_files([params_file], name=str(PARAMS_FILE), extra=extra,
                                          extra_source="eval_sets parameter")
    params = resolved.validate()
    for name, path in params.eval_sets.items():
        if not (root / path).is_file():
            where = resolved.origin_of(("eval_sets", name))
            raise ParamsError(f"{where}: eval_sets.{name}: {path}: no such file")
    if not profile and not extra:
        return params_file.read_text(encoding="utf-8"), str(PARAMS_FILE)
    label = profile or str(PARAMS_FILE)
    header = (f"Parameters of one pipeline run: {' + '.join(resolved.layers)}.\n"
              "params.yaml is given back, byte-identical, when the run ends (shoplm.params.lock).")
    return resolved.render(header), label


def stage_order(root: Path, params_text: str) -> list[str]:
    """Every stage DVC expands from dvc.yaml with these params, dependencies first, ties by name."""
    import networkx as nx
    from dvc.repo import Repo

    with tempfile.TemporaryDirectory(prefix="shoplm-plan-") as scratch:
        shutil.copy(root / "dvc.yaml", scratch)
        (Path(scratch) / PARAMS_FILE).write_text(params_text, encoding="utf-8")
        with Repo(scratch, uninitialized=True) as repo:
            graph = repo.index.graph
            # Edges point from a stage to the stages it depends on; reverse them for execution order.
            order = nx.lexicographical_topological_sort(graph.reverse(copy=True), key=lambda s: s.name)
            # Data tracked with `dvc add` shows up as command-less stages: nothing to run.
            # `name` (not `addressing`, which is relative to the working directory): one dvc.yaml, at the root.
            return [stage.name for stage in order if getattr(stage, "cmd", None)]


def matches(stage: str, names: Iterable[str]) -> bool:
    """'evaluate' names 'evaluate' and every 'evaluate@…' item; 'evaluate@sample' only itself."""
    return any(stage == n or stage.startswith(f"{n}@") for n in names)


def check_stage_names(names: Iterable[str], order: list[str]) -> None:
    known = sorted({*order, *(stage.split("@")[0] for stage in order)})
    for name in names:
        if name not in known:
            raise UnknownNameError("stage", name, known)


def plan_run(root: Path, profile: str | None = None, eval_sets: dict[str, str] | None = None,
             stages: list[str] | None = None, force: list[str] | None = None,
             skip: list[str] | None = None) -> RunPlan:
    params_text, label = run_params(root, profile, eval_sets)
    order = stage_order(root, params_text)
    check_stage_names([*(stages or []), *(force or []), *(skip or [])], order)
    selected = [s for s in order if matches(s, stages)] if stages else order
    selected = [s for s in selected if not matches(s, skip or [])]
    return RunPlan(params_text=params_text, label=label, order=order, selected=selected,
                   forced={s for s in selected if matches(s, force or [])})
