"""A weights file cut short is refused in one line naming it and the DVC stage that restores it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shoplm.modeling.integrity import DamagedWeightsError, check_weights, producing_stage

ROOT = Path(__file__).resolve().parents[2]


def _adapter(folder: Path) -> Path:
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True)
    save_file({"a": torch.zeros(4, 8), "b": torch.ones(8, 4)}, str(folder / "adapter_model.safetensors"))
    return folder / "adapter_model.safetensors"


def _truncate(path: Path, keep: int = 40) -> None:
    path.write_bytes(path.read_bytes()[:keep])


def _project(tmp_path: Path) -> Path:
    """A folder laid out like the repository: a dvc.lock whose train@v7 records models/adapters/v7."""
    lock = {"schema": "2.0", "stages": {
        "base": {"cmd": "python -m tasks.base", "outs": [{"path": "models/base", "md5": "0.dir"}]},
        "train@v7": {"cmd": "python -m tasks.train v7", "outs": [{"path": "models/adapters/v7", "md5": "1.dir"}]},
    }}
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump(lock))
    return tmp_path


def test_a_whole_file_passes_and_a_truncated_one_names_the_file_and_the_restoring_stage(tmp_path):
    root = _project(tmp_path)
    weights = _adapter(root / "models/adapters/v7")
    check_weights(weights.parent)  # intact: no error

    _truncate(weights)
    with pytest.raises(DamagedWeightsError) as caught:
        check_weights(weights.parent)
    message = str(caught.value)
    assert str(weights) in message and "dvc checkout train@v7" in message
    assert "\n" not in message


def test_the_producing_stage_is_read_from_dvc_lock_and_none_outside_any_stage(tmp_path):
    root = _project(tmp_path)
    assert producing_stage(root / "models/adapters/v7/adapter_model.safetensors") == "train@v7"
    assert producing_stage(root / "models/base/model.safetensors") == "base"
    assert producing_stage(root / "models/adapters/v8/adapter_model.safetensors") is None

    stray = _adapter(root / "elsewhere")
    stray.write_bytes(b"")
    with pytest.raises(DamagedWeightsError, match="rebuild it"):
        check_weights(stray.parent)


@pytest.mark.slow
def test_evaluating_a_truncated_adapter_exits_2_with_one_line(tmp_path, tiny_base_dir):
    """The replay of the user's report: the evaluate stage on a cut adapter, one line, exit code 2."""
    from shoplm.modeling.integrity import LOCK_FILE

    root = _project(tmp_path)
    shutil.copytree(tiny_base_dir, root / "models/base")
    weights = _adapter(root / "models/adapters/v7")
    (weights.parent / "adapter_config.json").write_text("{}")
    _truncate(weights)
    (root / "data/eval").mkdir(parents=True)
    shutil.copy(ROOT / "data/sample/shopbench/questions.jsonl", root / "data/eval/sample.jsonl")
    shutil.copy(ROOT / "params.yaml", root / "params.yaml")
    assert (root / LOCK_FILE).is_file()
    env = {"PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
           "PATH": "/usr/bin:/bin", "MLFLOW_DISABLE_TELEMETRY": "true"}
    proc = subprocess.run([sys.executable, "-m", "tasks.evaluate", "sample", "--adapter", "v7",
                           "--backend", "transformers"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "Traceback" not in proc.stderr
    assert lines[-1].startswith("error: models/adapters/v7/adapter_model.safetensors: damaged weights file")
    assert "dvc checkout train@v7" in lines[-1]
