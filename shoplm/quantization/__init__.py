"""Weight-only quantization through llm-compressor (rtn, awq, gptq) with MLP padding for tensor parallelism.

``QUANTIZERS`` names the methods, ``pad_with_proof`` pads the MLP width and measures that no logit
moved, ``quantize_folder`` runs one method on a saved model, ``skip_pinning_without_accelerator`` is
the CPU workaround llm-compressor 0.14.0.1 needs. Names are exported lazily (``shoplm.lazy``).
"""

from shoplm.lazy import lazy_getattr

_EXPORTS = {"skip_pinning_without_accelerator": "cpu", "PaddingReport": "padding", "pad_intermediate": "padding",
            "pad_with_proof": "padding", "padded_size": "padding", "QUANTIZERS": "quantizers",
            "Quantizer": "quantizers"}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_getattr(__name__, _EXPORTS)
