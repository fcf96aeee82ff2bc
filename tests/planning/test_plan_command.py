"""``shoplm plan`` as a user runs it: tables, JSON, and one-line errors with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shoplm.cli import main

REPO = Path(__file__).resolve().parents[2]
TRACKS = ["track1-concepts", "track2-reasoning", "track3-behavior", "track4-multilingual", "track5-all-around"]


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(REPO)  # profiles/ and data/sample/ are read relative to the repository root


def test_the_winning_setup_fits_every_track_on_4_t4s(capsys):
    assert main(["plan", "--profile", "kddcup-qwen2-72b", "--hardware", "4xT4", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [t["track"] for t in plan["tracks"]] == TRACKS
    assert plan["fits"] is True
    assert "MLP padded to 29696" in plan["weights"] and "tensor parallel 4 x 1" in plan["serving"]
    track5 = plan["tracks"][-1]
    assert track5["questions"] == 11720 and track5["limit_s"] == 8400
    assert track5["runtime_s"] == pytest.approx(sum(t["runtime_s"] for t in plan["tracks"][:-1]), abs=0.5)
    assert all(t["margin_s"] == pytest.approx(t["limit_s"] - t["runtime_s"], abs=0.2) for t in plan["tracks"])


def test_the_table_names_each_track_with_its_margin(capsys):
    assert main(["plan", "--profile", "kddcup-qwen2-72b"]) == 0
    out = capsys.readouterr().out
    for track in TRACKS:
        assert track in out
    assert "margin" in out and "fits" in out and "efficiency" in out


def test_the_72b_model_does_not_fit_two_t4s(capsys, tmp_path):
    # The same 4-bit model with tensor parallel 2 on 2 T4s: 20.8 GB of weights per 16 GB GPU.
    profile = REPO / "profiles" / "kddcup-qwen2-72b.yaml"
    tmp = tmp_path / "tp2.yaml"
    tmp.write_text(profile.read_text(encoding="utf-8").replace("tensor_parallel_size: 4", "tensor_parallel_size: 2"),
                   encoding="utf-8")
    assert main(["plan", "--profile", str(tmp), "--hardware", "2xT4", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["fits"] is False
    assert all(not t["fits_memory"] for t in plan["tracks"])


def test_a_small_profile_runs_as_replicas_and_says_its_limits(capsys):
    assert main(["plan", "--profile", "smol", "--eval-set", "sample", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert "tensor parallel 1 x 4 replica(s)" in plan["serving"]
    assert plan["tracks"][-1]["questions"] == 36
    assert any("lower bound" in note for note in plan["notes"])


def test_eval_set_prompts_are_counted_with_the_models_tokenizer(capsys, tiny_base_dir):
    assert main(["plan", "--profile", "tiny", "--model-dir", str(tiny_base_dir), "--eval-set",
                 "data/sample/shopbench/questions.jsonl", "--hidden-counts", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["prompt_tokens"].startswith("counted with the")
    assert [t["questions"] for t in plan["tracks"]] == [6102, 1896, 2373, 1349, 11720]


def test_the_references_table_states_each_error(capsys):
    assert main(["plan", "--references"]) == 0
    out = capsys.readouterr().out
    assert "1490s" in out and "calibration" in out and "within ±25%" in out and "MISS" in out
    assert out.count("under the limit") == 5


@pytest.mark.parametrize("argv, message", [
    (["plan", "--profile", "smol", "--hardware", "4xH10"], "unknown GPU 'H10'. Did you mean 'H100'?"),
    (["plan", "--profile", "kddcup-qwen2-72"], "unknown profile 'kddcup-qwen2-72'"),
    (["plan", "--profile", "kddcup-qwen2-72b", "--hardware", "2xT4"], "tensor parallel size 4 needs 4 GPUs"),
    (["plan", "--profile", "smol", "--eval-set", "no/such.jsonl"], "--eval-set no/such.jsonl"),
    (["plan"], "needs --profile"),
])
def test_user_mistakes_exit_2_with_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_bad_profile_key_names_file_and_line(capsys, tmp_path):
    tmp = tmp_path / "typo.yaml"
    tmp.write_text("evaluate:\n  tensor_paralel_size: 4\n", encoding="utf-8")
    assert main(["plan", "--profile", str(tmp)]) == 2
    err = capsys.readouterr().err
    assert "typo.yaml:2: evaluate.tensor_paralel_size: unknown key" in err
