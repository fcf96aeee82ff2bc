"""Synthesis against a fault-injecting OpenAI-compatible server: retries, Retry-After, budgets, reject
counts, the cache (nothing lost, nothing sent twice) and no API key in any output."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from shoplm.builders.decontam import decontaminate  # noqa: F401  (imports the builders first)
from shoplm.params.file import load_params
from shoplm.params.synthesis import SynthSection
from shoplm.synthesis.cache import ResponseCache
from shoplm.synthesis.client import ChatClient
from shoplm.synthesis.ledger import Ledger
from shoplm.synthesis.runner import synthesize
from tests.synthesis.fault_server import FaultServer

REPO = Path(__file__).resolve().parents[2]
ROW = "reviews-complement-category-mc"


def products(n: int, special: dict[int, str] | None = None) -> dict[str, pd.DataFrame]:
    titles = [f"Product number {i} {(special or {}).get(i, '')}".strip() for i in range(n)]
    return {"reviews2023_meta": pd.DataFrame({"title": titles, "categories": [["Home"]] * n,
                                              "features": [["sturdy"]] * n, "description": [["nice"]] * n,
                                              "parent_asin": [f"A{i}" for i in range(n)]})}


def reply_for(prompt: str) -> tuple[str, str]:
    """A valid reply unless the product's title asks for a broken one."""
    tag = hashlib.sha1(prompt.encode()).hexdigest()[:6]
    data = {"product_type": f"gadget {tag}", "complements": ["cable", "case", "charger"],
            "unrelated": ["sofa", "lipstick", "tennis ball", "garden hose", "cat food", "curtain"]}
    if "BADJSON" in prompt:
        return '{"product_type": "gadget", "complements": [', "stop"
    if "DUPES" in prompt:
        data["unrelated"] = ["sofa"] * 6
    if "TRUNC" in prompt:
        return json.dumps(data)[:30], "length"
    return json.dumps(data), "stop"


def settings(**overrides) -> SynthSection:
    base = {"base_url": "http://unused/v1", "server": {"launch": False}, "rows": {ROW: 10}, "concurrency": 3,
            "timeout_s": 0.5, "retries": {"max_attempts": 4, "initial_s": 0.01, "max_s": 2.0},
            "prices": {"prompt_per_1k": 0.5, "completion_per_1k": 1.0}}
    return SynthSection.model_validate({**base, **overrides})


@pytest.fixture
def server():
    fake = FaultServer(reply_for)
    fake.url = fake.start()
    yield fake
    fake.stop()


def run(fake: FaultServer, tmp_path: Path, frames, cfg: SynthSection, sleeps: list | None = None):
    ledger = Ledger(cfg.prices)
    client = ChatClient(fake.url, cfg.model, "sk-test", cfg.timeout_s, cfg.retries, ledger,
                        sleep=(sleeps.append if sleeps is not None else (lambda s: None)))
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        result = synthesize(cfg, frames, client, cache, ledger, endpoint=fake.url, progress=False)
        return result, ledger, len(cache)


def test_transport_faults_are_retried_and_nothing_is_lost_or_sent_twice(server, tmp_path):
    server.faults = ["429", "500", "timeout", "truncated", "malformed"]
    frames = products(8, {1: "BADJSON", 2: "DUPES", 3: "TRUNC"})
    sleeps: list[float] = []
    result, ledger, cached = run(server, tmp_path, frames, settings(), sleeps)

    assert ledger.retries == 5 and ledger.requests == 8 and ledger.failed_requests == 0
    assert max(sleeps) >= server.retry_after_s  # the 429's Retry-After was waited, beyond the tiny backoff
    assert dict(result.rejects) == {"malformed_json": 1, "duplicate_options": 1, "truncated": 1}
    assert len(result.questions) == 5 and result.rows[ROW]["accepted"] == 5
    assert len({q.input_field for _, q in result.questions}) == 5
    assert sorted(server.answered) == sorted(set(server.answered)) and len(server.answered) == 8
    assert cached == 8
    assert ledger.tokens == 8 * 120 and ledger.cost == pytest.approx(8 * (100 * 0.5 + 20 * 1.0) / 1000)

    received = len(server.received)
    again, ledger2, _ = run(server, tmp_path, frames, settings())
    assert len(server.received) == received and ledger2.requests == 0 and ledger2.cache_hits == 8
    assert [q for _, q in again.questions] == [q for _, q in result.questions]


def test_a_request_failing_every_attempt_is_counted_and_asked_again_next_run(server, tmp_path):
    server.faults = ["500"] * 4
    result, ledger, cached = run(server, tmp_path, products(3), settings(concurrency=1))
    assert ledger.failed_requests == 1 and result.rejects == {"request_failed": 1} and cached == 2
    result2, ledger2, _ = run(server, tmp_path, products(3), settings(concurrency=1))
    assert ledger2.requests == 1 and ledger2.cache_hits == 2 and len(result2.questions) == 3


def test_budget_stops_cleanly_and_a_larger_budget_resumes_without_repeats(server, tmp_path):
    frames = products(6)
    result, ledger, cached = run(server, tmp_path, frames, settings(budget={"max_requests": 2}))
    assert result.stopped_by == "requests" and ledger.requests == 2 and result.unsent == 4 and cached == 2
    assert len(result.questions) == 2
    result2, ledger2, _ = run(server, tmp_path, frames, settings(budget={"max_tokens": 240}, concurrency=1))
    assert result2.stopped_by == "tokens" and ledger2.requests == 2 and ledger2.cache_hits == 2
    result3, ledger3, _ = run(server, tmp_path, frames, settings())
    assert ledger3.requests == 2 and ledger3.cache_hits == 4 and len(result3.questions) == 6
    assert len(server.answered) == len(set(server.answered)) == 6


@pytest.mark.slow
def test_stage_never_writes_the_api_key(server, tmp_path):
    """tasks.synth end to end against the fake endpoint: the key is sent, and found nowhere after."""
    secret = "sk-" + hashlib.sha256(str(tmp_path).encode()).hexdigest()
    server.faults = ["429", "500"]
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["synth"] = {"base_url": server.url, "server": {"launch": False}, "api_key_env": "TEST_SYNTH_KEY",
                       "rows": {ROW: 4}, "retries": {"initial_s": 0.01}, "timeout_s": 5}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    load_params(tmp_path / "params.yaml")
    frames_dir = tmp_path / "frames"
    from shoplm.builders.frames import save_frames

    save_frames(products(4), frames_dir)
    env = {**os.environ, "TEST_SYNTH_KEY": secret, "PYTHONPATH": str(REPO),
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}", "MLFLOW_ARTIFACTS_DESTINATION": str(tmp_path / "mlruns")}
    proc = subprocess.run([sys.executable, "-m", "tasks.synth", "--params", str(tmp_path / "params.yaml"),
                           "--frames", str(frames_dir), "--eval-dir", str(tmp_path / "none"),
                           "--out", str(tmp_path / "out"), "--no-progress"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert set(server.auth) == {f"Bearer {secret}"}
    assert re.search(r"4 questions accepted from 4 requests", proc.stdout)
    assert secret not in proc.stdout + proc.stderr
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert leaked == []
    assert len((tmp_path / "out" / "questions.jsonl").read_text().splitlines()) == 4
