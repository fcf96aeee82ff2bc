"""The predictor a submission's ``UserModel`` is: the evaluate stage's code behind the evaluator's interface.

The organisers' evaluator does ``UserModel()``, then for each slice of questions of one task type calls
``batch_predict({"prompt": [input_field, ...]}, is_multiple_choice)`` and parses the strings it returns
with the official parsers. The model sees only the prompt and the flag, as the evaluate stage does: the
task type is guessed by the same classifier, and ``shoplm.evaluation.run_zero_shot`` applies the same
prompts, per-type token limits and post-processing (and the backend the same constrained decoding).

This module is vendored into every package, so it imports only what the predictor runs.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shoplm.evaluation import run_zero_shot
from shoplm.inference.backends import create_backend, get_backend_class
from shoplm.inference.constraints import active_constraints
from shoplm.params.generation import GenerationSettings

#: The package's settings file, beside ``user_config.py`` in ``models/``.
CONFIG_NAME = "shoplm_package.json"
#: What a package whose backend cannot be imported answers through.
FALLBACK_BACKEND = "transformers"
#: Backend options that name folders: written relative to the package root, resolved where it runs.
PATH_OPTIONS = ("model_dir", "adapter_dir")


def choose_backend(config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The package's backend and its options; the fallback's (transformers) where the backend needs a
    package this machine lacks, e.g. a vLLM package checked on a machine without vLLM."""
    name, options = config["backend"], dict(config["backend_options"])
    needs = get_backend_class(name).requires
    if needs and importlib.util.find_spec(needs) is None and config.get("fallback"):
        fallback = config["fallback"]
        print(f"shoplm: {needs} is not installed; answering through the {fallback['backend']} backend "
              f"(same prompts, output caps and constraints)", file=sys.stderr)
        return fallback["backend"], dict(fallback["backend_options"])
    return name, options


class SubmissionModel:
    """Loads the packaged model through the registered backend named in ``shoplm_package.json``."""

    def __init__(self, config_file: str | Path) -> None:
        config_file = Path(config_file)
        config = json.loads(config_file.read_text(encoding="utf-8"))
        root = config_file.resolve().parent.parent
        self.batch_size = int(config["batch_size"])
        self.settings = GenerationSettings.model_validate(config["generation"])
        name, options = choose_backend(config)
        for key in PATH_OPTIONS:
            if options.get(key) is not None:
                options[key] = str(root / options[key])
        self.backend = create_backend(name, **options)

    def decoding(self) -> dict[str, Any]:
        """What answers: the backend's name, and its constraints per answer kind ({}: none). The harness
        reports them (``shoplm.submission.check``); the evaluator never calls this."""
        return {"backend": self.backend.name, "constraints": active_constraints(self.backend.constraints)}

    def get_batch_size(self) -> int:
        """Prompts per ``batch_predict`` call (the evaluator's contract: 1 to 16)."""
        return self.batch_size

    def batch_predict(self, batch: Mapping[str, Sequence[str]], is_multiple_choice: bool) -> list[str]:
        """One answer per prompt of ``batch["prompt"]``, in order, ready for the official parsers."""
        questions: list[dict[str, Any]] = [
            {"input_field": prompt, "is_multiple_choice": bool(is_multiple_choice)} for prompt in batch["prompt"]]
        if not questions:
            return []
        return run_zero_shot(questions, self.backend, self.settings).predictions

    def close(self) -> None:
        self.backend.close()
