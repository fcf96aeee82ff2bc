"""tasks.evaluate refuses an unknown backend before loading anything, naming the params key."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoplm.config import ParamsError
from tasks import evaluate

REPO = Path(__file__).resolve().parents[1]


def test_unknown_backend_fails_naming_the_key(tmp_path, monkeypatch):
    params = tmp_path / "params.yaml"
    params.write_text((REPO / "params.yaml").read_text().replace("  backend: transformers", "  backend: vllm", 1))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParamsError, match=r"params.yaml:\d+: evaluate.backend: unknown inference backend 'vllm'. "
                       r"Known: .*transformers"):
        evaluate.main(["sample", "--params", str(params)])
    assert not (tmp_path / "reports").exists()
