"""Repository-wide test setup: offline, one OpenMP thread, the base models built once per session.

``tiny_base_dir`` (the test double, seconds) serves nearly every test; ``smol_base_dir`` (the real
SmolLM2-135M-Instruct converted from its GGUF file, a minute or more) serves the few slow tests that
need a real language model.

The environment is set at import, before any test module imports torch or huggingface_hub, so it
holds for the whole session: nothing is downloaded, and tiny-model CPU work runs 5-10x faster and
steadier with one OpenMP thread on small machines. Tests marked ``gpu`` are skipped without CUDA.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
#: The core this process's vLLM engines compute on. Under pytest-xdist (make test: two workers on two
#: cores) each worker binds its own, so the engine of one never competes with the other's for a core;
#: stage subprocesses and servers started by a test inherit it.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
WORKER_CORE = str(int(WORKER.removeprefix("gw") or 0) % (os.cpu_count() or 1))
os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", WORKER_CORE)
if "torch" in sys.modules:  # imported before this file (a plugin): apply the thread count anyway
    sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

# Collection imports torch, transformers, peft, vLLM and the rest into each worker: the cyclic collector
# off meanwhile (shoplm/startup.py says why), then what collection built is frozen out of its passes
# (gc.freeze: the modules live as long as the session) and it is back on for the tests.
gc.disable()
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


#: Session fixtures that hold a process, a port or minutes of work. Under ``--dist loadgroup`` every test
#: that uses one runs on the same worker, so each is started once per run, not once per worker.
XDIST_GROUPS = {
    "pipeline_run": "pipeline",      # the whole tiny DAG under the Prefect flow (tests/pipeline)
    "vllm_engine": "vllm-engine",    # one in-process vLLM engine (tests/inference/conftest.py)
    "vllm_url": "vllm-server",       # one vLLM OpenAI-compatible server (tests/synthesis/conftest.py)
    "mlflow_server": "servers",      # real MLflow and Prefect servers (tests/cluster/conftest.py)
    "prefect_server": "servers",
    # Built once for both workers (built_once), but a worker that needs it while the other builds it waits
    # idle on the lock: the SmolLM2 conversion took 54 s, and its second test's worker sat out 49 of them.
    "smol_base_dir": "smol",
}


def xdist_group(item: pytest.Item) -> str | None:
    """The worker group of a test: its expensive session fixture's (XDIST_GROUPS), else its module's when
    it uses a module-scoped fixture (split over two workers, such a fixture would be built twice)."""
    names = getattr(item, "fixturenames", ())
    groups = sorted({XDIST_GROUPS[name] for name in names if name in XDIST_GROUPS})
    if groups:
        return groups[0]
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    if any(defs and defs[-1].scope == "module" for defs in definitions.values()):
        return item.nodeid.split("::")[0]
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    groups = {item.nodeid: xdist_group(item) for item in items}
    # The module-fixture tests of a module some of whose tests join a session fixture's group join that
    # group too, so the module fixture is built on that one worker (tests/inference: the transformers
    # constraints module shares its questions with its vLLM test).
    session_group_of_module: dict[str, str] = {}
    for item in items:
        if groups[item.nodeid] in XDIST_GROUPS.values():
            session_group_of_module.setdefault(item.nodeid.split("::")[0], groups[item.nodeid])
    for item in items:
        module, group = item.nodeid.split("::")[0], groups[item.nodeid]
        if group == module:
            group = session_group_of_module.get(module, module)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if gpu_items and not _cuda_available():
        skip = pytest.mark.skip(reason="needs CUDA (marked gpu); none available")
        for item in gpu_items:
            item.add_marker(skip)


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.freeze()
    gc.enable()


def pytest_sessionstart(session: pytest.Session) -> None:
    if getattr(session.config.option, "dist", "no") != "no" and not hasattr(session.config, "workerinput"):
        gc.enable()  # xdist's controller collects nothing: the workers do


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, inputs: object,
               build: Callable[[Path], None]) -> Path:
    """``build(folder)`` once per run and per ``inputs``, shared by every xdist worker of the run.

    The folder is ``<the run's temporary root>/<name>-<digest of inputs>``; a file lock makes the other
    workers wait for the first one's build, and a folder left half-built by a killed worker is rebuilt.
    """
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:  # <run>/popen-gwN: the run's root is shared by its workers
        root = root.parent
    out = root / f"{name}-{hashlib.sha256(repr(inputs).encode()).hexdigest()[:12]}"
    done = out.with_name(out.name + ".done")  # beside the folder: tests compare the folder's file list
    with FileLock(str(out) + ".lock"):
        if not done.is_file():
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            build(out)
            done.touch()
    return out


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

    return built_once(tmp_path_factory, "tiny_base", tiny_base_spec,
                      lambda out: build_tiny_base(tiny_base_spec, out, progress=False))


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

    return built_once(tmp_path_factory, "smol_base", (SMOL_MODEL, str(smol_gguf_file), "float32"),
                      lambda out: convert_gguf(SMOL_MODEL, out, dtype="float32"))
