"""Checkpoints every save_steps; a killed run resumes at its checkpoint's step; changed params start afresh."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from transformers import TrainerCallback

from shoplm.training import checkpoints
from shoplm.training.sft import AdapterRun, train_adapter


class Killed(RuntimeError):
    pass


class KillAt(TrainerCallback):
    """Simulates a kill: raises once the given optimizer step has finished (after any checkpoint)."""

    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise Killed(f"killed at step {self.step}")


@pytest.mark.slow
def test_killed_run_resumes_from_last_checkpoint(tiny_base_dir, sample_questions, tiny_hp, tmp_path):
    from safetensors.torch import load_file

    ckpt_dir, out = tmp_path / "checkpoints" / "v7", tmp_path / "adapters" / "v7"

    def run(hp):
        return AdapterRun(name="v7", questions=sample_questions[:12], base_dir=tiny_base_dir, adapter_dir=out,
                          checkpoint_dir=ckpt_dir, hyperparameters=hp, seed=3)

    hp = tiny_hp(max_steps=4, save_steps=2)
    with pytest.raises(Killed):
        train_adapter(run(hp), callbacks=[KillAt(3)], progress=False)
    assert [step for step, _ in checkpoints.complete_checkpoints(ckpt_dir)] == [2]
    assert not out.exists()

    # keep_checkpoints only changes what is kept: the same run, so it resumes
    summary = train_adapter(run(hp.model_copy(update={"keep_checkpoints": True})), progress=False)
    assert summary["run"]["resumed_from_step"] == 2 and summary["global_step"] == 4
    assert summary["run"]["throughput"]["micro_batches"] == 2  # it trained steps 3 and 4 only
    assert [step for step, _ in summary["losses"]] == [1, 2, 3, 4]  # the curve includes the killed part
    # the reported loss is the mean over all four steps, not the resumed steps' sum over four
    assert summary["train_loss"] == pytest.approx(sum(loss for _, loss in summary["losses"]) / 4, rel=1e-4)
    assert json.loads((out / "train_summary.json").read_text())["train_loss"] == summary["train_loss"]
    weights = load_file(out / "adapter_model.safetensors")

    # killed after its last checkpoint: the result is copied out, not trained one step further
    again = train_adapter(run(hp), progress=False)
    assert again["run"]["resumed_from_step"] == 4 and again["global_step"] == 4
    assert again["run"]["throughput"]["micro_batches"] == 0
    assert again["train_loss"] == pytest.approx(summary["train_loss"], rel=1e-4)
    restored = load_file(out / "adapter_model.safetensors")
    assert all(torch.equal(weights[k], restored[k]) for k in weights)
    assert not ckpt_dir.exists()  # a finished run drops its checkpoints (keep_checkpoints: false)

    # another learning rate is another run: its schedule must not continue this one's checkpoints
    with pytest.raises(Killed):
        train_adapter(run(hp), callbacks=[KillAt(3)], progress=False)
    changed = train_adapter(run(tiny_hp(max_steps=2, save_steps=2, learning_rate=1e-3)), progress=False)
    assert changed["run"]["resumed_from_step"] is None and changed["global_step"] == 2


@pytest.mark.slow
def test_a_changed_base_model_starts_afresh(tiny_base_dir, sample_questions, tiny_hp, tmp_path):
    """Rebuilding the base with another seed keeps config.json and every file size: still a new run."""
    from safetensors.torch import load_file, save_file

    base = tmp_path / "base"
    shutil.copytree(tiny_base_dir, base)
    run = AdapterRun(name="v7", questions=sample_questions[:12], base_dir=base, adapter_dir=tmp_path / "out",
                     checkpoint_dir=tmp_path / "checkpoints", hyperparameters=tiny_hp(max_steps=4, save_steps=2),
                     seed=3)
    with pytest.raises(Killed):
        train_adapter(run, callbacks=[KillAt(3)], progress=False)

    weights_file = base / "model.safetensors"
    sizes = {p.name: p.stat().st_size for p in base.iterdir()}
    config = (base / "config.json").read_bytes()
    weights = load_file(weights_file)
    torch.manual_seed(1)
    save_file({k: torch.randn_like(v) * v.std() if v.is_floating_point() else v for k, v in weights.items()},
              weights_file, metadata={"format": "pt"})
    assert {p.name: p.stat().st_size for p in base.iterdir()} == sizes and (base / "config.json").read_bytes() == config

    fresh = train_adapter(run, progress=False)
    assert fresh["run"]["resumed_from_step"] is None  # not "resuming from checkpoint-2"
    assert fresh["run"]["throughput"]["micro_batches"] == 4 and fresh["global_step"] == 4


@pytest.mark.slow
def test_a_rebuilt_adapter_has_the_same_bytes(tiny_base_dir, sample_questions, tiny_hp, tmp_path):
    """A forced rebuild with identical results leaves the DVC output unchanged (no timings inside)."""
    def build(out):
        train_adapter(AdapterRun(name="v7", questions=sample_questions[:6], base_dir=tiny_base_dir, adapter_dir=out,
                                 checkpoint_dir=tmp_path / "checkpoints", hyperparameters=tiny_hp(max_steps=2),
                                 seed=3), progress=False)
        return {p.name: p.read_bytes() for p in out.iterdir()}

    first, second = build(tmp_path / "a"), build(tmp_path / "b")
    assert first.keys() == second.keys() and "train_summary.json" in first
    assert [name for name in first if first[name] != second[name]] == []


def test_incomplete_checkpoints_are_ignored(tmp_path):
    (tmp_path / "checkpoint-4").mkdir()  # killed while saving: no trainer_state.json yet
    (tmp_path / "checkpoint-2").mkdir()
    (tmp_path / "checkpoint-2" / checkpoints.TRAINER_STATE).write_text('{"global_step": 2}')
    (tmp_path / "checkpoint-3").mkdir()
    (tmp_path / "checkpoint-3" / checkpoints.TRAINER_STATE).write_text('{"global_step": 3}')
    (tmp_path / "checkpoint-3" / checkpoints.INCOMPLETE_MARKER).write_text("")
    assert checkpoints.latest_checkpoint(tmp_path).name == "checkpoint-2"
    assert checkpoints.checkpoint_step(tmp_path / "checkpoint-2") == 2
    # a folder without this run's fingerprint is cleared
    assert checkpoints.resumable_checkpoint(tmp_path, "abc") is None
    assert [p.name for p in tmp_path.iterdir()] == [checkpoints.FINGERPRINT_FILE]
