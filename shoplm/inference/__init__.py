"""Inference: backends that turn chat requests into text, and per-task-type generation settings.

``create_backend("transformers", model_dir=...)``, ``create_backend("dummy")``; see ``backends`` for the
interface and ``generation`` for limits, post-processing and request building. Names are exported
lazily (``shoplm.lazy``), so importing one module of this package runs no other.
"""

from shoplm.lazy import lazy_getattr

_EXPORTS = {name: "backends" for name in ("BACKENDS", "GenerationBackend", "GenerationRequest", "available_backends",
                                          "create_backend", "get_backend_class", "register_backend")}
_EXPORTS |= {name: "generation" for name in ("DEFAULT_MAX_NEW_TOKENS", "GenerationSettings", "build_requests",
                                             "postprocess_prediction", "trim_generation")}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_getattr(__name__, _EXPORTS)
