"""Registry of merge methods: how the adapters' weight deltas ΔWᵢ of one layer become one delta.

Every method takes the per-layer deltas ΔWᵢ = scaleᵢ·BᵢAᵢ (full matrices, computed from the LoRA
factors) and the weights wᵢ, and returns one matrix; the merge then writes W_base + α·that (wise-ft).
The arithmetic is peft's (``peft.utils.merge_utils``, peft 0.21.2), applied to the full deltas rather
than to the A and B factors, so it is the papers' definition on LoRA deltas:

* ``weighted`` (task arithmetic, Ilharco et al. 2023): Σ wᵢ·ΔWᵢ, exactly; seed 003's ensemble.
  (peft's ``add_weighted_adapter(combination_type="linear")`` mixes A and B separately and is off by
  ~2e-2; only ``cat`` is exact, and it doubles the rank. Merging the full deltas needs neither.)
* ``ties`` (Yadav et al. 2023, TIES-Merging): keep the top ``density`` share of each ΔWᵢ by magnitude
  (per weight matrix; the paper trims the whole task vector at once), elect each entry's sign from the
  sum of the trimmed deltas, and average the weighted entries that agree with it. As in the paper, the
  elected sign ignores the weights wᵢ, and the agreeing entries are averaged (divided by their count).
  The paper's final scale λ is α here.
* ``dare_ties`` (Yu et al. 2024, DARE, + TIES sign election; seed 000): drop each entry with probability
  1-density and rescale the kept ones by 1/density, then elect and average as ``ties``.
* ``dare_linear``: the DARE drop and rescale, then the weighted sum.

mergekit (0.1.5) differs in two documented ways: it elects the sign from the *weighted* deltas, and it
normalises by the sum of the agreeing weights instead of their count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shoplm.registry import Registry


@dataclass(frozen=True)
class MergeMethod:
    """A merge function ``(deltas, weights, density) → delta`` and whether it reads ``density``."""

    combine: Callable[[Sequence[Any], Any, float | None], Any]
    uses_density: bool
    doc: str


MERGE_METHODS: Registry[MergeMethod] = Registry("merge method")


def _weighted(deltas, weights, density):
    from peft.utils.merge_utils import task_arithmetic

    return task_arithmetic(list(deltas), weights)


def _ties(deltas, weights, density):
    from peft.utils.merge_utils import ties

    return ties(list(deltas), weights, density, majority_sign_method="total")


def _dare_ties(deltas, weights, density):
    from peft.utils.merge_utils import dare_ties

    return dare_ties(list(deltas), weights, density, majority_sign_method="total")


def _dare_linear(deltas, weights, density):
    from peft.utils.merge_utils import dare_linear

    return dare_linear(list(deltas), weights, density)


for _name, _fn, _density, _doc in (
    ("weighted", _weighted, False, "Σ wᵢ·ΔWᵢ, exact (task arithmetic; seed 003's ensemble)"),
    ("ties", _ties, True, "trim to density by magnitude, elect sign, average agreeing weighted deltas"),
    ("dare_ties", _dare_ties, True, "random drop (keep density, rescale 1/density), then TIES sign election"),
    ("dare_linear", _dare_linear, True, "random drop (keep density, rescale 1/density), then Σ wᵢ·ΔWᵢ"),
):
    MERGE_METHODS.add(_name, MergeMethod(_fn, _density, _doc), doc=_doc)
