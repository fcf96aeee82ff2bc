"""A sweep entry → a model folder the evaluation backend can load.

``tiny`` entries are built with the tiny-model builder and GGUF entries converted, each into its own
``models/sweep/<name>/``; a local folder is used where it is (nothing is downloaded). A built folder
records the entry it was built from (``sweep_entry.json``) and is reused while the entry is unchanged,
so re-running the sweep after adding a model builds only the new one (``rebuild=True`` forces it).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from shoplm.params.studies import SweepModel

ENTRY_FILE = "sweep_entry.json"


def _built_from(out_dir: Path) -> dict | None:
    try:
        return json.loads((out_dir / ENTRY_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def model_folder(entry: SweepModel, out_dir: Path, rebuild: bool = False, progress: bool = True) -> Path:
    """The folder holding ``entry``'s model, built into ``out_dir`` when it must be built."""
    from shoplm.modeling import build_tiny_base, convert_gguf, resolve_base_model
    from shoplm.modeling.gguf import is_gguf_source

    built = entry.model == "tiny" or is_gguf_source(entry.model)
    if not built:
        return resolve_base_model(entry.model)  # a local folder; a hub id only from the local cache
    recipe = entry.model_dump(mode="json", exclude={"benchmarks"})  # scores do not change the weights
    if not rebuild and _built_from(out_dir) == recipe and (out_dir / "config.json").is_file():
        return out_dir
    shutil.rmtree(out_dir, ignore_errors=True)
    if entry.model == "tiny":
        build_tiny_base(entry.tiny, out_dir, progress=progress, probe=False)
    else:
        convert_gguf(entry.model, out_dir)
    (out_dir / ENTRY_FILE).write_text(json.dumps(recipe, indent=2) + "\n", encoding="utf-8")
    return out_dir
