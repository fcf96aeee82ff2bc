"""arena/params.yaml validates with file:line errors; arena/dvc.yaml covers its code and stays apart."""

from __future__ import annotations

import re
import shlex
from functools import cache
from pathlib import Path

import pytest
import yaml

from arena.settings import load_arena_section
from shoplm.params.loader import ParamsError
from tools.stage_deps import ProjectModules, missing_deps

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "arena" / "params.yaml"
#: Where the ast import walk looks: the arena package is a project package beside shoplm.
PACKAGES = ("shoplm", "tasks", "data", "arena")
#: All that the arena shares with shoplm; any other shoplm module would tie the two DAGs together.
SHARED_SHOPLM = {"shoplm", "shoplm.errors", "shoplm.registry", "shoplm.startup", "shoplm.tracking",
                 "shoplm.params", "shoplm.params.loader"}


@cache
def _modules():
    return ProjectModules(ROOT, PACKAGES)


@pytest.mark.parametrize("section", ["data", "baselines", "classifiers", "ensemble"])
def test_every_section_of_the_shipped_params_validates(section):
    assert load_arena_section(section, PARAMS)


@pytest.mark.parametrize("edit, message", [
    (lambda p: p["data"].update(vaild_fold=1), r"params.yaml:\d+: data.vaild_fold: unknown key"),
    (lambda p: p["baselines"]["models"].update(gbtd={}), r"Did you mean 'gbdt'"),
    (lambda p: p["baselines"]["models"]["bucket"].update(quantile=10), r"baselines.models.bucket: .*unexpected keyword argument 'quantile'"),
    (lambda p: p["classifiers"]["models"]["minilm"].update(lora_rank=4), r"minilm.lora_rank: unknown key"),
    (lambda p: p["ensemble"].update(calibrations=["temprature"]), r"Did you mean 'temperature'"),
])
def test_a_typo_names_file_line_and_key(tmp_path, edit, message):
    params = yaml.safe_load(PARAMS.read_text())
    edit(params)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    errors = []
    for name in ("data", "baselines", "classifiers", "ensemble"):
        try:
            load_arena_section(name, path)
        except ParamsError as exc:
            errors.append(str(exc))
    assert len(errors) == 1, errors  # only the edited section fails
    assert re.match(rf"{re.escape(str(path))}:\d+: ", errors[0]), errors[0]
    assert re.search(message, errors[0]), errors[0]


def _arena_stages() -> list[tuple[str, str, list[str]]]:
    stages = yaml.safe_load((ROOT / "arena" / "dvc.yaml").read_text())["stages"]
    out = []
    for name, stage in stages.items():
        assert stage.get("wdir") == "..", f"{name}: arena stages run from the repository root"
        out.append((name, stage["cmd"], stage["deps"]))
    return out


def _task_module(command: str) -> str:
    argv = shlex.split(command)
    assert argv[:2] == ["python", "-m"] and argv[2].startswith("tasks.arena_"), command
    return argv[2]


@pytest.mark.parametrize("stage, command, deps", _arena_stages(), ids=lambda v: v if isinstance(v, str) else "")
def test_arena_stage_deps_cover_the_code_it_imports(stage, command, deps):
    _task_module(command)
    assert missing_deps(_modules(), stage, command, deps) == []


@pytest.mark.parametrize("stage, command, deps", _arena_stages(), ids=lambda v: v if isinstance(v, str) else "")
def test_arena_stage_code_deps_are_exactly_its_import_closure(stage, command, deps):
    """No code dep beyond what the stage imports: a ShopBench edit must not rerun it."""
    closure = _modules().closure(_task_module(command))
    outside = {m: " → ".join(chain) for m, chain in closure.items()
               if m.split(".")[0] == "shoplm" and m not in SHARED_SHOPLM}
    assert not outside, f"stage {stage} imports ShopBench modules: {outside}"
    code = {str(_modules().file(m).relative_to(ROOT)) for m in closure}
    code_deps = {d for d in deps if d.split("/")[0] in PACKAGES and not d.startswith("data/sample/")}
    assert "arena" not in deps  # the folder holds dvc.yaml and params.yaml: each file is listed instead
    assert code_deps == code, f"stage {stage}: extra {sorted(code_deps - code)}, missing {sorted(code - code_deps)}"


def test_shopbench_code_never_imports_the_arena():
    """The reverse: no module of shoplm, data or a ShopBench stage (tasks/*.py but tasks/arena_*) imports
    arena code, so no ShopBench import closure reaches it (every path into it starts with such an import)."""
    modules = _modules()
    offenders = []
    for package in ("shoplm", "data", "tasks"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            if module.startswith("tasks.arena_") or modules.file(module) is None:
                continue
            offenders += [f"{module} imports {m}" for m in sorted(modules.imports(module))
                          if m.split(".")[0] == "arena" or m.startswith("tasks.arena_")]
    assert not offenders, offenders


@pytest.mark.slow
def test_the_two_flows_split_the_stages():
    from flows.arena import arena_stage_order
    from flows.plan import stage_order

    shopbench = stage_order(ROOT, (ROOT / "params.yaml").read_text(encoding="utf-8"))
    arena = arena_stage_order(ROOT)
    assert not [s for s in shopbench if s.startswith("arena/")]  # `make run` is unchanged
    assert arena[-1] == "arena/dvc.yaml:arena_ensemble"
    assert arena.index("base") < arena.index("arena/dvc.yaml:arena_decoder")
    assert "evaluate@sample" not in arena  # only what the arena stages need
    classifiers = yaml.safe_load(PARAMS.read_text())["classifiers"]["models"]
    assert {f"arena/dvc.yaml:arena_{name}" for name in classifiers} <= set(arena)  # one stage each
