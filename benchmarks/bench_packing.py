"""Packed vs padded training batches on the same questions: tokens/s and the compute spent on padding.

Trains the same 4-bit LoRA set-up twice for ``--steps`` optimizer steps, once with padding-free packing
(rows of ``--seq-len`` tokens, several examples each) and once with one example per row padded to the
longest of its micro-batch, with as many examples per step as a packed row holds on average. Prints
both side by side; asserts nothing.

Questions: ``data/processed/<--mixture>/train.jsonl`` when built, else the shipped sample
(data/sample/shopbench/questions.jsonl) plus the development set when ``../shared`` has it, repeated
to ``--examples``. Model: ``models/base`` when stage ``base`` has run, else a random-init tiny Qwen2
built into a temporary folder.

    .venv/bin/python benchmarks/bench_packing.py [--steps 20] [--seq-len 1024] [--mixture v7]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # 5-10x faster for tiny models on small CPUs
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = REPO_ROOT / "data" / "sample" / "shopbench" / "questions.jsonl"
DEVELOPMENT_SET = REPO_ROOT.parent / "shared" / "data" / "shopbench" / "development.json"


def load_bench_questions(mixture: str, examples: int) -> tuple[list, str]:
    from shoplm.shopbench.records import load_questions

    built = REPO_ROOT / "data" / "processed" / mixture / "train.jsonl"
    if built.is_file():
        questions, source = load_questions(built), str(built.relative_to(REPO_ROOT))
    else:
        questions, source = list(load_questions(SAMPLE)), "sample"
        if DEVELOPMENT_SET.is_file():
            questions += load_questions(DEVELOPMENT_SET)
            source += " + development set"
    repeated = (questions * (examples // len(questions) + 1))[:examples]
    return repeated, f"{source} ({len(questions)} distinct questions)"


def base_model(tmp: Path) -> tuple[Path, str]:
    from shoplm.modeling import build_tiny_base, resolve_stage_model
    from shoplm.params.base import TinyModelSpec

    try:
        return resolve_stage_model(REPO_ROOT / "models" / "base"), "models/base"
    except Exception:
        build_tiny_base(TinyModelSpec(pretrain_steps=0), tmp / "base", progress=False, probe=False)
        return tmp / "base", "random-init tiny Qwen2 (stage base not run)"


def run_mode(packing: bool, questions, base: Path, tmp: Path, args, micro_batch: int) -> dict:
    from shoplm.params.training import TrainHyperparameters
    from shoplm.training.sft import AdapterRun, train_adapter

    hp = TrainHyperparameters(
        learning_rate=1e-4, warmup_steps=0, micro_batch_size=micro_batch, gradient_accumulation_steps=1,
        max_steps=args.steps, max_seq_len=args.seq_len, bf16=False, packing=packing, save_steps=10**6,
        logging_steps=10**6, gradient_checkpointing=False, lora={"r": 8, "alpha": 16})
    mode = "packed" if packing else "padded"
    return train_adapter(AdapterRun(mode, questions, base, tmp / mode, tmp / f"ck-{mode}", hp), progress=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20, help="optimizer steps per mode")
    parser.add_argument("--seq-len", type=int, default=1024, help="packed row length (max_seq_len)")
    parser.add_argument("--mixture", default="v7", help="use data/processed/<mixture>/train.jsonl if built")
    parser.add_argument("--examples", type=int, default=2000, help="questions to draw (repeated if fewer)")
    args = parser.parse_args()

    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    from shoplm.training.examples import tokenize_questions
    from shoplm.training.model import load_tokenizer
    from shoplm.training.packing import RowDataset

    with tempfile.TemporaryDirectory(prefix="bench_packing_") as folder:
        tmp = Path(folder)
        questions, source = load_bench_questions(args.mixture, args.examples)
        base, base_label = base_model(tmp)
        data = tokenize_questions(load_tokenizer(base), questions, args.seq_len)
        per_row = len(data.examples) / len(RowDataset(data.examples, True, args.seq_len))
        padded_batch = max(1, round(per_row))
        print(f"questions: {source}; model: {base_label}; {args.steps} steps per mode, seq len {args.seq_len}")
        print(f"mean example {data.stats()['mean_example_tokens']:.0f} tokens; a packed row holds "
              f"{per_row:.1f} examples → padded micro-batch of {padded_batch} examples\n")
        with contextlib.redirect_stdout(io.StringIO()):  # Trainer's per-log dicts
            results = {packing: run_mode(packing, questions, base, tmp, args, 1 if packing else padded_batch)
                       for packing in (True, False)}

    header = f"{'':24s}{'packed':>14s}{'padded':>14s}"
    print(header)
    print("-" * len(header))
    rows = [
        ("real tokens / s", "tokens_per_s", "{:14.0f}"),
        ("padding share", "padding_share", "{:14.1%}"),
        ("answer-token fraction", "answer_token_fraction", "{:14.1%}"),
        ("real tokens trained", "tokens", "{:14.0f}"),
        ("seconds", "train_seconds", "{:14.1f}"),
    ]
    for label, key, fmt in rows:
        print(f"{label:24s}" + "".join(fmt.format(results[p]["run"]["throughput"][key]) for p in (True, False)))
    examples_per_s = {p: results[p]["run"]["throughput"]["tokens_per_s"] / data.stats()["mean_example_tokens"]
                      for p in (True, False)}
    print(f"{'examples / s (approx.)':24s}{examples_per_s[True]:14.1f}{examples_per_s[False]:14.1f}")
    tokens_per_s = {p: results[p]["run"]["throughput"]["tokens_per_s"] for p in (True, False)}
    speedup = tokens_per_s[True] / max(tokens_per_s[False], 1e-9)
    print(f"\npacking: {speedup:.2f}x the real tokens per second of padded batches")


if __name__ == "__main__":
    main()
