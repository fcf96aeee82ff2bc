"""A ``weighted`` merge candidate written as ONE peft LoRA adapter, so an engine can serve it per request.

A ``weighted`` spec (task arithmetic + wise-ft) changes every targeted weight by a low-rank matrix:

    α·Σ wᵢ·ΔWᵢ = α·Σ wᵢ·sᵢ·BᵢAᵢ = [w₁α(s₁/s)B₁ | … | wₙα(sₙ/s)Bₙ] · [A₁; …; Aₙ] · s

with sᵢ = lora_alphaᵢ/rᵢ each adapter's own scaling and s the new adapter's. So the candidate is exactly
one LoRA adapter of concatenated rank R = Σ rᵢ: the A matrices stacked along the rank, the B matrices
side by side, each B block scaled by wᵢ·α·sᵢ/s. Here ``lora_alpha = r = R``, so s = 1 and every scale
lives in B. A module that only some adapters target gets zero blocks for the others (every module has
rank R, which vLLM and peft expect of one adapter). Wise-ft alone (one adapter at α) is the case n = 1:
the adapter with B scaled by α.

The other methods (``ties``, ``dare_ties``, ``dare_linear``) trim, drop or elect signs entry by entry of
the full ΔWᵢ: their merged delta is dense and full-rank, so no LoRA of modest rank equals it.
``supports_lora_form`` says False for them, and the caller scores them as merges (one load each).

What cannot be folded is refused with a ``LoraFormUnsupported`` (a ValueError): rsLoRA, DoRA, LoRA on
embeddings or convolutions, fan-in-fan-out (Conv1D) layers, trained biases, ``modules_to_save``,
per-module rank or alpha patterns, layer selections. The adapters are read straight from their files
(``adapter_config.json`` + ``adapter_model.safetensors``); no model is loaded.

``lora_form(adapter_dirs, spec, cache_dir)`` writes the adapter under ``cache_dir/<spec fingerprint>-<hash of
the named adapters' files>/`` and returns that folder; a later call with the same spec and the same adapter
files returns it without writing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shoplm.params.merging import MergeSpec

#: Bump when the written adapter changes for the same inputs (it is part of the cache key).
FORMAT_VERSION = 1
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
#: What the candidate folder records besides the adapter (the spec and its sources).
RECORD_FILE = "lora_form.json"
#: Methods whose merge is a weighted sum of the adapters' deltas (exactly a LoRA of concatenated rank).
LORA_FORM_METHODS = ("weighted",)
_PREFIX = "base_model.model."
_A, _B = ".lora_A.weight", ".lora_B.weight"
#: adapter_config keys that must be off (falsy) for the adapter to be a plain scaled B@A on Linear layers.
_MUST_BE_OFF = {
    "use_rslora": "rsLoRA (scaling alpha/sqrt(r))",
    "use_dora": "DoRA (a learned magnitude per column)",
    "fan_in_fan_out": "fan-in-fan-out (Conv1D) layers",
    "modules_to_save": "modules_to_save (full trained copies of modules)",
    "rank_pattern": "per-module ranks (rank_pattern)",
    "alpha_pattern": "per-module alphas (alpha_pattern)",
    "layers_to_transform": "a layer selection (layers_to_transform)",
    "layers_pattern": "a layer selection (layers_pattern)",
    "layer_replication": "layer replication",
    "lora_bias": "trained LoRA biases (lora_bias)",
    "target_parameters": "LoRA on parameters (target_parameters)",
    "trainable_token_indices": "trainable tokens",
    "use_qalora": "QALoRA",
    "alora_invocation_tokens": "activated LoRA (alora)",
    "use_bdlora": "block-diagonal LoRA (BD-LoRA)",
}
#: init_lora_weights values that only set the starting factors: the saved adapter is a plain delta. Others
#: (PiSSA, OLoRA, CorDA, LoftQ) also change the base weights, so B@A is not the delta over the base.
_PLAIN_INITS = ("gaussian", "eva", "orthogonal", "mica", "lora_ga")


class LoraFormUnsupported(ValueError):
    """This spec or adapter cannot be written exactly as one LoRA adapter."""


def supports_lora_form(spec: MergeSpec) -> bool:
    """Whether ``spec``'s merge is exactly one LoRA adapter (``weighted``); ties / dare_* are dense."""
    return spec.method in LORA_FORM_METHODS


# ------------------------------------------------------------------------------------------ reading

def read_adapter(folder: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, tuple[Any, Any]], float]:
    """An adapter's config, ``{module: (A [r, in], B [out, r])}`` and its scaling lora_alpha/r.

    Refuses (``LoraFormUnsupported``) anything but plain LoRA on Linear layers with one r and alpha.
    """
    from safetensors.torch import load_file

    folder = Path(folder)
    config_path, weights_path = folder / ADAPTER_CONFIG, folder / ADAPTER_WEIGHTS
    if not config_path.is_file():
        raise FileNotFoundError(f"{folder}: not a LoRA adapter folder (no {ADAPTER_CONFIG})")
    if not weights_path.is_file():
        raise FileNotFoundError(f"{folder}: no {ADAPTER_WEIGHTS} (only safetensors adapters are read)")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("peft_type", "LORA") != "LORA":
        raise LoraFormUnsupported(f"{folder}: peft_type {config.get('peft_type')!r}, not LORA")
    for key, what in _MUST_BE_OFF.items():
        if config.get(key):
            raise LoraFormUnsupported(f"{folder}: {what} cannot be folded into one plain LoRA adapter "
                                      f"({key}={config[key]!r}); score this candidate as a merge")
    init = config.get("init_lora_weights", True)
    if isinstance(init, str) and init.lower() not in _PLAIN_INITS:
        raise LoraFormUnsupported(f"{folder}: init_lora_weights={init!r} changes the base weights too, so the "
                                  "adapter is not a delta over the base; convert it to a plain LoRA first")
    if config.get("bias", "none") != "none":
        raise LoraFormUnsupported(f"{folder}: bias={config['bias']!r} trains biases, which a LoRA form "
                                  "cannot weight; score this candidate as a merge")
    r, lora_alpha = int(config["r"]), float(config["lora_alpha"])
    tensors = load_file(weights_path)
    modules: dict[str, tuple[Any, Any]] = {}
    for key in tensors:
        if key.endswith(_B):
            continue
        if not key.endswith(_A):
            raise LoraFormUnsupported(f"{folder}: tensor {key!r} is not a LoRA A/B matrix of a Linear layer "
                                      "(embedding LoRA, DoRA magnitude, bias or saved module)")
        module = key.removesuffix(_A)
        a, b = tensors[key], tensors.get(module + _B)
        if b is None:
            raise ValueError(f"{folder}: {module} has lora_A but no lora_B")
        if a.dim() != 2 or b.dim() != 2:
            raise LoraFormUnsupported(f"{folder}: {module} is not a Linear LoRA (A {tuple(a.shape)}, "
                                      f"B {tuple(b.shape)}); convolution LoRA is not supported")
        if a.shape[0] != r or b.shape[1] != r:
            raise LoraFormUnsupported(f"{folder}: {module} has rank {a.shape[0]}, the config says r={r}")
        modules[module.removeprefix(_PREFIX)] = (a, b)
    stray = [key for key in tensors if key.endswith(_B) and key.removesuffix(_B) + _A not in tensors]
    if stray:
        raise ValueError(f"{folder}: lora_B without lora_A: {stray[:3]}")
    if not modules:
        raise ValueError(f"{folder}: the adapter has no LoRA matrices")
    return config, modules, lora_alpha / r


# ------------------------------------------------------------------------------------------ building

def _participants(spec: MergeSpec) -> list[tuple[str, float]]:
    """(adapter, wᵢ·α) in the spec's order; zero coefficients are dropped unless all are zero."""
    named = [(name, weight * spec.alpha) for name, weight in spec.adapters.items()]
    nonzero = [(name, c) for name, c in named if c != 0.0]
    return nonzero or named  # all zero: keep the blocks (scaled to 0): the candidate is the base


def _check(adapter_dirs: Mapping[str, Any], spec: MergeSpec) -> None:
    if not supports_lora_form(spec):
        raise LoraFormUnsupported(
            f"method {spec.method!r} merges entry by entry into a dense delta, which no LoRA adapter equals; "
            f"only {', '.join(LORA_FORM_METHODS)} has a LoRA form (score {spec.method} as a merge)")
    unknown = sorted(set(spec.adapters) - set(adapter_dirs))
    if unknown:
        raise KeyError(f"merge spec names adapter(s) {unknown} not given; given: {sorted(adapter_dirs)}")


def build_lora_form(adapter_dirs: Mapping[str, str | os.PathLike[str]], spec: MergeSpec
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The candidate's adapter_config (a dict) and tensors (peft's saved names, float32), in memory."""
    import torch

    _check(adapter_dirs, spec)
    parts = _participants(spec)
    read = {name: read_adapter(adapter_dirs[name]) for name, _ in parts}
    first_config = read[parts[0][0]][0]
    for name, _ in parts:
        task_type = read[name][0].get("task_type")
        if task_type != first_config.get("task_type"):
            raise ValueError(f"adapter {name!r} has task_type {task_type!r}, {parts[0][0]!r} has "
                             f"{first_config.get('task_type')!r}")
    rank = sum(int(read[name][0]["r"]) for name, _ in parts)
    new_scaling = 1  # lora_alpha = r: every scale is folded into B
    shapes: dict[str, tuple[int, int]] = {}  # module → (in, out), checked across adapters
    for name, _ in parts:
        for module, (a, b) in read[name][1].items():
            shape = (a.shape[1], b.shape[0])
            if shapes.setdefault(module, shape) != shape:
                raise ValueError(f"{module}: adapter {name!r} has (in, out) {shape}, another {shapes[module]}: "
                                 "adapters of different base models")
    tensors: dict[str, Any] = {}
    for module in sorted(shapes):
        fan_in, fan_out = shapes[module]
        a_blocks, b_blocks = [], []
        for name, coefficient in parts:
            config, factors, scaling = read[name]
            r = int(config["r"])
            if module in factors:
                a, b = factors[module]
                a_blocks.append(a.to(torch.float64))
                b_blocks.append(b.to(torch.float64) * (coefficient * scaling / new_scaling))
            else:  # not targeted by this adapter: its block contributes nothing
                a_blocks.append(torch.zeros(r, fan_in, dtype=torch.float64))
                b_blocks.append(torch.zeros(fan_out, r, dtype=torch.float64))
        key = _PREFIX + module
        tensors[key + _A] = torch.cat(a_blocks, dim=0).to(torch.float32).contiguous()
        tensors[key + _B] = torch.cat(b_blocks, dim=1).to(torch.float32).contiguous()
    config = dict(first_config)
    config.update(r=rank, lora_alpha=rank * new_scaling, target_modules=sorted(shapes), rank_pattern={},
                  alpha_pattern={}, use_rslora=False, use_dora=False, lora_dropout=0.0, inference_mode=True,
                  init_lora_weights=True)
    return config, tensors


def write_lora_form(adapter_dirs: Mapping[str, str | os.PathLike[str]], spec: MergeSpec,
                    out_dir: str | os.PathLike[str]) -> Path:
    """Write the candidate ``spec`` as one peft LoRA adapter folder ``out_dir`` (replaced if present)."""
    from safetensors.torch import save_file

    config, tensors = build_lora_form(adapter_dirs, spec)
    out = Path(out_dir)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    save_file(tensors, str(out / ADAPTER_WEIGHTS), metadata={"format": "pt"})
    (out / ADAPTER_CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    record = {"spec": spec.model_dump(mode="json"), "fingerprint": spec.fingerprint(), "rank": config["r"],
              "adapters": {name: str(adapter_dirs[name]) for name in spec.adapters},
              "format_version": FORMAT_VERSION}
    (out / RECORD_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return out


# ------------------------------------------------------------------------------------------ cache

_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def _file_hash(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _FILE_HASHES:
        _FILE_HASHES[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _FILE_HASHES[key]


def adapters_fingerprint(adapter_dirs: Mapping[str, str | os.PathLike[str]], names: list[str]) -> str:
    """Hash of the named adapters' files (config and weights) and of this writer's format version."""
    digest = hashlib.sha256(f"lora-form v{FORMAT_VERSION}".encode())
    for name in sorted(names):
        digest.update(name.encode())
        for file in (ADAPTER_CONFIG, ADAPTER_WEIGHTS):
            digest.update(_file_hash(Path(adapter_dirs[name]) / file).encode())
    return digest.hexdigest()[:16]


def lora_form_key(adapter_dirs: Mapping[str, str | os.PathLike[str]], spec: MergeSpec) -> str:
    """The cache folder name of ``spec`` over these adapters: spec fingerprint + adapter content."""
    return f"{spec.fingerprint()}-{adapters_fingerprint(adapter_dirs, list(spec.adapters))}"


def lora_form(adapter_dirs: Mapping[str, str | os.PathLike[str]], spec: MergeSpec,
              cache_dir: str | os.PathLike[str]) -> Path:
    """The candidate ``spec`` as one LoRA adapter folder under ``cache_dir``, written once and reused.

    Raises ``LoraFormUnsupported`` for a spec or adapter without an exact LoRA form (check
    ``supports_lora_form(spec)`` first to route ties / dare_* to a merge instead).
    """
    _check(adapter_dirs, spec)
    out = Path(cache_dir) / lora_form_key(adapter_dirs, spec)
    if (out / ADAPTER_CONFIG).is_file() and (out / ADAPTER_WEIGHTS).is_file() and (out / RECORD_FILE).is_file():
        return out
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    write_lora_form(adapter_dirs, spec, tmp)
    shutil.rmtree(out, ignore_errors=True)  # a partial folder of a killed run
    try:
        tmp.rename(out)
    except OSError:  # another process wrote the same candidate meanwhile: same content, keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
        if not (out / RECORD_FILE).is_file():
            raise
    return out


def lora_form_rank(folder: str | os.PathLike[str]) -> int:
    """The rank r of an adapter folder (a candidate's concatenated rank)."""
    return int(json.loads((Path(folder) / ADAPTER_CONFIG).read_text(encoding="utf-8"))["r"])
