"""The params package imports no library it configures, and the lazy name lists match the registries.

Every stage imports its section's schema, so whatever the schemas import is in every stage's DVC deps
and start-up time. Importing every module of ``shoplm.params`` (the whole-file model included) must load
neither pandas nor torch nor transformers, as ``python -X importtime`` shows in a fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shoplm.builders.registry import BUILDER_MODULES, BUILDERS
from shoplm.inference.backends import BACKENDS
from shoplm.params.synthesis import LLM_ROWS

REPO_ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "torch", "transformers", "vllm", "peft", "numpy")
PARAMS_MODULES = sorted(f"shoplm.params.{path.stem}" for path in (REPO_ROOT / "shoplm/params").glob("*.py")
                        if path.stem != "__init__")


def _imported_top_level(code: str) -> set[str]:
    """Top-level packages that ``-X importtime`` reports for ``code`` in a fresh interpreter."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=True)
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_importing_every_params_module_loads_no_heavy_library() -> None:
    imported = _imported_top_level("; ".join(f"import {module}" for module in PARAMS_MODULES))
    assert "shoplm" in imported and "pydantic" in imported  # the check itself sees imports
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


def test_a_stage_section_loads_without_heavy_libraries() -> None:
    # Loading and validating the sections of the stages that run no model (build's mixtures name
    # builders; evaluate names a backend) reads the registries' name lists, not their implementations.
    code = ("from shoplm.params.loader import load_section; from shoplm.params.build import BuildSettings; "
            "from shoplm.params.evaluate import EvaluateSection; load_section(BuildSettings, 'params.yaml'); "
            "load_section(EvaluateSection, 'params.yaml')")
    imported = _imported_top_level(code)
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


@pytest.mark.parametrize("registry", [BUILDERS, BACKENDS], ids=lambda r: r.kind)
def test_a_lazy_name_list_is_what_the_implementations_register(registry) -> None:
    listed = registry.names()  # read before loading: the list
    registered = [name for name, _ in registry.items()]  # loads every implementation
    assert registry.unlisted() == []
    assert registered[: len(listed)] == listed


def test_the_llm_rows_are_the_builders_that_need_an_llm() -> None:
    assert set(LLM_ROWS) == {name for name, spec in BUILDERS.items() if spec.needs_llm}
    assert set(BUILDER_MODULES["llm_rows"]) == set(LLM_ROWS)
