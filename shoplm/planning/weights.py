"""How many bytes a model's weights take on the GPU: 16-bit, or W4A16 with group scales (AWQ, GPTQ, RTN).

A W{bits}A16 Linear stores ``bits`` per weight plus, per group of ``group_size`` input weights, one
fp16 scale and (asymmetric, with a zero point, as seed 003's AWQ) one ``bits``-wide zero point:
``bits + (16 + bits) / group_size`` bits per weight, 4.156 at w4 g128. The embedding, the output head
and the norms stay 16-bit (llm-compressor and AutoAWQ quantize Linear layers inside the decoder
blocks only). Tensor parallelism pads the MLP width first where a group would straddle two GPUs
(Qwen2-72B: 29568 → 29696), which the planner counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from shoplm.planning.architecture import Architecture

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "auto": 2}


@dataclass(frozen=True)
class WeightFormat:
    """``bits`` 16 (or 32): plain weights; 4 or 8: group-quantized Linear weights, the rest 16-bit."""

    bits: int
    group_size: int | None = None
    zero_point: bool = True
    pad_intermediate_to: int | None = None

    @property
    def quantized(self) -> bool:
        return self.bits < 16

    @property
    def bits_per_linear_weight(self) -> float:
        if not self.quantized:
            return float(self.bits)
        assert self.group_size, "a quantized format needs a group size"
        return self.bits + (16 + (self.bits if self.zero_point else 0)) / self.group_size

    def describe(self) -> str:
        if not self.quantized:
            return f"{self.bits}-bit"
        zero = "asymmetric" if self.zero_point else "symmetric"
        pad = f", MLP padded to {self.pad_intermediate_to}" if self.pad_intermediate_to else ""
        return f"W{self.bits}A16 g{self.group_size} {zero} ({self.bits_per_linear_weight:.3f} bits/weight{pad})"

    def weight_bytes(self, arch: Architecture) -> float:
        """Bytes of all weights (the whole model, before tensor-parallel sharding)."""
        linear = arch.linear_params(self.pad_intermediate_to) * self.bits_per_linear_weight / 8
        rest_bytes = 2 if self.quantized else self.bits / 8  # 16-bit embedding, head, norms beside 4-bit Linears
        return linear + arch.other_params() * rest_bytes
