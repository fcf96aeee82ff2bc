"""QLoRA supervised fine-tuning of one adapter (seed 003 §4.2), resumable, on any number of devices.

``train_adapter(AdapterRun(...))`` tokenizes the questions (answer-only labels, :mod:`.examples`),
packs them (:mod:`.packing`), loads the base in 4-bit with a fresh LoRA (:mod:`.model`), trains with
``transformers.Trainer`` and writes the adapter, the tokenizer and ``train_summary.json``.

Why the plain ``Trainer`` and not trl's ``SFTTrainer``: the data path is ours end to end. Prompts
must be rendered by ``prompts.build_messages`` exactly as evaluation renders them (and tokenized as
the inference backend tokenizes them), and labels must cover the answer and its end-of-turn token
only. SFTTrainer would render and tokenize the data itself, and its ``assistant_only_loss`` needs
``{% generation %}`` markers that real Qwen2 chat templates lack. Packing here is best-fit bins of
``max_seq_len`` tokens (axolotl's multipack, which seed 003 used), checked by the tests on its own.
Trainer supplies the rest: optimizer, schedule, gradient accumulation with token-weighted loss,
checkpoints, resuming, and DDP/FSDP/DeepSpeed through accelerate.
"""

from __future__ import annotations

import hashlib
import json
import logging
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shoplm.params.training import OptimizationSettings, TrainHyperparameters
from shoplm.shopbench.records import Question
from shoplm.training import checkpoints, provenance
from shoplm.training import model as modeling
from shoplm.training.examples import TokenizedData, tokenize_questions
from shoplm.training.monitoring import (
    LogCallback,
    LogFn,
    MeteredTrainer,
    TokenMeter,
    loss_over_all_steps,
    peak_memory_mb,
)
from shoplm.training.packing import RowDataset, make_collator

log = logging.getLogger(__name__)
SUMMARY_FILE = "train_summary.json"
RUN_KEY = "run"  # the summary's per-invocation section, never written into the output folder


@dataclass
class AdapterRun:
    """Everything one adapter's training needs; paths are created as needed."""

    name: str
    questions: Sequence[Question]
    base_dir: Path
    adapter_dir: Path
    checkpoint_dir: Path
    hyperparameters: TrainHyperparameters
    seed: int = 0


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    """The summary without its per-invocation section: same inputs, same bytes."""
    result = {key: value for key, value in summary.items() if key != RUN_KEY}
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def data_digest(data: TokenizedData) -> str:
    """Hash of the token ids and labels: same data, tokenizer and template ⇔ same digest."""
    digest = hashlib.sha256()
    for example in data.examples:
        digest.update(array("i", example.input_ids).tobytes())
        digest.update(array("i", example.labels).tobytes())
    return digest.hexdigest()[:16]


def run_fingerprint(run: AdapterRun, data: TokenizedData) -> str:
    """What decides the trajectory: every hyperparameter but the logging ones, the seed, the token ids
    and labels (so the questions, tokenizer and chat template), and the base folder's content (weights,
    tokenizer, config; cheap: see :mod:`.provenance`)."""
    hp = run.hyperparameters.model_dump(mode="json", exclude=set(checkpoints.NEUTRAL_KEYS))
    return checkpoints.fingerprint({"hyperparameters": hp, "seed": run.seed, "data": data_digest(data),
                                    "base": provenance.folder_digest(run.base_dir)})


def trainer_arguments(hp: OptimizationSettings, output_dir: Path, seed: int, progress: bool) -> dict[str, Any]:
    """Keyword arguments shared by transformers' TrainingArguments and trl's DPOConfig."""
    import torch

    return dict(
        output_dir=str(output_dir),
        per_device_train_batch_size=hp.micro_batch_size,
        gradient_accumulation_steps=hp.gradient_accumulation_steps,
        num_train_epochs=hp.epochs,
        max_steps=hp.max_steps,
        learning_rate=hp.learning_rate,
        lr_scheduler_type=hp.lr_scheduler,
        warmup_steps=hp.warmup_steps,
        optim=hp.optimizer,
        weight_decay=hp.weight_decay,
        max_grad_norm=hp.max_grad_norm,
        bf16=hp.bf16,
        logging_steps=hp.logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=hp.save_steps,
        save_total_limit=hp.save_total_limit,
        seed=seed,
        data_seed=seed,
        report_to="none",  # MLflow is logged by LogCallback into the stage's own run
        gradient_checkpointing=False,  # already set on the model by load_base_model
        ddp_find_unused_parameters=False,  # LoRA: every trainable weight gets a gradient
        disable_tqdm=not progress,
        dataloader_pin_memory=torch.cuda.is_available(),  # pinning is for copies to a GPU
        use_cpu=not torch.accelerator.is_available(),  # also makes CPU-only DDP (gloo) distributed
    )


def training_arguments(run: AdapterRun, progress: bool) -> Any:
    from transformers import TrainingArguments

    return TrainingArguments(
        **trainer_arguments(run.hyperparameters, run.checkpoint_dir, run.seed, progress),
        remove_unused_columns=False,  # items are lists of examples, not dataset columns
        label_names=["labels"],
    )


def _train(run: AdapterRun, tokenizer: Any, dataset: RowDataset, resume: Path | None, log_fn: LogFn | None,
           callbacks: Sequence[Any], progress: bool) -> dict[str, Any]:
    """Train from scratch or from ``resume``; save the adapter; return what the summary needs."""
    from transformers import set_seed

    hp = run.hyperparameters
    set_seed(run.seed)  # the LoRA init is random: seed it before creating the adapter
    model = modeling.add_lora(modeling.load_base_model(run.base_dir, hp), hp.lora)
    args = training_arguments(run, progress)
    meter = TokenMeter()
    logger = LogCallback(log_fn=log_fn, meter=meter, world_size=args.world_size)
    trainer = MeteredTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                             data_collator=make_collator(hp.packing, tokenizer.pad_token_id),
                             callbacks=[logger, *callbacks], meter=meter)
    # read before training: checkpoint rotation (save_total_limit) may delete the folder resumed from
    resumed_from = checkpoints.checkpoint_step(resume) if resume else 0
    output = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    trainer.save_model(str(run.adapter_dir))  # adapter + tokenizer, from the main process only
    state = trainer.state
    return {"global_step": state.global_step, "epoch": state.epoch,
            "train_loss": loss_over_all_steps(state.log_history, resumed_from, output.training_loss,
                                              state.global_step),
            "losses": logger.losses,
            RUN_KEY: {"throughput": meter.summary(args.world_size), "world_size": args.world_size,
                    "device": str(args.device)}}


def _restore(run: AdapterRun, checkpoint: Path) -> dict[str, Any]:
    """A killed-after-the-last-step run: its final checkpoint already is the result."""
    if modeling.is_main_process():
        checkpoints.restore_finished(checkpoint, run.adapter_dir)
    state = checkpoints.trainer_state(checkpoint)
    step = int(state["global_step"])
    return {"global_step": step, "epoch": state.get("epoch"),
            "train_loss": loss_over_all_steps(state.get("log_history", []), step, 0.0, step),
            "losses": [], RUN_KEY: {"throughput": TokenMeter().summary(), "world_size": None, "device": None}}


def train_adapter(run: AdapterRun, *, log_fn: LogFn | None = None, callbacks: Sequence[Any] = (),
                  progress: bool = True) -> dict[str, Any]:
    """Train (or resume) one adapter; returns the summary also written to ``adapter_dir``.

    ``losses`` in the summary is the whole curve, the part before a resumption included (read from
    the checkpoint's trainer state and also handed to ``log_fn``), and ``train_loss`` its mean over
    every step. ``summary["run"]`` says how this invocation ran (resumed from which step, tokens/s
    over the steps it trained, peak memory, devices); it is returned for MLflow and metrics files
    but not written into the adapter folder: wall-clock figures there would change the DVC output's
    hash on every rebuild and make every downstream stage stale although the adapter is the same.
    """
    hp = run.hyperparameters
    main = modeling.is_main_process()
    tokenizer = modeling.load_tokenizer(run.base_dir)
    data = tokenize_questions(tokenizer, run.questions, hp.max_seq_len, progress=progress and main)
    dataset = RowDataset(data.examples, hp.packing, hp.max_seq_len, seed=run.seed)
    fingerprint = run_fingerprint(run, data)
    resume = checkpoints.claim_checkpoint(run.checkpoint_dir, fingerprint)
    resumed_from, earlier = None, []
    if resume is not None:
        resumed_from, earlier = checkpoints.checkpoint_step(resume), checkpoints.logged_losses(resume)
        log.warning("train %s: resuming from %s (step %d)", run.name, resume, resumed_from)
        if log_fn is not None and main:
            for step, loss in earlier:  # the resumed run's curve starts where the killed one did
                log_fn({"loss": loss}, step)

    if resume is not None and checkpoints.is_finished(resume):
        result = _restore(run, resume)
    else:
        result = _train(run, tokenizer, dataset, resume, log_fn, callbacks, progress)
    losses = [row for row in earlier if resumed_from is None or row[0] <= resumed_from] + result.pop("losses")
    run_facts = result.pop(RUN_KEY)
    summary = {
        "adapter": run.name,
        "base_model": str(run.base_dir),
        **result,
        "final_loss": losses[-1][1] if losses else None,
        "losses": losses,
        "data": {**data.stats(), "rows": len(dataset), "packing": hp.packing,
                 "row_fill": dataset.fill(hp.max_seq_len), "digest": data_digest(data)},
        "seed": run.seed,
        "fingerprint": fingerprint,
        "hyperparameters": hp.model_dump(mode="json"),
        # how this invocation ran, not what it produced: kept out of train_summary.json (see above)
        RUN_KEY: {**run_facts, "resumed_from_step": resumed_from, "memory": peak_memory_mb(),
                  "launch": modeling.launch_kind()},
    }
    if main:
        write_summary(Path(run.adapter_dir, SUMMARY_FILE), summary)
    checkpoints.release_checkpoints(run.checkpoint_dir, keep=hp.keep_checkpoints)
    return summary
