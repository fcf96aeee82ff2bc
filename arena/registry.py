"""``ARENA_MODELS``: every model that predicts P(a), P(b), P(tie) for a battle, by name.

Each entry is a class with ``fit(frame) -> self`` and ``predict_proba(frame) -> (n, 3) array``. The
baselines are cheap; the LoRA classifier imports torch, so the registry imports its modules only when
first read.
"""

from __future__ import annotations

from shoplm.registry import Registry


def _load_models() -> None:
    import arena.baselines  # noqa: F401  (registers prior, bucket, gbdt)
    import arena.classifier  # noqa: F401  (registers lora)


ARENA_MODELS: Registry[type] = Registry("arena model", loader=_load_models)
