"""Synthesis against a real vLLM OpenAI-compatible server of the tiny model (one per test session):
replies are generated, validated and cached; a second run sends nothing; a killed run resumes without
repeating a request. The tiny model writes nonsense inside the JSON schema, so most items are rejected:
what is checked is that every reply is accounted for, and every accepted question is sound."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from shoplm.builders.frames import save_frames
from shoplm.params.synthesis import SynthSection
from shoplm.shopbench.answers import render_gold
from shoplm.shopbench.scoring import score
from shoplm.synthesis.cache import ResponseCache
from shoplm.synthesis.client import ChatClient
from shoplm.synthesis.ledger import Ledger
from shoplm.synthesis.runner import plan, synthesize
from shoplm.synthesis.validate import REASONS
from tests.synthesis.conftest import SERVED_NAME

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
ROWS = {"m2-product-type-explanation": 3, "reviews-complement-category-mc": 2, "ecinstruct-relation-mc": 2,
        "esci-title-for-query-mc": 3}


def settings(url: str, **overrides) -> SynthSection:
    return SynthSection.model_validate({"base_url": url, "model": SERVED_NAME, "server": {"launch": False},
                                        "rows": ROWS, "concurrency": 2, "timeout_s": 120,
                                        "sampling": {"max_tokens": 96}, **overrides})


def run(url: str, frames, cache_path: Path):
    cfg = settings(url)
    ledger = Ledger(cfg.prices)
    client = ChatClient(url, cfg.model, "local", cfg.timeout_s, cfg.retries, ledger)
    with ResponseCache(cache_path) as cache:
        return synthesize(cfg, frames, client, cache, ledger, endpoint="tiny", progress=False), ledger


def test_items_are_generated_validated_and_cached_and_a_rerun_sends_nothing(vllm_url, sample_frames, tmp_path):
    planned = len(plan(settings(vllm_url), sample_frames, "tiny"))
    result, ledger = run(vllm_url, sample_frames, tmp_path / "cache.sqlite")
    assert ledger.requests == planned and ledger.failed_requests == 0 and ledger.completion_tokens > 0
    assert set(result.rejects) <= set(REASONS)
    assert sum(counts["replies"] for counts in result.rows.values()) == planned
    questions = [q for _, q in result.questions]
    if questions:  # whatever was accepted is a sound question: its gold scores 1.0
        report = score(questions, [render_gold(q) for q in questions])
        assert report.mean_over_tasks == pytest.approx(1.0)
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        assert len(cache) == planned

    again, ledger2 = run(vllm_url, sample_frames, tmp_path / "cache.sqlite")
    assert ledger2.requests == 0 and ledger2.cache_hits == planned
    assert again.questions == result.questions and again.rejects == result.rejects


def _cached(path: Path) -> int:
    try:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_killed_run_resumes_without_repeating_a_request(vllm_url, sample_frames, tmp_path):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["synth"] = {"base_url": vllm_url, "model": SERVED_NAME, "server": {"launch": False}, "rows": ROWS,
                       "concurrency": 1, "sampling": {"max_tokens": 96, "seed": 7}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    save_frames(sample_frames, tmp_path / "frames")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "tasks.synth", "--params", str(tmp_path / "params.yaml"), "--frames",
               str(tmp_path / "frames"), "--eval-dir", str(tmp_path / "none"), "--out", str(out), "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
           "SHOPLM_SYNTH_API_KEY": "unused-by-a-local-server"}  # an endpoint given by base_url needs a key
    first = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240
    while _cached(out / "cache.sqlite") < 3 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    at_kill = _cached(out / "cache.sqlite")
    planned = len(plan(SynthSection.model_validate(params["synth"]), sample_frames, "x"))
    assert 3 <= at_kill < planned, f"not killed midway: {first.stdout.read().decode()[-2000:]}"

    second = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-2000:]
    ledger = json.loads((out / "report.json").read_text())["ledger"]
    assert ledger["cache_hits"] == at_kill and ledger["requests"] == planned - at_kill
    assert _cached(out / "cache.sqlite") == planned


def test_the_server_parses_special_tokens_in_content_so_plan_sends_none(vllm_url, tiny_base_dir):
    """Why ``templates.neutral_text`` exists: vLLM's chat endpoint tokenizes the rendered template with special
    tokens parsed, message content included. A forged record, broken up as ``plan`` sends it, forges nothing."""
    import openai
    from transformers import AutoTokenizer

    from shoplm.synthesis.templates import neutral_text
    from tests.forged import INJECTION, marker_counts

    tokenizer = AutoTokenizer.from_pretrained(tiny_base_dir)
    client = openai.OpenAI(base_url=vllm_url, api_key="local", max_retries=0)

    def served_prompt_ids(content: str) -> list[int]:
        response = client.chat.completions.create(model=SERVED_NAME, messages=[{"role": "user", "content": content}],
                                                  max_tokens=1, extra_body={"return_token_ids": True})
        return response.model_extra["prompt_token_ids"]

    forged = f"Title: Product {INJECTION}Description: nice"
    assert marker_counts(tokenizer, served_prompt_ids(forged)) == (5, 4)  # the server reads the forged turn
    assert marker_counts(tokenizer, served_prompt_ids(neutral_text(forged))) == (3, 2)  # the template's only
