"""On-policy rejected answers: what the SFT model itself answers, sampled (``rejected.source: on_policy``).

Rules-made rejections (:mod:`.preferences`) teach the model to avoid mistakes it may never make; its
own wrong answers are the ones DPO should push down (on-policy preference data, as in seed 000's
best DPO runs). Each question's prompt is rendered exactly as evaluation renders it (the
``transformers`` inference backend's ``encode``: chat template, truncation, stop tokens), the SFT
adapter on the base model samples ``samples`` answers, and :func:`.preferences.build_pairs` keeps
those that score strictly below the gold answer under the official metric.

The model is loaded in full precision for generation and freed before DPO loads its 4-bit copy (a
4-bit model that has run an eval-mode forward cannot train on some CPUs: see
``shoplm.training.model``). At scale, sampling belongs on the vLLM backend; here it is one
``generate`` call per question, which the tiny and smol profiles afford.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shoplm.inference.backends import GenerationRequest
from shoplm.params.generation import GenerationSettings
from shoplm.shopbench.prompts import build_messages
from shoplm.shopbench.records import Question


def sample_answers(base_dir: Path, adapter_dir: Path, questions: Sequence[Question], samples: int,
                   temperature: float, seed: int, progress: bool = True) -> list[list[str]]:
    """``samples`` sampled answers of the adapter's model to each question (raw texts, as scored)."""
    import torch
    from tqdm.auto import tqdm
    from transformers import GenerationConfig, set_seed

    from shoplm.inference.transformers_backend import TransformersBackend

    limits = GenerationSettings()
    set_seed(seed)
    answers: list[list[str]] = []
    with TransformersBackend(base_dir, adapter_dir, dtype="float32", show_progress=False) as backend:
        for question in tqdm(questions, desc="on-policy answers", unit="question", disable=not progress):
            request = GenerationRequest(messages=build_messages(question.input_field, question.task_type),
                                        task_type=question.task_type,
                                        max_new_tokens=limits.limit_for(question.task_type))
            ids = torch.tensor([backend.encode(request)], device=backend.device)
            config = GenerationConfig(do_sample=True, temperature=temperature, top_p=1.0, top_k=0,
                                      num_return_sequences=samples, max_new_tokens=request.max_new_tokens,
                                      eos_token_id=backend.eos_token_ids, pad_token_id=backend.pad_token_id)
            with torch.inference_mode():
                generated = backend.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                                                   generation_config=config)
            texts = []
            for row in generated[:, ids.shape[1]:].tolist():
                stop = next((k for k, t in enumerate(row) if t in backend.eos_token_ids), len(row))
                texts.append(backend.tokenizer.decode(row[:stop], skip_special_tokens=True))
            answers.append(texts)
    return answers
