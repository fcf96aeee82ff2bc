"""Where the rejected side of a DPO pair comes from (``dpo.defaults.rejected.source``).

The registry is filled by :mod:`.preferences`, imported on first use, so validating params stays
cheap. Each source maps the questions to candidate rejections; :func:`.preferences.build_pairs`
keeps only candidates that score strictly below the gold answer under the official metric.
"""

from __future__ import annotations

from importlib import import_module

from shoplm.registry import Registry

REJECTION_SOURCES: Registry = Registry(
    "rejected-answer source", loader=lambda: import_module("shoplm.training.preferences"))
