"""Refuse a damaged weights file in one line that names it and says how to get the good copy back.

A weights file cut short (a disk filled, a copy killed half-way, a hand edit) makes safetensors raise
``SafetensorError: incomplete metadata`` from deep inside transformers or peft: 38 lines of traceback
that name neither the file nor the fix. Each ``*.safetensors`` header is read before the model loads
(reading a header is a few KB, not the tensors), and a bad one becomes a ``DamagedWeightsError``.

The fix is DVC's: ``dvc.lock`` records the last good output of the stage that wrote the folder, and
``dvc checkout <stage>`` restores it from the cache. (A plain ``dvc repro`` would instead see the
changed output, delete it and run the producing stage again: a retrain, not a restore.)
"""

from __future__ import annotations

import os
from pathlib import Path

from shoplm.errors import UserError

LOCK_FILE = "dvc.lock"


class DamagedWeightsError(UserError):
    """A weights file that cannot be read; the message names it and the stage that restores it."""


def _root_of(path: Path) -> Path | None:
    for folder in path.parents:
        if (folder / LOCK_FILE).is_file():
            return folder
    return None


def producing_stage(path: Path) -> str | None:
    """The dvc.lock stage whose recorded outputs hold ``path``, or None when no stage wrote it."""
    import yaml

    path = path.resolve()
    root = _root_of(path)
    if root is None:
        return None
    stages = (yaml.safe_load((root / LOCK_FILE).read_text(encoding="utf-8")) or {}).get("stages", {})
    for name, entry in stages.items():
        for out in entry.get("outs", []) or []:
            out_path = (root / out["path"]).resolve()
            if path == out_path or out_path in path.parents:
                return name
    return None


def check_weights(folder: str | os.PathLike[str]) -> None:
    """Read the header of every ``*.safetensors`` in ``folder``; raise ``DamagedWeightsError`` on a bad one."""
    from safetensors import safe_open

    for file in sorted(Path(folder).glob("*.safetensors")):
        try:
            with safe_open(str(file), framework="pt") as handle:
                handle.keys()
        except Exception as exc:  # SafetensorError, or OSError on a file cut to nothing
            stage = producing_stage(file)
            fix = (f"restore the last good copy with `dvc checkout {stage}` (`make repro` would retrain it instead)"
                   if stage else "rebuild it, or copy a good one in its place")
            cause = " ".join(str(exc).split()) or type(exc).__name__
            raise DamagedWeightsError(f"{file}: damaged weights file ({cause}); {fix}") from exc
