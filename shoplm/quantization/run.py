"""Quantize one saved model: load, pad the MLP (with proof), run the llm-compressor recipe, save.

The output folder is a compressed-tensors checkpoint (pack-quantized int4 weights with group scales and
zero points) that transformers and vLLM load directly, plus the tokenizer and ``quantize_summary.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shoplm.merging.workspace import TOKENIZER_FILES, folder_size_bytes
from shoplm.params.quantization import QuantizeSection
from shoplm.quantization.calibration import calibration_dataset, calibration_token_ids
from shoplm.quantization.cpu import skip_pinning_without_accelerator
from shoplm.quantization.padding import PaddingReport, pad_with_proof
from shoplm.quantization.quantizers import QUANTIZERS

SUMMARY_FILE = "quantize_summary.json"


@dataclass(frozen=True)
class QuantizeResult:
    method: str
    seconds: float  # the llm-compressor run alone (no loading, no saving)
    source_bytes: int
    output_bytes: int
    padding: PaddingReport
    calibration_prompts: int

    def as_metrics(self, prefix: str = "") -> dict[str, float]:
        metrics = {"quantize_seconds": self.seconds, "source_mb": self.source_bytes / 2**20,
                   "output_mb": self.output_bytes / 2**20, "size_ratio": self.output_bytes / self.source_bytes,
                   "calibration_prompts": float(self.calibration_prompts), **self.padding.as_metrics()}
        return {f"{prefix}{k}": v for k, v in metrics.items()}


def check_group_divisibility(model: Any, group_size: int, ignored: Sequence[str] = ("lm_head",)) -> None:
    """Every Linear to quantize needs its input size divisible by the group size; say which one does not."""
    import torch

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and name.split(".")[-1] not in ignored:
            if module.in_features % group_size:
                raise ValueError(f"{name}: input size {module.in_features} is not divisible by group_size "
                                 f"{group_size}; choose a group size that divides it")


def _keep_padded_width(out: Path, width: int) -> None:
    """llm-compressor re-saves the *source folder's* config.json over the new one (for vLLM's sake),
    which would undo the padding's ``intermediate_size``; write the padded width back."""
    config_file = out / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    if config.get("intermediate_size") != width:
        config["intermediate_size"] = width
        config_file.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def quantize_folder(model_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], settings: QuantizeSection,
                    calibration_questions: Sequence[Any], method: str | None = None) -> QuantizeResult:
    """Quantize the model of ``model_dir`` with ``method`` (default ``settings.method``) into ``out_dir``."""
    import torch
    from llmcompressor import oneshot
    from transformers import AutoModelForCausalLM, AutoTokenizer

    method = QUANTIZERS.check(method or settings.method)
    quantizer = QUANTIZERS.get(method)
    model_dir, out = Path(model_dir), Path(out_dir)
    skip_pinning_without_accelerator()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32 if not torch.cuda.is_available()
                                                 else "auto")
    token_ids = calibration_token_ids(calibration_questions, tokenizer, settings.calibration.samples,
                                      settings.calibration.max_seq_len)
    padding = pad_with_proof(model, settings.pad_multiple, token_ids[:2], target=settings.pad_intermediate_to)
    check_group_divisibility(model, settings.group_size)

    kwargs: dict[str, Any] = {}
    if quantizer.needs_calibration:
        kwargs = {"dataset": calibration_dataset(token_ids), "num_calibration_samples": len(token_ids),
                  "max_seq_length": settings.calibration.max_seq_len, "shuffle_calibration_samples": False}
    start = time.perf_counter()
    oneshot(model=model, recipe=quantizer.recipe(settings), **kwargs)
    seconds = time.perf_counter() - start

    shutil.rmtree(out, ignore_errors=True)
    model.save_pretrained(out, save_compressed=True)
    _keep_padded_width(out, padding.new_size)
    for name in TOKENIZER_FILES:  # the tokenizer as shipped, byte for byte (chat template included)
        if (model_dir / name).is_file():
            shutil.copy2(model_dir / name, out / name)
    result = QuantizeResult(method, seconds, folder_size_bytes(model_dir), folder_size_bytes(out), padding,
                            len(token_ids) if quantizer.needs_calibration else 0)
    summary = {**asdict(result), "settings": settings.model_dump(mode="json"), "source": str(model_dir)}
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return result
