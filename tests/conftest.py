"""Repository-wide test setup: offline, one OpenMP thread, the base models built once per session.

``tiny_base_dir`` (the test double, seconds) serves nearly every test; ``smol_base_dir`` (the real
SmolLM2-135M-Instruct converted from its GGUF file, a minute or more) serves the few slow tests that
need a real language model.

The environment is set at import, before any test module imports torch or huggingface_hub, so it
holds for the whole session: nothing is downloaded, and tiny-model CPU work runs 5-10x faster and
steadier with one OpenMP thread on small machines. Tests marked ``gpu`` are skipped without CUDA.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
if "torch" in sys.modules:  # imported before this file (a plugin): apply the thread count anyway
    sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

REPO_ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ["tests.plugins.durations"]  # the time-by-category table at the end of every run
#: Pre-training steps of the session's tiny model: enough for the answer format (see
#: tests/modeling/test_tiny_model.py), about half the default, so the fixture stays near 15 s.
FIXTURE_PRETRAIN_STEPS = 100


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if gpu_items and not _cuda_available():
        skip = pytest.mark.skip(reason="needs CUDA (marked gpu); none available")
        for item in gpu_items:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_base_spec():
    """The default ``TinyModelSpec`` with fewer pre-training steps."""
    from shoplm.params.base import TinyModelSpec

    return TinyModelSpec(pretrain_steps=FIXTURE_PRETRAIN_STEPS)


@pytest.fixture(scope="session")
def tiny_base_dir(tmp_path_factory: pytest.TempPathFactory, tiny_base_spec) -> Path:
    """A saved tiny Qwen2 base model (config, safetensors, tokenizer, chat template), built once.

    Treat it as read-only; copy it (``shutil.copytree``) before changing anything in it.
    """
    from shoplm.modeling import build_tiny_base

    out = tmp_path_factory.mktemp("tiny_base")
    build_tiny_base(tiny_base_spec, out, progress=False)
    return out


#: The packaged GGUF model that the ``smol`` profile converts.
SMOL_MODEL = "smollm2-135m-instruct"


@pytest.fixture(scope="session")
def smol_gguf_file() -> Path:
    """The packaged SmolLM2 GGUF file; the test skips when the package or the gguf reader is absent."""
    pytest.importorskip("gguf", reason="gguf is needed to read GGUF files (make install puts it in .venv)")
    from shoplm.modeling import BaseModelNotFound
    from shoplm.modeling.gguf import locate_gguf

    try:
        return locate_gguf(SMOL_MODEL)[0]
    except BaseModelNotFound as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def smol_base_dir(tmp_path_factory: pytest.TempPathFactory, smol_gguf_file: Path) -> Path:
    """SmolLM2-135M-Instruct converted once per session (fp32), as stage base writes it. Read-only."""
    from shoplm.modeling.gguf import convert_gguf

    out = tmp_path_factory.mktemp("smol_base")
    convert_gguf(SMOL_MODEL, out, dtype="float32")
    return out
