"""Resumable checkpoints: which folder to resume from, and only when it belongs to the same run.

A training run writes ``checkpoint-<step>/`` folders (adapter, optimizer, scheduler, RNG and trainer
state) into ``models/checkpoints/<adapter>/``, outside the DVC output, so a killed run leaves them
behind; a run that finishes removes them (unless ``keep_checkpoints``). The folder also holds
``run_fingerprint.json``: a hash of everything that decides the trajectory (hyperparameters, seed,
the tokenized data, the base model's files by content: :mod:`.provenance`). The next invocation resumes from the newest
*complete* checkpoint when the fingerprint matches, and starts afresh, clearing the folder, when it
does not (a changed learning rate must not continue a schedule computed for another one).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FINGERPRINT_FILE = "run_fingerprint.json"
TRAINER_STATE = "trainer_state.json"  # written last by Trainer._save_checkpoint: marks a complete folder
INCOMPLETE_MARKER = "checkpoint-is-incomplete.txt"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")

#: Settings that change what is logged or kept, not the weights: they may differ on resume.
NEUTRAL_KEYS = ("logging_steps", "save_steps", "save_total_limit", "keep_checkpoints")
#: What a checkpoint holds besides the model files: state for resuming only.
RESUME_ONLY = ("optimizer.pt", "scheduler.pt", "scaler.pt", "rng_state*.pth", TRAINER_STATE, "global_step*")


def fingerprint(payload: Mapping[str, Any]) -> str:
    """A stable hash of a JSON-able mapping (keys sorted)."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def complete_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """(step, path) of every complete ``checkpoint-N`` in ``folder``, oldest first."""
    found = []
    for path in Path(folder).glob("checkpoint-*"):
        match = _CHECKPOINT.match(path.name)
        if match and (path / TRAINER_STATE).is_file() and not (path / INCOMPLETE_MARKER).exists():
            found.append((int(match.group(1)), path))
    return sorted(found)


def checkpoint_step(path: Path) -> int:
    """The global step a checkpoint was written at (from its trainer state)."""
    return int(trainer_state(path)["global_step"])


def trainer_state(path: Path) -> dict[str, Any]:
    return json.loads((Path(path) / TRAINER_STATE).read_text(encoding="utf-8"))


def is_finished(path: Path) -> bool:
    """True for the checkpoint written at the run's last step (resuming it would train one step more)."""
    state = trainer_state(path)
    return 0 < int(state.get("max_steps") or 0) <= int(state["global_step"])


def logged_losses(path: Path) -> list[tuple[int, float]]:
    """(step, loss) of the logging steps up to a checkpoint: the first part of a resumed run's curve."""
    return [(int(row["step"]), float(row["loss"])) for row in trainer_state(path).get("log_history", [])
            if "loss" in row]


def restore_finished(checkpoint: Path, out_dir: Path) -> None:
    """Copy a finished run's model files (adapter, tokenizer) from its last checkpoint to ``out_dir``."""
    shutil.copytree(checkpoint, out_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*RESUME_ONLY))


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest complete checkpoint in ``folder`` (read-only; what non-main processes call)."""
    found = complete_checkpoints(folder)
    return found[-1][1] if found else None


def resumable_checkpoint(folder: Path, run_fingerprint: str) -> Path | None:
    """The newest complete checkpoint of the same run, or None.

    Writes the fingerprint into ``folder``; a folder holding another run's checkpoints is cleared.
    Call it on the main process only (first); the others then call :func:`latest_checkpoint`.
    """
    folder = Path(folder)
    record = folder / FINGERPRINT_FILE
    if folder.exists():
        previous = json.loads(record.read_text(encoding="utf-8")).get("fingerprint") if record.is_file() else None
        if previous != run_fingerprint:
            shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    partial = record.with_suffix(".tmp")
    partial.write_text(json.dumps({"fingerprint": run_fingerprint}) + "\n", encoding="utf-8")
    partial.replace(record)  # atomic: a reader never sees half a file
    return latest_checkpoint(folder)


def claim_checkpoint(folder: Path, run_fingerprint: str) -> Path | None:
    """:func:`resumable_checkpoint` on the main process first, then :func:`latest_checkpoint` on the
    others, so every process of a distributed run resumes from the same folder."""
    import torch
    from accelerate import PartialState

    from shoplm.training.distributed import accept_indexed_cpu_locations

    accept_indexed_cpu_locations()  # else Trainer cannot load the optimizer state under CPU DDP (see there)
    # the state TrainingArguments builds too (cpu=True makes CPU-only runs under torchrun distributed)
    state = PartialState(cpu=not torch.accelerator.is_available())
    with state.main_process_first():
        if state.is_main_process:
            return resumable_checkpoint(folder, run_fingerprint)
        return latest_checkpoint(folder)


def release_checkpoints(folder: Path, keep: bool) -> None:
    """After a finished run (all processes): drop its checkpoints unless asked to keep them."""
    from accelerate import PartialState

    state = PartialState()
    state.wait_for_everyone()
    if state.is_main_process and not keep:
        shutil.rmtree(folder, ignore_errors=True)
