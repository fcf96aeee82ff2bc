"""The stages log to a real MLflow tracking server through MLFLOW_TRACKING_URI, and the final model goes
through its model registry: stage quantize on the tiny model, stage register_model, then the runs,
artifacts and registered version read back over the REST API, and the model fetched by alias, file for
file and logit for logit the folder the stage registered."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.cluster.conftest import quiet_env
from tests.pipeline.conftest import copy_repository

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

MODEL = "tiny-merged"
# Quantize a "merged" model that is the tiny base itself, scored on 4 sample questions: seconds on a CPU.
PROFILE = f"""\
quantize:
  model: {MODEL}
  eval_set: sample
  eval_limit: 4
  calibration: {{set: sample, samples: 4, max_seq_len: 128}}
"""


EXPERIMENT = "registry-stages"


def _stage(root: Path, module: str, tracking_uri: str) -> str:
    proc = subprocess.run([sys.executable, "-m", module], cwd=root, capture_output=True, text=True, timeout=600,
                          env=quiet_env(MLFLOW_TRACKING_URI=tracking_uri, OMP_NUM_THREADS="1",
                                        # the server is shared by the session's tests: our own experiment
                                        SHOPLM_MLFLOW_EXPERIMENT=EXPERIMENT))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def registered(tmp_path_factory, tiny_base_dir, mlflow_server):
    """A repository copy in which quantize and register_model ran against the server."""
    from shoplm.params.profiles import use_profile

    root = copy_repository(tmp_path_factory.mktemp("repo"))
    (root / "profiles/cluster-test.yaml").write_text(PROFILE)
    use_profile("cluster-test", target=root / "params.yaml", profiles_dir=root / "profiles")
    shutil.copytree(tiny_base_dir, root / "models/merged" / MODEL)
    (root / "data/eval").mkdir(parents=True)
    shutil.copy(root / "data/sample/shopbench/questions.jsonl", root / "data/eval/sample.jsonl")
    quantize_out = _stage(root, "tasks.quantize", mlflow_server.url)
    register_out = _stage(root, "tasks.register_model", mlflow_server.url)
    print(quantize_out, register_out, sep="\n")
    return root, register_out


def _api(server, method: str, endpoint: str, **kwargs) -> dict:
    response = requests.request(method, f"{server.url}/api/2.0/mlflow/{endpoint}", timeout=30, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_stage_runs_and_artifacts_read_back_over_rest(registered, mlflow_server):
    root, _ = registered
    experiment = _api(mlflow_server, "GET", "experiments/get-by-name", params={"experiment_name": EXPERIMENT})
    runs = _api(mlflow_server, "POST", "runs/search", json={
        "experiment_ids": [experiment["experiment"]["experiment_id"]], "max_results": 10})["runs"]
    by_stage = {next(t["value"] for t in run["data"]["tags"] if t["key"] == "shoplm.stage"): run for run in runs}
    assert set(by_stage) == {"quantize", "register_model"}

    quantize_metrics = {m["key"]: m["value"] for m in by_stage["quantize"]["data"]["metrics"]}
    local = json.loads((root / f"reports/quantize/{MODEL}/metrics.json").read_text())
    assert quantize_metrics["rtn/after/track5"] == pytest.approx(local["rtn/after/track5"])
    assert quantize_metrics["rtn/output_mb"] < quantize_metrics["rtn/source_mb"]

    run_id = by_stage["register_model"]["info"]["run_id"]
    listed = _api(mlflow_server, "GET", "artifacts/list", params={"run_id": run_id, "path": "model"})
    names = {Path(f["path"]).name for f in listed["files"]}
    on_disk = {p.name for p in (root / "models/quantized" / MODEL).iterdir() if p.is_file()}
    assert names == on_disk and "config.json" in names
    config = requests.get(f"{mlflow_server.url}/get-artifact", params={"run_uuid": run_id, "path": "model/config.json"},
                          timeout=30)
    assert config.content == (root / "models/quantized" / MODEL / "config.json").read_bytes()


def test_registered_version_carries_the_scores_and_both_aliases(registered, mlflow_server):
    root, printed = registered
    local = json.loads((root / f"reports/quantize/{MODEL}/metrics.json").read_text())
    version = _api(mlflow_server, "GET", "registered-models/alias",
                   params={"name": "shoplm", "alias": "champion"})["model_version"]
    tags = {t["key"]: t["value"] for t in version["tags"]}
    assert float(tags["after/track5"]) == pytest.approx(local["rtn/after/track5"], abs=1e-5)
    assert float(tags["before/track5"]) == pytest.approx(local["before/track5"], abs=1e-5)
    assert tags["quantize.method"] == "rtn" and "Track 5" in version["description"]
    assert sorted(version["aliases"]) == ["candidate", "champion"] and version["version"] == "1"
    record = json.loads((root / f"reports/register_model/{MODEL}.json").read_text())
    assert record["version"] == "1" and record["uri"] == "models:/shoplm@candidate"
    assert "champion → version 1" in printed


def test_fetch_by_alias_round_trips_the_model(registered, mlflow_server, tmp_path, monkeypatch):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from flows.release import release
    from shoplm.model_registry import FETCH_RECORD

    root, _ = registered
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    result = release.fn(model="shoplm@champion", dest=str(tmp_path / "release"))  # the deployment step's body
    folder = Path(result["path"])
    source = root / "models/quantized" / MODEL
    fetched = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.name != FETCH_RECORD}
    original = {p.relative_to(source): p.read_bytes() for p in source.rglob("*") if p.is_file()}
    assert fetched == original
    assert json.loads((folder / FETCH_RECORD).read_text())["version"] == result["version"] == "1"

    tokenizer = AutoTokenizer.from_pretrained(folder)
    ids = torch.tensor([tokenizer("Which product fits the query 'usb c cable 2m'?")["input_ids"]])
    with torch.inference_mode():
        logits = [AutoModelForCausalLM.from_pretrained(path).eval()(ids).logits for path in (source, folder)]
    assert torch.equal(*logits)


def test_champion_moves_only_to_a_version_that_scores_at_least_as_well(registered, mlflow_server, monkeypatch):
    import mlflow

    from shoplm import tracking
    from shoplm.model_registry import lookup, promote_if_better, register_folder

    root, _ = registered
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    monkeypatch.chdir(root)
    champion = float(lookup("shoplm@champion").tags["after/track5"])
    moves = []
    for score in (champion - 0.1, champion + 0.1):
        tracking.configure(root)
        with mlflow.start_run(run_name="register_model"):
            version = register_folder(root / "models/quantized" / MODEL, "shoplm", ["candidate"],
                                      {"after/track5": f"{score:.6g}"})
            moves.append(promote_if_better(version, "champion", "after/track5")[0])
        assert lookup("shoplm@candidate").version == version.version  # the newest, whatever it scored
    assert moves == [False, True]
    assert lookup("shoplm@champion").version == "3"
