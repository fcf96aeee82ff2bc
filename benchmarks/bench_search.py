"""Merge search scoring: vLLM with every candidate as a LoRA adapter in one engine against transformers on
merged weights, seconds per candidate and per question, side by side in one run.

* transformers (the search's path today, ``tasks/search.py``): one ``MergeWorkspace`` loads the base and
  adapters once; each candidate is merged in place (``apply``) and scored by ``QuestionScorer`` (batched
  greedy ``generate``), one candidate after the other.
* vLLM: each candidate is written as one LoRA adapter (``shoplm.merging.lora_form``: exact for
  ``weighted`` specs), one engine starts on the base with room for all of them
  (``open_candidate_engine``), and every (candidate, question) request goes in one ``generate`` call
  (``score_candidates``).

Candidates are ``--candidates`` seeded ``weighted`` specs over the given adapters (random weights in
[0, 1], α in [0.25, 1]). Setup is timed apart from scoring: the workspace load for transformers; writing
the LoRA forms and the engine start (with a one-request warm-up) for vLLM. Prints one table with both
and their ratio, the same number of vLLM requests on the base without LoRA (what the LoRA computation
costs; give ``--no-prefix-caching`` for a fair figure, as its prompts repeat), and how many candidates'
predictions and scores the two agree on (exact in fp32 up to numerics). Asserts nothing.

    .venv/bin/python benchmarks/bench_search.py MODEL_DIR ADAPTER_DIR [ADAPTER_DIR ...]
        [--questions FILE] [--candidates 6] [--limit N] [--dtype float32] [--threads N] [--eager]

On SmolLM2 (after ``make run``: the smol profile writes models/base and models/adapters/v7, and the
validation questions data/eval/sample.jsonl), for example:

    .venv/bin/python benchmarks/bench_search.py models/base models/adapters/* \\
        --questions data/eval/sample.jsonl --candidates 8 --dtype float32

Adapter names are the folder names. Use every core (the default ``--threads``); the engine core's OpenMP
threads are bound to the same cores (``VLLM_CPU_OMP_THREADS_BIND``) unless the environment sets it.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = REPO_ROOT / "data" / "sample" / "shopbench" / "questions.jsonl"


def make_specs(names: list[str], count: int, seed: int) -> list:
    from shoplm.params.merging import MergeSpec

    rng = random.Random(seed)
    specs, seen = [], set()
    while len(specs) < count:
        spec = MergeSpec(method="weighted", adapters={n: round(rng.uniform(0.0, 1.0), 2) for n in names},
                         alpha=round(rng.uniform(0.25, 1.0), 2))
        if spec.change_from_base() > 0 and spec.fingerprint() not in seen:
            seen.add(spec.fingerprint())
            specs.append(spec)
    return specs


def run_transformers(model_dir: Path, adapters: dict, specs: list, questions: list, settings, args) -> dict:
    from transformers import AutoTokenizer

    from shoplm.merging import MergeWorkspace
    from shoplm.merging.scoring import QuestionScorer

    start = time.perf_counter()
    workspace = MergeWorkspace(model_dir, adapters, dtype=args.dtype)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    scorer = QuestionScorer(questions, tokenizer, settings, args.objective)
    setup_s = time.perf_counter() - start
    print(f"  transformers: workspace loaded in {setup_s:.1f} s", flush=True)
    per_candidate, scores = [], {}
    for spec in specs:
        start = time.perf_counter()
        workspace.apply(spec)
        outcome = scorer(workspace.model)
        per_candidate.append(time.perf_counter() - start)
        scores[spec.fingerprint()] = outcome.score
        print(f"  transformers: {spec.label()}: {per_candidate[-1]:.1f} s, {args.objective} {outcome.score:.4f}",
              flush=True)
    del workspace, scorer  # free the model before the engine starts
    gc.collect()
    return {"setup_s": setup_s, "scoring_s": sum(per_candidate), "scores": scores}


def transformers_predictions(model_dir: Path, adapters: dict, specs: list, questions: list, settings, args) -> dict:
    """Predictions per candidate on the merged weights (for the agreement count only; not timed)."""
    from transformers import AutoTokenizer

    from shoplm.evaluation import run_zero_shot
    from shoplm.merging import MergeWorkspace
    from shoplm.merging.scoring import LoadedModelBackend

    workspace = MergeWorkspace(model_dir, adapters, dtype=args.dtype)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    out = {}
    for spec in specs:
        workspace.apply(spec)
        backend = LoadedModelBackend(workspace.model, tokenizer, batch_size=settings.batch_size,
                                     max_input_tokens=settings.max_input_tokens)
        out[spec.fingerprint()] = run_zero_shot(questions, backend, settings).predictions
    return out


def run_vllm(model_dir: Path, adapters: dict, specs: list, questions: list, settings, args) -> dict:
    from shoplm.merging.lora_form import lora_form_rank
    from shoplm.merging.vllm_scoring import candidate_folders, generate_candidates, open_candidate_engine
    from shoplm.params.serving import VLLMSettings
    from shoplm.shopbench.scoring import score

    start = time.perf_counter()
    cache = Path(args.cache) if args.cache else Path(tempfile.mkdtemp(prefix="bench-search-forms-"))
    folders, unsupported = candidate_folders(adapters, specs, cache)
    assert not unsupported
    forms_s = time.perf_counter() - start
    ranks = sorted({lora_form_rank(folder) for folder in folders.values() if folder is not None})
    print(f"  vLLM: {len(folders)} LoRA forms (ranks {ranks}) written in {forms_s:.1f} s under {cache}", flush=True)
    engine_settings = VLLMSettings(enforce_eager=args.eager, enable_prefix_caching=not args.no_prefix_caching,
                                   max_num_seqs=args.max_num_seqs, cpu_kvcache_space_gib=args.kv_cache_gib,
                                   cpu_threads_bind=os.environ.get("VLLM_CPU_OMP_THREADS_BIND", "auto"))
    start = time.perf_counter()
    with open_candidate_engine(model_dir, folders.values(), settings=settings, dtype=args.dtype,
                               vllm=engine_settings) as engine:
        generate_candidates(engine, {"warm-up": None}, questions[:1], settings)
        start_s = time.perf_counter() - start
        print(f"  vLLM: engine start (incl. a one-question warm-up) {start_s:.1f} s; max_lora_rank "
              f"{engine.llm.llm_engine.vllm_config.lora_config.max_lora_rank}, max_loras {engine.max_loras}",
              flush=True)
        start = time.perf_counter()
        results = generate_candidates(engine, folders, questions, settings)
        scoring_s = time.perf_counter() - start
        start = time.perf_counter()  # the same number of requests on the base alone: what LoRA costs
        generate_candidates(engine, {f"base {k}": None for k in range(len(folders))}, questions, settings)
        base_s = time.perf_counter() - start
    scores = {name: float(score(questions, result.predictions).to_dict()[args.objective])
              for name, result in results.items()}
    predictions = {name: result.predictions for name, result in results.items()}
    print(f"  vLLM: {len(specs)} candidates x {len(questions)} questions in one call: {scoring_s:.1f} s", flush=True)
    return {"setup_s": forms_s + start_s, "forms_s": forms_s, "start_s": start_s, "scoring_s": scoring_s,
            "base_s": base_s, "scores": scores, "predictions": predictions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="base model folder (models/base)")
    parser.add_argument("adapters", type=Path, nargs="+", help="LoRA adapter folders (models/adapters/*)")
    parser.add_argument("--questions", type=Path, default=SAMPLE, help="ShopBench questions (JSON Lines or JSON)")
    parser.add_argument("--candidates", type=int, default=6, help="number of weighted candidates")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--seed", type=int, default=0, help="seed of the candidates' weights and α")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--batch-size", type=int, default=16, help="transformers batch (the evaluation's)")
    parser.add_argument("--objective", default="track5", choices=["track5", "mean_over_tasks"])
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="cores for both paths")
    parser.add_argument("--eager", action="store_true", help="vLLM without torch.compile (starts faster)")
    parser.add_argument("--no-prefix-caching", action="store_true", help="vLLM prefix caching off")
    parser.add_argument("--max-num-seqs", type=int, default=64, help="vLLM's own batch")
    parser.add_argument("--kv-cache-gib", type=int, default=1, help="vLLM's CPU KV cache")
    parser.add_argument("--cache", help="folder for the LoRA forms (default: a new temporary folder)")
    parser.add_argument("--skip-agreement", action="store_true", help="do not compare predictions")
    args = parser.parse_args()

    import torch

    from shoplm.params.generation import GenerationSettings
    from shoplm.shopbench.records import load_questions

    torch.set_num_threads(args.threads)
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", f"0-{args.threads - 1}" if args.threads > 1 else "0")
    os.environ.setdefault("VLLM_HOST_IP", "127.0.0.1")
    adapters = {folder.name: folder for folder in args.adapters}
    questions = list(load_questions(args.questions))[: args.limit]
    settings = GenerationSettings(batch_size=args.batch_size)
    specs = make_specs(list(adapters), args.candidates, args.seed)
    n, q = len(specs), len(questions)
    print(f"model {args.model}, adapters {sorted(adapters)}, {n} candidates x {q} questions "
          f"({args.questions.name}), {args.dtype}, {args.threads} threads", flush=True)

    hf = run_transformers(args.model, adapters, specs, questions, settings, args)
    vl = run_vllm(args.model, adapters, specs, questions, settings, args)

    rows = [("transformers, merged weights", hf["setup_s"], hf["scoring_s"]),
            ("vLLM, LoRA requests in one engine", vl["setup_s"], vl["scoring_s"])]
    print(f"\n| path | setup s | scoring s | s/candidate | s/question | s/candidate incl. setup |\n|{'---|' * 6}")
    for name, setup_s, scoring_s in rows:
        print(f"| {name} | {setup_s:.1f} | {scoring_s:.1f} | {scoring_s / n:.3f} | {scoring_s / (n * q):.4f} | "
              f"{(setup_s + scoring_s) / n:.3f} |")
    print(f"| transformers / vLLM | | {hf['scoring_s'] / vl['scoring_s']:.2f}x | | | "
          f"{(hf['setup_s'] + hf['scoring_s']) / (vl['setup_s'] + vl['scoring_s']):.2f}x |")
    print(f"vLLM setup: LoRA forms {vl['forms_s']:.1f} s + engine start {vl['start_s']:.1f} s; the same "
          f"{n * q} requests without LoRA: {vl['base_s']:.1f} s"
          + ("" if args.no_prefix_caching else " (prefix caching on: repeated base prompts are cached)"))
    same_score = sum(abs(hf["scores"][s.fingerprint()] - vl["scores"][s.fingerprint()]) < 1e-9 for s in specs)
    print(f"scores equal on {same_score}/{n} candidates")
    if not args.skip_agreement:
        reference = transformers_predictions(args.model, adapters, specs, questions, settings, args)
        same = sum(a == b for s in specs for a, b in zip(reference[s.fingerprint()],
                                                         vl["predictions"][s.fingerprint()]))
        print(f"predictions identical on {same}/{n * q} (candidate, question) pairs")


if __name__ == "__main__":
    main()
