"""Stage ``dpo@<sft-adapter>``: DPO on top of a trained SFT adapter (seed 000), with trl's DPOTrainer.

    python -m tasks.dpo v7

reads ``dpo.defaults`` + ``dpo.adapters.v7`` (the mixture whose questions become preference pairs,
seed, overrides), loads the base model of stage ``base`` in 4-bit with ``models/adapters/v7`` on it,
and continues training that adapter against a frozen copy of itself (the DPO reference). Pairs: the
gold answer is chosen; the rejected answer is a wrong answer in the right format or the right answer
in a wrong format (``dpo.defaults.rejected``). Writes

* ``models/adapters/v7-dpo/``: the adapter, the tokenizer and ``dpo_summary.json`` (the DVC output);
* ``metrics/dpo/v7.json``: peak memory, pair counts, loss (a DVC metrics file);
* ``models/checkpoints/v7-dpo/``: resumable checkpoints while it runs, as for ``tasks.train``;
* MLflow run ``dpo@v7``: loss, reward margins and accuracies per logging step, the adapter.

Several GPUs: ``accelerate launch --config_file configs/accelerate/multi_gpu.yaml -m tasks.dpo v7``.
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
from shoplm.params.training import DPOSection, select_adapter
from shoplm.training.dpo import DPORun, train_dpo
from shoplm.training.layout import (
    ADAPTERS_DIR,
    BASE_DIR,
    CHECKPOINTS_DIR,
    DPO_SUFFIX,
    mixture_questions,
    write_run_metrics,
)
from shoplm.training.model import is_main_process
from tasks._runner import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.dpo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("adapter", help="the SFT adapter to start from: a key of dpo.adapters (e.g. v7)")
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    section: DPOSection = load_section(DPOSection, args.params)
    spec = select_adapter(section.adapters, args.adapter, "dpo")
    hp = spec.hyperparameters(section.defaults)
    sft_dir = ADAPTERS_DIR / args.adapter
    if not (sft_dir / "adapter_config.json").is_file():
        raise FileNotFoundError(f"{sft_dir}: no SFT adapter (run `dvc repro train@{args.adapter}`)")
    name = f"{args.adapter}{DPO_SUFFIX}"
    out = ADAPTERS_DIR / name
    main_process = is_main_process()
    if main_process:
        shutil.rmtree(out, ignore_errors=True)

    params = {"sft_adapter": args.adapter, "mixture": spec.mixture, "seed": spec.seed, **hp.model_dump(mode="json")}
    tags = {"adapter": name, "sft_adapter": args.adapter, "mixture": spec.mixture}
    with tracking.stage_run(f"dpo@{args.adapter}", params, tags=tags) if main_process else nullcontext():
        import mlflow

        summary = train_dpo(
            DPORun(name=name, questions=mixture_questions(spec.mixture), base_dir=resolve_stage_model(BASE_DIR),
                   sft_adapter_dir=sft_dir, adapter_dir=out, checkpoint_dir=CHECKPOINTS_DIR / name,
                   hyperparameters=hp, seed=spec.seed),
            log_fn=tracking.log_step_metrics if main_process else None, progress=not args.no_progress)
        if main_process:
            finals = {f"pairs/{k}": v for k, v in summary["pairs"].items()}
            finals.update(summary["run"]["memory"])
            finals["global_step"] = summary["global_step"]
            if summary["train_loss"] is not None:
                finals["train_loss"] = summary["train_loss"]
            metrics = {tracking.metric_name(k): float(v) for k, v in finals.items()}
            write_run_metrics("dpo", args.adapter, metrics)
            mlflow.log_metrics(metrics, step=summary["global_step"])
            mlflow.set_tag("resumed_from_step", str(summary["run"]["resumed_from_step"]))
            mlflow.log_artifacts(str(out), artifact_path=f"adapters/{name}")

    if main_process:
        headline = {k: summary[k] for k in ("adapter", "global_step", "train_loss", "pairs")}
        print(json.dumps({**headline, "resumed_from_step": summary["run"]["resumed_from_step"],
                          "last_log": summary["last_log"]}, indent=2))
        print(f"adapter → {out}/")
    return 0


if __name__ == "__main__":
    run(main)
