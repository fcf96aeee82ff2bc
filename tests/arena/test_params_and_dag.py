"""arena/params.yaml validates with file:line errors; arena/dvc.yaml covers its code and stays apart."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest
import yaml

from shoplm.arena.settings import load_arena_section
from shoplm.config import ParamsError

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "arena" / "params.yaml"


def _dag_checker():
    """tests/test_dag_deps.py's import-closure checker (not importable by name under importlib mode)."""
    spec = importlib.util.spec_from_file_location("dag_deps", ROOT / "tests" / "test_dag_deps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


@pytest.mark.parametrize("stage, command, deps", _arena_stages(), ids=lambda v: v if isinstance(v, str) else "")
def test_arena_stage_deps_cover_the_code_it_imports(stage, command, deps):
    checker = _dag_checker()
    assert shlex.split(command)[:3] == ["python", "-m", f"tasks.{shlex.split(command)[2].split('.')[1]}"]
    assert checker.missing_deps(checker.ProjectModules(ROOT), stage, command, deps) == []


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
