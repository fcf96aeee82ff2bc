"""DPO on top of a trained SFT adapter (trl's ``DPOTrainer``), resumable like SFT.

The base model is loaded as for SFT (4-bit), the SFT adapter on it as *trainable*, and DPO continues
training that adapter. The reference policy is the SFT adapter as it was: trl copies the loaded
adapter into a frozen second adapter named ``ref`` and computes the reference log-probabilities with
it, so no second model is held in memory and the KL anchor is the SFT model, not the bare base.
The result is one adapter of the SFT adapter's shape (same rank and targets), written to
``models/adapters/<sft>-dpo/`` and usable wherever the SFT adapter is (evaluate, merge).

Pairs come from :mod:`.preferences`: the gold answer against one that scores strictly lower under the
official metric, made by rules or sampled from the SFT model itself (``rejected.source``).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shoplm.params.training import DPOHyperparameters
from shoplm.shopbench.records import Question
from shoplm.training import checkpoints, provenance
from shoplm.training import model as modeling
from shoplm.training.monitoring import LogCallback, LogFn, loss_over_all_steps, peak_memory_mb
from shoplm.training.on_policy import sample_answers
from shoplm.training.preferences import build_pairs, pair_stats, preference_ids
from shoplm.training.sft import RUN_KEY, trainer_arguments, write_summary

log = logging.getLogger(__name__)
SUMMARY_FILE = "dpo_summary.json"
REFERENCE_ADAPTER = "ref"  # the name trl gives the frozen copy of the loaded adapter


@dataclass
class DPORun:
    name: str  # the output adapter's name, e.g. "v7-dpo"
    questions: Sequence[Question]
    base_dir: Path
    sft_adapter_dir: Path
    adapter_dir: Path
    checkpoint_dir: Path
    hyperparameters: DPOHyperparameters
    seed: int = 0


def dpo_config(run: DPORun, progress: bool) -> Any:
    from trl import DPOConfig

    hp = run.hyperparameters
    return DPOConfig(**trainer_arguments(hp, run.checkpoint_dir, run.seed, progress),
                     beta=hp.beta, loss_type=[hp.loss_type], max_length=hp.max_seq_len)


def dpo_trainer_class() -> type:
    """trl's ``DPOTrainer`` with the pairs tokenized by ``preferences.preference_ids``.

    trl renders each pair with the chat template and tokenizes the text, so a ``<|im_end|>`` written in
    a question or an answer would become the special token. Here the pairs are encoded as inference
    encodes a prompt (special tokens from the template only) into the same ``prompt_ids`` /
    ``chosen_ids`` / ``rejected_ids`` columns, and trl's own filter for prompts that fill ``max_length``
    is kept.
    """
    from trl import DPOTrainer

    class TemplateTokensDPOTrainer(DPOTrainer):
        def _prepare_dataset(self, dataset: Any, processing_class: Any, args: Any, dataset_name: str) -> Any:
            dataset = dataset.map(preference_ids, fn_kwargs={"tokenizer": processing_class},
                                  num_proc=args.dataset_num_proc, desc=f"Tokenizing {dataset_name} dataset")
            if args.max_length is not None and args.truncation_mode == "keep_start":
                dataset = dataset.filter(lambda example: len(example["prompt_ids"]) < args.max_length,
                                         num_proc=args.dataset_num_proc)
            return dataset

    return TemplateTokensDPOTrainer


def run_fingerprint(run: DPORun, records: list[dict]) -> str:
    hp = run.hyperparameters.model_dump(mode="json", exclude=set(checkpoints.NEUTRAL_KEYS))
    return checkpoints.fingerprint({
        "hyperparameters": hp, "seed": run.seed, "pairs": checkpoints.fingerprint({"r": records}),
        "base": provenance.folder_digest(run.base_dir), "sft": provenance.folder_digest(run.sft_adapter_dir),
    })


def train_dpo(run: DPORun, *, log_fn: LogFn | None = None, callbacks: Sequence[Any] = (),
              progress: bool = True) -> dict[str, Any]:
    """Continue the SFT adapter with DPO; returns the summary also written to ``adapter_dir``."""
    from datasets import Dataset
    from transformers import set_seed

    hp = run.hyperparameters
    if not Path(run.sft_adapter_dir, "adapter_config.json").is_file():
        raise FileNotFoundError(f"{run.sft_adapter_dir}: no trained SFT adapter (run `dvc repro train@...`)")
    generate = None
    if hp.rejected.source == "on_policy":  # the SFT model answers; its lower-scoring answers are rejected
        def generate(questions: Sequence[Question], samples: int) -> list[list[str]]:
            return sample_answers(run.base_dir, run.sft_adapter_dir, questions, samples, hp.rejected.temperature,
                                  seed=run.seed, progress=progress and modeling.is_main_process())
    pairs = build_pairs(run.questions, hp.rejected, seed=run.seed, generate=generate)
    if not pairs:
        raise ValueError("no preference pair could be built from the questions")
    records = [pair.as_record() for pair in pairs]
    fingerprint = run_fingerprint(run, records)
    resume = checkpoints.claim_checkpoint(run.checkpoint_dir, fingerprint)
    resumed_from = checkpoints.checkpoint_step(resume) if resume else None
    logger = LogCallback(log_fn=log_fn)
    if resume is not None:
        log.warning("dpo %s: resuming from %s (step %d)", run.name, resume, resumed_from)
    if resume is not None and checkpoints.is_finished(resume):  # killed after its last step
        if modeling.is_main_process():
            checkpoints.restore_finished(resume, run.adapter_dir)
        global_step, log_history, trainer_loss = resumed_from, checkpoints.trainer_state(resume)["log_history"], 0.0
    else:
        set_seed(run.seed)
        tokenizer = modeling.load_tokenizer(run.base_dir)
        model = modeling.load_adapter(modeling.load_base_model(run.base_dir, hp), run.sft_adapter_dir,
                                      trainable=True)
        trainer = dpo_trainer_class()(model=model, args=dpo_config(run, progress),
                                      train_dataset=Dataset.from_list(records), processing_class=tokenizer,
                                      callbacks=[logger, *callbacks])
        trainer_loss = trainer.train(resume_from_checkpoint=str(resume) if resume else None).training_loss
        trainer.save_model(str(run.adapter_dir))
        global_step, log_history = trainer.state.global_step, trainer.state.log_history

    summary = {
        "adapter": run.name,
        "sft_adapter": str(run.sft_adapter_dir),
        "base_model": str(run.base_dir),
        "global_step": global_step,
        "train_loss": loss_over_all_steps(log_history, resumed_from or 0, trainer_loss, global_step),
        "final_loss": logger.losses[-1][1] if logger.losses else None,
        "losses": logger.losses,
        "last_log": next((row for row in reversed(logger.history) if "loss" in row), {}),
        "pairs": pair_stats(pairs),
        "seed": run.seed,
        "fingerprint": fingerprint,
        "hyperparameters": hp.model_dump(mode="json"),
        # how this invocation ran: returned, not written into the output (see sft.train_adapter)
        RUN_KEY: {"resumed_from_step": resumed_from, "memory": peak_memory_mb(), "launch": modeling.launch_kind()},
    }
    if modeling.is_main_process():
        # PeftModel.save_pretrained writes every adapter; only the trained one is the result.
        shutil.rmtree(Path(run.adapter_dir, REFERENCE_ADAPTER), ignore_errors=True)
        write_summary(Path(run.adapter_dir, SUMMARY_FILE), summary)
    checkpoints.release_checkpoints(run.checkpoint_dir, keep=hp.keep_checkpoints)
    return summary
