"""Weight-only quantization through llm-compressor (rtn, awq, gptq) with MLP padding for tensor parallelism.

``QUANTIZERS`` names the methods, ``pad_with_proof`` pads the MLP width and measures that no logit
moved, ``quantize_folder`` runs one method on a saved model, ``skip_pinning_without_accelerator`` is
the CPU workaround llm-compressor 0.14.0.1 needs.
"""

from shoplm.quantization.cpu import skip_pinning_without_accelerator
from shoplm.quantization.padding import PaddingReport, pad_intermediate, pad_with_proof, padded_size
from shoplm.quantization.quantizers import QUANTIZERS, Quantizer

__all__ = ["QUANTIZERS", "PaddingReport", "Quantizer", "pad_intermediate", "pad_with_proof", "padded_size",
           "skip_pinning_without_accelerator"]
