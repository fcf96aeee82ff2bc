"""The one workaround llm-compressor 0.14.0.1 needs on a machine without an accelerator.

Its sequential pipelines pin cached activations (``IntermediatesCache._pin_intermediate`` calls
``Tensor.pin_memory()``) to speed later host-to-GPU copies; without an accelerator that call raises
``RuntimeError: Cannot access accelerator device when none is available``. Pinning only helps
transfers to a GPU, so skipping it on such a machine changes no result.
"""

from __future__ import annotations


def skip_pinning_without_accelerator() -> bool:
    """Make pinning a no-op when no accelerator is present; return whether the patch was applied."""
    import torch
    from llmcompressor.pipelines.cache import IntermediatesCache

    if torch.accelerator.is_available() or getattr(IntermediatesCache, "_shoplm_unpinned", False):
        return False
    IntermediatesCache._pin_intermediate = classmethod(lambda cls, intermediate: None)
    IntermediatesCache._shoplm_unpinned = True
    return True
