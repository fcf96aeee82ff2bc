"""Inference: backends that turn chat requests into text, and per-task-type generation settings.

``create_backend("transformers", model_dir=...)``, ``create_backend("dummy")``; see ``backends`` for the
interface and ``generation`` for limits, post-processing and request building.
"""

from shoplm.inference.backends import (
    BACKENDS,
    GenerationBackend,
    GenerationRequest,
    available_backends,
    create_backend,
    get_backend_class,
    register_backend,
)
from shoplm.inference.generation import (
    DEFAULT_MAX_NEW_TOKENS,
    GenerationSettings,
    build_requests,
    postprocess_prediction,
    trim_generation,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_MAX_NEW_TOKENS",
    "GenerationBackend",
    "GenerationRequest",
    "GenerationSettings",
    "available_backends",
    "build_requests",
    "create_backend",
    "get_backend_class",
    "postprocess_prediction",
    "register_backend",
    "trim_generation",
]
