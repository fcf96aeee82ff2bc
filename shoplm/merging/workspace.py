"""A base model held in memory with the LoRA factors of several adapters, merged in place on demand.

Loading is the slow part of a merge (a 72B base is minutes), computing a merge is not. So the base and
every adapter are loaded once; ``apply(spec)`` rewrites each LoRA-targeted weight as
``W_base + α·method(w₁·ΔW₁, …)`` from a kept copy of ``W_base``, and ``save(out)`` writes the result as
a plain safetensors model. The search stage evaluates many specs on one workspace, paying for loading
once; the merge stage applies one spec and saves.

Deltas are computed layer by layer from the factors (ΔWᵢ = scaleᵢ·BᵢAᵢ, in float32), so memory holds the
base, its copy of the targeted weights and the small factors, never all full deltas at once.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shoplm.merging.methods import MERGE_METHODS
from shoplm.modeling.integrity import check_weights
from shoplm.params.merging import MergeSpec

SPEC_FILE = "merge_spec.json"
#: Files of a model folder that are not weights or config: copied as they are into the merged folder.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                   "vocab.json", "merges.txt", "tokenizer.model", "added_tokens.json")


@dataclass(frozen=True)
class LoraFactors:
    """One adapter's LoRA on one Linear: ΔW = scaling·B@A (transposed for fan-in-fan-out layers)."""

    a: Any  # torch.Tensor [r, in]
    b: Any  # torch.Tensor [out, r]
    scaling: float
    fan_in_fan_out: bool = False

    def delta(self) -> Any:
        product = self.b.float() @ self.a.float()
        return (product.T if self.fan_in_fan_out else product) * self.scaling


def _collect_factors(peft_model: Any, names: list[str]) -> dict[str, dict[str, LoraFactors]]:
    """Module name in the plain model → adapter → factors, for every LoRA-wrapped Linear."""
    from peft.tuners.lora import LoraLayer

    prefix = "base_model.model."
    layers: dict[str, dict[str, LoraFactors]] = {}
    for module_name, module in peft_model.named_modules():
        if not isinstance(module, LoraLayer):
            continue
        if module.lora_embedding_A or getattr(module, "lora_variant", None):
            raise ValueError(f"{module_name}: only plain LoRA on Linear layers can be merged (no DoRA, embeddings)")
        factors = {}
        for name in names:
            if name in module.lora_A:
                factors[name] = LoraFactors(module.lora_A[name].weight.detach().clone(),
                                            module.lora_B[name].weight.detach().clone(),
                                            float(module.scaling[name]), bool(module.fan_in_fan_out))
        layers[module_name.removeprefix(prefix)] = factors
    return layers


class MergeWorkspace:
    """The base model of ``base_dir`` plus the adapters ``{name: folder}``, ready to merge in place."""

    def __init__(self, base_dir: str | os.PathLike[str], adapters: Mapping[str, str | os.PathLike[str]],
                 dtype: str = "float32", reusable: bool = True) -> None:
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM

        if not adapters:
            raise ValueError("a merge needs at least one adapter")
        for name, folder in adapters.items():
            if not (Path(folder) / "adapter_config.json").is_file():
                raise FileNotFoundError(f"{folder}: no LoRA adapter for {name!r} (adapter_config.json missing)")
        self.base_dir = Path(base_dir)
        self.adapter_dirs = {name: Path(folder) for name, folder in adapters.items()}
        self._torch = torch
        for folder in (self.base_dir, *self.adapter_dirs.values()):
            check_weights(folder)
        base = AutoModelForCausalLM.from_pretrained(self.base_dir, dtype=getattr(torch, dtype))
        names = list(self.adapter_dirs)
        peft_model = PeftModel.from_pretrained(base, str(self.adapter_dirs[names[0]]), adapter_name=names[0])
        for name in names[1:]:
            peft_model.load_adapter(str(self.adapter_dirs[name]), adapter_name=name)
        self.factors = _collect_factors(peft_model, names)
        # unload(): the LoRA wrappers go, the base weights stay untouched (nothing was merged yet).
        self.model = peft_model.unload().eval()
        modules = dict(self.model.named_modules())
        self._weights = {name: modules[name].weight for name in self.factors}
        # A reusable workspace keeps W_base of every targeted layer, so merges can be applied again and
        # again (the search); a one-off merge skips that copy (for a 72B base, all-linear LoRA, ~the model).
        self._originals = ({name: weight.detach().clone() for name, weight in self._weights.items()}
                           if reusable else dict(self._weights))
        self._reusable = reusable
        self.spec: MergeSpec | None = None

    @property
    def adapter_names(self) -> list[str]:
        return list(self.adapter_dirs)

    @property
    def layer_names(self) -> list[str]:
        return sorted(self.factors)

    def apply(self, spec: MergeSpec) -> None:
        """Set every LoRA-targeted weight to W_base + α·method(deltas, weights); other weights are untouched."""
        torch = self._torch
        unknown = sorted(set(spec.adapters) - set(self.adapter_dirs))
        if unknown:
            raise KeyError(f"merge spec names adapter(s) {unknown} not loaded; loaded: {self.adapter_names}")
        if not self._reusable and self.spec is not None:
            raise RuntimeError("this workspace was built with reusable=False: it merges once")
        method = MERGE_METHODS.get(spec.method)
        torch.manual_seed(spec.seed)  # dare_* draw their masks layer by layer, in this fixed order
        with torch.no_grad():
            for name in self.layer_names:
                present = [a for a in spec.adapters if a in self.factors[name]]
                weight, original = self._weights[name], self._originals[name]
                if not present or spec.alpha == 0.0:
                    weight.copy_(original)
                    continue
                deltas = [self.factors[name][a].delta() for a in present]
                weights = torch.tensor([spec.adapters[a] for a in present], dtype=torch.float32)
                merged = method.combine(deltas, weights, spec.density)
                # (original may be weight itself when not reusable: the sum is formed before the copy)
                weight.copy_((original.float() + spec.alpha * merged).to(weight.dtype))
        self.spec = spec

    def save(self, out_dir: str | os.PathLike[str]) -> Path:
        """Write the current weights as a safetensors model, the base's tokenizer files and the spec."""
        if self.spec is None:
            raise RuntimeError("apply a merge spec before saving")
        out = Path(out_dir)
        shutil.rmtree(out, ignore_errors=True)
        self.model.save_pretrained(out, safe_serialization=True)
        for name in TOKENIZER_FILES:
            if (self.base_dir / name).is_file():
                shutil.copy2(self.base_dir / name, out / name)
        record = {"spec": self.spec.model_dump(mode="json"), "fingerprint": self.spec.fingerprint(),
                  "base": str(self.base_dir), "adapters": {k: str(v) for k, v in self.adapter_dirs.items()}}
        (out / SPEC_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        return out


def merge_to_folder(base_dir: str | os.PathLike[str], adapters: Mapping[str, str | os.PathLike[str]],
                    spec: MergeSpec, out_dir: str | os.PathLike[str], dtype: str = "float32") -> Path:
    """Merge ``spec`` once and write it to ``out_dir`` (only the adapters the spec names are loaded)."""
    chosen = {name: adapters[name] for name in spec.adapters}
    workspace = MergeWorkspace(base_dir, chosen, dtype=dtype, reusable=False)
    workspace.apply(spec)
    return workspace.save(out_dir)


def folder_size_bytes(folder: str | os.PathLike[str]) -> int:
    """Bytes of every file under ``folder`` (what a model costs on disk)."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def adapter_folders(names: list[str] | Mapping[str, Any], adapters_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """``{name: adapters_dir/name}`` for each adapter a spec or grid names; a missing one says how to train it."""
    folders = {name: Path(adapters_dir) / name for name in names}
    for name, folder in folders.items():
        if not (folder / "adapter_config.json").is_file():
            raise FileNotFoundError(f"{folder}: no adapter {name!r} (train it with `dvc repro train@{name}`)")
    return folders
