"""Scoring many merge candidates in ONE vLLM engine: each candidate is a LoRA adapter named per request.

The transformers path (``shoplm.merging.scoring.QuestionScorer`` over a ``MergeWorkspace``) merges each
candidate into the loaded weights and answers the questions with it, one candidate after the other.
A ``weighted`` candidate is also exactly one LoRA adapter (``shoplm.merging.lora_form``), so an engine
started once on the base can answer every (candidate, question) pair in a single batched ``generate``
call, each request carrying its candidate's ``LoRARequest``. ties / dare_* candidates have no LoRA form
(``supports_lora_form``): score those as merges.

The engine is the evaluation's ``VLLMBackend`` (same prompt token ids from ``encode_prompt``, stop tokens,
greedy settings and constraints), started with LoRA on and room for the largest candidate:

    with open_candidate_engine(base_dir, folders.values(), settings=generation) as engine:
        results = generate_candidates(engine, folders, questions, generation)   # {name: EvaluationResult}

A candidate folder of ``None`` is the base itself (α = 0 or all weights 0): its requests name no adapter.
The engine subprocess needs an ``if __name__ == "__main__":`` guard in scripts.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from shoplm.inference import vllm_backend
from shoplm.merging.lora_form import lora_form, lora_form_rank, supports_lora_form
from shoplm.merging.scoring import OBJECTIVES, CandidateScore, compact_samples
from shoplm.params.generation import GenerationSettings
from shoplm.params.merging import MergeSpec

Folder = str | os.PathLike[str]


def engine_lora_rank(rank: int) -> int:
    """The smallest ``max_lora_rank`` vLLM accepts that holds a LoRA form of rank ``rank``."""
    try:
        return vllm_backend.engine_lora_rank(rank)
    except ValueError as exc:
        raise ValueError(f"{exc}: score this candidate as a merge") from None


def candidate_folders(adapter_dirs: Mapping[str, Folder], specs: Iterable[MergeSpec], cache_dir: Folder
                      ) -> tuple[dict[str, Path | None], list[MergeSpec]]:
    """``({spec fingerprint: LoRA-form folder, or None for the base}, specs without a LoRA form)``.

    Each ``weighted`` spec is written once under ``cache_dir`` (``lora_form``), later calls reuse it; a spec
    that leaves the base unchanged maps to ``None``; ties / dare_* come back in the second list, for the
    caller to score as merges.
    """
    folders: dict[str, Path | None] = {}
    unsupported: list[MergeSpec] = []
    for spec in specs:
        if not supports_lora_form(spec):
            unsupported.append(spec)
        elif spec.change_from_base() == 0:
            folders[spec.fingerprint()] = None
        else:
            folders[spec.fingerprint()] = lora_form(adapter_dirs, spec, cache_dir)
    return folders, unsupported


def _as_mapping(candidates: Mapping[str, Folder | None] | Sequence[Folder | None]) -> dict[str, str | None]:
    if isinstance(candidates, Mapping):
        items = candidates.items()
    else:
        items = ((str(folder) if folder is not None else "base", folder) for folder in candidates)
    return {str(name): (None if folder is None else str(Path(folder).resolve())) for name, folder in items}


def open_candidate_engine(
    model_dir: Folder,
    candidates: Iterable[Folder | None],
    *,
    settings: GenerationSettings | None = None,
    dtype: str = "float32",
    vllm: Any = None,
    constraints: Any = None,
    max_loras: int | None = None,
    **backend_options: Any,
) -> Any:
    """A ``VLLMBackend`` on the base ``model_dir`` that can serve every candidate adapter at once.

    LoRA is on; ``max_lora_rank`` is the smallest value vLLM allows that holds the largest candidate (or the
    setting's, when ``vllm`` sets one explicitly);
    ``max_loras`` (adapters resident at once) defaults to the number of candidate adapters plus one, at least
    the setting's: then all of them, and the base, fit one engine call on CPU too (vLLM's CPU LoRA ops give
    base requests the last slot's adapter once every slot is taken; ``VLLMBackend`` then splits the call).
    ``vllm`` is a ``VLLMSettings`` or its mapping (``evaluate.vllm``); other keywords go to the backend.
    """
    from shoplm.inference.vllm_backend import VLLMBackend
    from shoplm.params.serving import VLLMSettings

    settings = settings or GenerationSettings()
    engine = VLLMSettings.model_validate(vllm or {})
    folders = sorted({str(Path(folder).resolve()) for folder in candidates if folder is not None})
    rank = max([lora_form_rank(folder) for folder in folders], default=1)
    if "max_lora_rank" in engine.model_fields_set:  # a rank the caller asked for (room for more adapters)
        rank = max(rank, engine.max_lora_rank)
    engine = engine.model_copy(update={
        "enable_lora": True,
        "max_lora_rank": engine_lora_rank(rank),  # no larger: the CPU LoRA ops cost grows with it
        "max_loras": max_loras or max(engine.max_loras, len(folders) + 1),
    })
    options = {"max_input_tokens": settings.max_input_tokens, "batch_size": settings.batch_size,
               "max_new_tokens": max(settings.max_new_tokens.values()), **backend_options}
    return VLLMBackend(model_dir, dtype=dtype, settings=engine, constraints=constraints, **options)


def generate_candidates(
    backend: Any,
    candidates: Mapping[str, Folder | None] | Sequence[Folder | None],
    questions: Sequence[Any],
    settings: GenerationSettings | None = None,
    *,
    prompts: Any = None,
) -> dict[str, Any]:
    """``{candidate: EvaluationResult}``: every candidate answers every question, all in one engine call.

    ``candidates`` maps a name to a LoRA adapter folder (``None``: the base), or is a list of folders
    (named by their paths). The requests are ``run_zero_shot``'s (same classification, prompts and
    token limits), each naming its candidate's adapter; the answers get the same final-answer cut and
    post-processing. Each result's ``runtime_s`` is the one call's seconds divided among the candidates.
    (On CPU the base's requests go in a second call when the engine's LoRA slots could all be taken: see
    ``VLLMBackend._base_beside_adapters_unsafe``; ``open_candidate_engine`` leaves room to avoid it.)
    """
    from shoplm.evaluation import result_from_outputs
    from shoplm.inference.generation import build_requests
    from shoplm.shopbench.prompting.strategies import PromptPlan

    settings = settings or GenerationSettings()
    named = _as_mapping(candidates)
    if not named:
        return {}
    questions = list(questions)
    prompts = prompts or PromptPlan.from_settings(settings.prompts, evaluated=questions)
    requests = build_requests(questions, settings, classify=True, prompts=prompts)
    batch = [dataclasses.replace(request, adapter=folder) for folder in named.values() for request in requests]
    start = time.perf_counter()
    # vllm's backend takes every request in one engine call; others (transformers, the doubles) batch their way
    one_call = "one_call" in inspect.signature(backend.generate).parameters
    raw = backend.generate(batch, one_call=True) if one_call else backend.generate(batch)
    seconds = time.perf_counter() - start
    if len(raw) != len(batch):
        raise RuntimeError(f"backend returned {len(raw)} outputs for {len(batch)} requests")
    results = {}
    for position, name in enumerate(named):
        own = raw[position * len(requests):(position + 1) * len(requests)]
        results[name] = result_from_outputs(questions, requests, own, settings, prompts, seconds / len(named))
    return results


def score_candidates(
    backend: Any,
    candidates: Mapping[str, Folder | None] | Sequence[Folder | None],
    questions: Sequence[Any],
    settings: GenerationSettings | None = None,
    objective: str = "track5",
) -> dict[str, CandidateScore]:
    """``{candidate: CandidateScore}`` as ``QuestionScorer`` scores a merged model, from one engine call."""
    from shoplm.shopbench.scoring import score

    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r}: choose one of {', '.join(OBJECTIVES)}")
    results = generate_candidates(backend, candidates, questions, settings)
    scores = {}
    for name, result in results.items():
        scored = score(questions, result.predictions)
        report = scored.to_dict()
        scores[name] = CandidateScore(float(report[objective]), int(report["parse_failures"]), result.runtime_s,
                                      report, compact_samples(scored.samples))
    return scores
