"""Stage ``train@<adapter>``: QLoRA fine-tuning of one adapter on its mixture (seed 003 §4.2).

    python -m tasks.train v7          # one process: the GPU if there is one, else the CPU

reads ``train.defaults`` + ``train.adapters.v7`` (mixture, seed, overrides) from params.yaml, the
questions of ``data/processed/<mixture>/train.jsonl`` and the base model of stage ``base``, and writes

* ``models/adapters/v7/``: the peft adapter, the tokenizer and ``train_summary.json`` (the DVC output:
  only what the inputs determine, so a forced rebuild with the same result leaves its hash alone);
* ``metrics/train/v7.json``: how the run went (tokens/s, seconds, peak memory, loss; a DVC metrics
  file, which no stage depends on);
* ``models/checkpoints/v7/checkpoint-<step>/`` every ``save_steps`` (not a DVC output): a killed run
  resumes from the newest one on the next invocation, when hyperparameters, seed, data and base
  model (its files' contents, tokenizer included) are unchanged (it says so in the log and in the
  MLflow tag ``resumed_from_step``); they are removed once the run finishes (``keep_checkpoints:
  true`` keeps them);
* MLflow run ``train@v7``: the loss curve per logging step, tokens/s, answer-token fraction (loss
  tokens / real tokens), padding share, peak memory, and the adapter folder as an artifact.

Several GPUs: the same module under ``accelerate launch`` (nothing here assumes one device):

    accelerate launch --config_file configs/accelerate/multi_gpu.yaml -m tasks.train v7       # DDP
    accelerate launch --config_file configs/accelerate/fsdp_qlora.yaml -m tasks.train v7      # FSDP
    accelerate launch --config_file configs/accelerate/deepspeed_zero3.yaml -m tasks.train v7 # ZeRO-3

Without GPUs, the same paths run on 2 CPU processes (gloo on 127.0.0.1; tests/training/test_distributed.py):

    accelerate launch --config_file configs/accelerate/cpu_ddp.yaml -m tasks.train v7           # DDP
    accelerate launch --config_file configs/accelerate/cpu_fsdp.yaml -m tasks.train v7          # FSDP 2

Stop a multi-process run with Ctrl-C or SIGTERM to the launcher (torchrun stops its ranks). SIGKILL of
the launcher alone leaves the ranks training, since torchrun starts each in its own session; kill them too.

DDP keeps a full 4-bit copy per GPU (fits up to ~30B on 80 GB); Qwen2-72B needs FSDP or ZeRO-3, which
shard the 4-bit weights (the loader then stores them in bf16 and sets no device_map). Set
``num_processes`` in the YAML (or ``--num_processes``) to the GPU count. The effective batch is
micro_batch_size x gradient_accumulation_steps x processes (seed 003: 1 x 4 x 8 A100s). Only rank 0
logs to MLflow and writes files; every rank tokenizes the data itself (deterministic, same order).
"""

from __future__ import annotations

import argparse
import json
import shutil
from contextlib import nullcontext
from pathlib import Path

from shoplm import tracking
from shoplm.modeling import resolve_stage_model
from shoplm.params.loader import PARAMS_FILE, load_section
from shoplm.params.training import TrainSection, select_adapter
from shoplm.training.layout import ADAPTERS_DIR, BASE_DIR, CHECKPOINTS_DIR, mixture_questions, write_run_metrics
from shoplm.training.model import is_main_process
from shoplm.training.sft import AdapterRun, train_adapter
from tasks._runner import run


def run_metrics(summary: dict) -> dict[str, float]:
    """The run's headline numbers as flat metrics (MLflow, and ``metrics/train/<adapter>.json``)."""
    facts = summary["run"]
    throughput, memory, data = facts["throughput"], facts["memory"], summary["data"]
    metrics = {key: throughput[key] for key in ("tokens_per_s", "answer_token_fraction", "padding_share",
                                                 "train_seconds", "tokens")}
    metrics.update({f"data/{key}": data[key] for key in ("examples", "dropped_too_long", "rows", "row_fill",
                                                          "answer_token_fraction")})
    metrics.update(memory)
    metrics["peak_memory_mb"] = memory.get("peak_gpu_mb", memory["peak_rss_mb"])
    metrics["global_step"] = summary["global_step"]
    if summary["train_loss"] is not None:
        metrics["train_loss"] = summary["train_loss"]
    return {tracking.metric_name(k): float(v) for k, v in metrics.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("adapter", help="an adapter name of train.adapters in params.yaml (e.g. v7)")
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (logs only)")
    args = parser.parse_args(argv)

    section: TrainSection = load_section(TrainSection, args.params)
    spec = select_adapter(section.adapters, args.adapter, "train")
    hp = spec.hyperparameters(section.defaults)
    questions = mixture_questions(spec.mixture)
    out = ADAPTERS_DIR / args.adapter
    main_process = is_main_process()
    if main_process:
        shutil.rmtree(out, ignore_errors=True)  # DVC clears outputs before a stage; do the same by hand

    params = {"adapter": args.adapter, "mixture": spec.mixture, "seed": spec.seed, **hp.model_dump(mode="json")}
    tags = {"adapter": args.adapter, "mixture": spec.mixture}
    with tracking.stage_run(f"train@{args.adapter}", params, tags=tags) if main_process else nullcontext():
        import mlflow

        summary = train_adapter(
            AdapterRun(name=args.adapter, questions=questions, base_dir=resolve_stage_model(BASE_DIR),
                       adapter_dir=out, checkpoint_dir=CHECKPOINTS_DIR / args.adapter, hyperparameters=hp,
                       seed=spec.seed),
            log_fn=tracking.log_step_metrics if main_process else None, progress=not args.no_progress)
        if main_process:
            metrics = run_metrics(summary)
            write_run_metrics("train", args.adapter, metrics)
            mlflow.log_metrics(metrics, step=summary["global_step"])
            mlflow.set_tag("resumed_from_step", str(summary["run"]["resumed_from_step"]))
            mlflow.log_artifacts(str(out), artifact_path=f"adapters/{args.adapter}")

    if main_process:
        headline = {k: summary[k] for k in ("adapter", "global_step", "train_loss")}
        print(json.dumps({**headline, **summary["run"]}, indent=2))
        print(f"adapter → {out}/ ({len(questions)} questions of mixture {spec.mixture})")
    return 0


if __name__ == "__main__":
    run(main)
