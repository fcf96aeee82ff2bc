"""Edits of params.yaml's text that several tests make (no fixtures)."""

from __future__ import annotations

import re


def model_free(text: str, backend: str) -> str:
    """``text`` with ``evaluate.backend`` set to the model-free double ``backend`` (dummy, echo) and every
    constraint off: the doubles cannot constrain decoding, so they refuse constraints that are on."""
    text = text.replace("  backend: transformers", f"  backend: {backend}", 1)
    for key, off in (("structured", "[]"), ("suppress_none", "[]"), ("prompt_boost", "{}")):
        text, count = re.subn(rf"(?m)^(    {key}: )\S.*$", rf"\g<1>{off}", text, count=1)
        assert count == 1, f"evaluate.constraints.{key} not found"
    return text
