"""Zero-pad the MLP intermediate size so 4-bit groups split evenly across tensor-parallel GPUs.

Seed 003 §4.6: Qwen2-72B's intermediate size 29568 is not a multiple of group 128 × 4 GPUs, so vLLM
cannot shard its 4-bit ``down_proj`` over 4 T4s; padding it to 29696 with zeros fixes that.

Why zeros change nothing: a gated MLP computes ``down(act(gate(x)) * up(x))``. The new rows of
``gate`` and ``up`` are zero, so the new channels are ``act(0) * 0 = 0`` for any activation with a
finite value at 0 (SiLU: 0, GELU: 0); the new columns of ``down`` are zero too, so those channels add
nothing to the output. Biases, when present, are zero-padded the same way. ``pad_with_proof`` measures
it: logits before and after on real token ids.

Exactly zero is not what float32 gives, though: the wider matmuls are blocked and summed in another
order (how, depends on the CPU's vector width: AVX-512 kernels differ from AVX2 ones), so the logits move
by a few units in the last place. The report gives that move relative to the largest logit, which is
the figure a tolerance can be set on whatever the model's scale: a few ulps of float32 (1.2e-7) is
rounding (3e-7 on the tiny model), while a pad that is not zero moves it by orders of magnitude more (one
padded channel of 0.1s: 0.6 on the tiny model, 4e-4 with 0.01s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GATED_MLP = ("gate_proj", "up_proj", "down_proj")


def padded_size(size: int, multiple: int) -> int:
    """``size`` rounded up to a multiple of ``multiple``."""
    if multiple < 1:
        raise ValueError(f"multiple must be >= 1, got {multiple}")
    return -(-size // multiple) * multiple


def _grow(linear: Any, out_features: int, in_features: int) -> Any:
    """A copy of ``linear`` with zero rows/columns added after the existing ones."""
    import torch

    grown = torch.nn.Linear(in_features, out_features, bias=linear.bias is not None,
                            device=linear.weight.device, dtype=linear.weight.dtype)
    with torch.no_grad():
        grown.weight.zero_()
        grown.weight[: linear.out_features, : linear.in_features] = linear.weight
        if linear.bias is not None:
            grown.bias.zero_()
            grown.bias[: linear.out_features] = linear.bias
    return grown


def pad_intermediate(model: Any, target: int) -> tuple[int, int]:
    """Pad every gated MLP (gate/up/down_proj) of ``model`` in place to width ``target``.

    Returns (old width, new width); a model already at ``target`` is left alone. Updates
    ``config.intermediate_size`` so the saved model reloads at the new width.
    """
    mlps = [m for m in model.modules() if all(hasattr(m, name) for name in GATED_MLP)]
    if not mlps:
        raise ValueError(f"{type(model).__name__}: no gated MLP (gate_proj, up_proj, down_proj) to pad")
    old = mlps[0].up_proj.out_features
    if target < old:
        raise ValueError(f"cannot pad intermediate size {old} down to {target}")
    for mlp in mlps:
        if mlp.up_proj.out_features != old:
            raise ValueError("MLPs of different widths: padding per layer is not supported")
        hidden = mlp.up_proj.in_features
        mlp.gate_proj = _grow(mlp.gate_proj, target, hidden)
        mlp.up_proj = _grow(mlp.up_proj, target, hidden)
        mlp.down_proj = _grow(mlp.down_proj, mlp.down_proj.out_features, target)
    model.config.intermediate_size = target
    return old, target


@dataclass(frozen=True)
class PaddingReport:
    """What padding did, and the proof that it changed no output."""

    old_size: int
    new_size: int
    max_abs_logit_diff: float
    probe_tokens: int
    max_abs_logit: float  # the scale of the logits compared (before padding)

    @property
    def relative_logit_diff(self) -> float:
        """``max_abs_logit_diff`` over the largest logit: float32 rounding stays within ~1e-6."""
        return self.max_abs_logit_diff / self.max_abs_logit if self.max_abs_logit else self.max_abs_logit_diff

    def as_metrics(self) -> dict[str, float]:
        return {"padding/old_intermediate_size": float(self.old_size),
                "padding/new_intermediate_size": float(self.new_size),
                "padding/max_abs_logit_diff": self.max_abs_logit_diff,
                "padding/max_abs_logit": self.max_abs_logit,
                "padding/relative_logit_diff": self.relative_logit_diff,
                "padding/probe_tokens": float(self.probe_tokens)}


def pad_with_proof(model: Any, multiple: int, probe_ids: list[list[int]], target: int | None = None) -> PaddingReport:
    """Pad to ``target`` (default: the next multiple of ``multiple``), comparing logits on ``probe_ids``."""
    import torch

    old = next(m.up_proj.out_features for m in model.modules() if all(hasattr(m, n) for n in GATED_MLP))
    target = target if target is not None else padded_size(old, multiple)
    if target % multiple:
        raise ValueError(f"pad target {target} is not a multiple of {multiple} (group size × tensor parallel)")
    device = next(model.parameters()).device

    def logits() -> list[Any]:
        with torch.inference_mode():
            return [model(torch.tensor([ids], device=device)).logits.float() for ids in probe_ids]

    before = logits()
    pad_intermediate(model, target)
    after = logits()
    diff = max(((a - b).abs().max().item() for a, b in zip(before, after)), default=0.0)
    scale = max((b.abs().max().item() for b in before), default=0.0)
    return PaddingReport(old, target, diff, sum(len(ids) for ids in probe_ids), scale)
