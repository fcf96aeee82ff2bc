"""The adapter's LoRA weights at chosen optimizer steps of one training run (stage ``learning_curve``).

``SnapshotCallback`` goes into ``train_adapter(..., callbacks=[...])``: right after the optimizer step that
makes ``global_step`` a listed step (``on_step_end``, before that step's logging and checkpoint), it saves the
peft adapter into ``<folder>/step-<N>/``, as ``Trainer.save_model`` would save it at that point. Irregular
steps (6, 24, 60) need no ``save_steps`` that divides them, and no optimizer state is written.

A run that resumes from a checkpoint at step k keeps the snapshots up to k (the same trajectory wrote them)
and drops later ones; a run from scratch drops them all. ``prepare_snapshots`` records the listed steps in
the folder: when they change, the folder and the run's resumable checkpoints are cleared, so a finished
run's checkpoint (restored without training, hence without callbacks) never stands in for missing steps.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from transformers import TrainerCallback

STEPS_FILE = "steps.json"
_SNAPSHOT = re.compile(r"^step-(\d+)$")


def snapshot_dir(folder: Path, step: int) -> Path:
    return Path(folder) / f"step-{step}"


def saved_steps(folder: Path) -> list[int]:
    """The steps of the complete snapshots in ``folder``, ascending."""
    found = []
    for path in Path(folder).glob("step-*"):
        match = _SNAPSHOT.match(path.name)
        if match and (path / "adapter_config.json").is_file():
            found.append(int(match.group(1)))
    return sorted(found)


def prepare_snapshots(folder: Path, steps: Sequence[int], checkpoint_dir: Path) -> None:
    """Start ``folder`` for ``steps``: when it was made for other steps (or by nothing), clear it and the
    run's resumable checkpoints in ``checkpoint_dir``, so the run trains from step 0 and saves every step."""
    folder, record = Path(folder), Path(folder) / STEPS_FILE
    wanted = {"steps": sorted(int(s) for s in steps)}
    previous = json.loads(record.read_text(encoding="utf-8")) if record.is_file() else None
    if previous != wanted:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(wanted) + "\n", encoding="utf-8")


class SnapshotCallback(TrainerCallback):
    """Save the adapter at each of ``steps`` into ``folder/step-<N>/`` (main process only)."""

    def __init__(self, steps: Sequence[int], folder: Path) -> None:
        self.steps = {int(step) for step in steps if step > 0}
        self.folder = Path(folder)

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:  # later snapshots belong to a run this one does not continue
            for step in saved_steps(self.folder):
                if step > state.global_step:
                    shutil.rmtree(snapshot_dir(self.folder, step))
        return control

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step in self.steps and state.is_world_process_zero:
            out = snapshot_dir(self.folder, state.global_step)
            partial = out.with_name(out.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            model.save_pretrained(str(partial))  # a PeftModel writes its adapter only
            shutil.rmtree(out, ignore_errors=True)
            partial.rename(out)  # a killed save never looks complete
        return control
