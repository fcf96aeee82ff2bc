"""The training stages share code through the library only: no stage module imports another."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TASKS = Path(__file__).resolve().parents[2] / "tasks"


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names if node.module == "tasks")
    return found


@pytest.mark.parametrize("stage", ["train", "dpo"])
def test_training_stage_imports_no_other_stage(stage):
    stages = {m for m in imported_modules(TASKS / f"{stage}.py") if m.startswith("tasks.")}
    assert stages <= {"tasks._runner"}, f"tasks/{stage}.py imports {sorted(stages)}: share through shoplm"
