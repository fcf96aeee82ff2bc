"""The figures of a decoder the planner needs, from its ``config.json``: parameters and KV bytes per token.

A model's shape comes from the ``config.json`` of a local model folder (the profile's ``models/base``,
a folder, the Hugging Face cache) or, when the weights are not on disk, from ``models.yaml``: the
published config fields of models the seeds used (Llama-3-8B-Instruct, Qwen2-72B-Instruct, ...).

Parameter counts are those of a Llama/Qwen2-style decoder: per layer q, k, v, o projections (grouped-
query attention: k and v have ``num_key_value_heads`` heads) and a gated MLP (gate, up, down), plus
the embedding and, unless tied, the output head. Norm weights and Qwen2's q/k/v biases are counted
too, though they are below 0.1% of any real model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shoplm.errors import UserError
from shoplm.registry import Registry

MODELS_FILE = Path(__file__).with_name("models.yaml")


@dataclass(frozen=True)
class Architecture:
    name: str
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    vocab_size: int
    tied_embeddings: bool
    attention_bias: bool = False

    @classmethod
    def from_config(cls, config: dict[str, Any], name: str) -> Architecture:
        """From a Hugging Face ``config.json`` mapping; a missing field fails naming the model."""
        try:
            hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
            return cls(
                name=name, hidden_size=hidden, intermediate_size=int(config["intermediate_size"]),
                num_layers=int(config["num_hidden_layers"]), num_heads=heads,
                num_kv_heads=int(config.get("num_key_value_heads") or heads),
                head_dim=int(config.get("head_dim") or hidden // heads), vocab_size=int(config["vocab_size"]),
                tied_embeddings=bool(config.get("tie_word_embeddings", False)),
                # Qwen2 has q/k/v biases without saying so in its config; others name it attention_bias.
                attention_bias=bool(config.get("attention_bias", config.get("model_type") == "qwen2")),
            )
        except KeyError as exc:
            raise UserError(f"{name}: config.json has no {exc.args[0]!r}, which the planner needs") from None

    @classmethod
    def from_model_dir(cls, path: Path, name: str | None = None) -> Architecture:
        config_file = Path(path) / "config.json"
        try:
            config = json.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"{config_file}: cannot read the model config ({exc})") from None
        return cls.from_config(config, name or str(path))

    # ------------------------------------------------------------------ parameters

    @property
    def attention_width(self) -> int:
        return self.num_heads * self.head_dim

    @property
    def kv_width(self) -> int:
        return self.num_kv_heads * self.head_dim

    def layer_linear_params(self, intermediate_size: int | None = None) -> int:
        """Weights of one layer's Linear modules, the ones 4-bit quantization packs."""
        inter = intermediate_size or self.intermediate_size
        attention = 2 * self.hidden_size * self.attention_width + 2 * self.hidden_size * self.kv_width
        return attention + 3 * self.hidden_size * inter

    def linear_params(self, intermediate_size: int | None = None) -> int:
        return self.num_layers * self.layer_linear_params(intermediate_size)

    def other_params(self) -> int:
        """What stays 16-bit in a W4A16 model: embedding, output head (unless tied), norms, biases."""
        embedding = self.vocab_size * self.hidden_size * (1 if self.tied_embeddings else 2)
        norms = (2 * self.num_layers + 1) * self.hidden_size
        biases = self.num_layers * (self.attention_width + 2 * self.kv_width) if self.attention_bias else 0
        return embedding + norms + biases

    def params(self, intermediate_size: int | None = None) -> int:
        return self.linear_params(intermediate_size) + self.other_params()

    def kv_bytes_per_token(self, bytes_per_value: float = 2) -> float:
        """Key and value of every layer for one token: layers × kv heads × head dim × 2 × bytes."""
        return self.num_layers * self.num_kv_heads * self.head_dim * 2 * bytes_per_value


# ---------------------------------------------------------------------------------------------- known models


def _load_known_models() -> None:
    data = yaml.safe_load(MODELS_FILE.read_text(encoding="utf-8")) or {}
    for name, entry in data.items():
        architecture = Architecture.from_config(entry["config"], name)
        KNOWN_MODELS.register(name, *entry.get("aliases", []), doc=f"{architecture.params() / 1e9:.2f}B "
                              "parameters (published config.json)")(architecture)


KNOWN_MODELS: Registry[Architecture] = Registry("known model", loader=_load_known_models)
