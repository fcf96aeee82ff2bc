"""What a training run reports: the loss curve, token throughput, answer/padding shares, peak memory.

* :class:`TokenMeter` counts the tokens of the batches actually trained (not those skipped when
  resuming): real tokens, answer tokens (the loss positions) and computed positions (real + padding).
* :class:`MeteredTrainer` is ``transformers.Trainer`` feeding every micro-batch to the meter.
* :class:`LogCallback` keeps each logging step's numbers (loss, learning rate, grad norm) plus the
  running tokens/s, and hands them to a ``log_fn(metrics, step)`` (``mlflow.log_metrics``) on the
  main process only.
* :func:`peak_memory_mb`: peak RSS of the process (CPU) and peak allocated CUDA memory (GPU).
"""

from __future__ import annotations

import math
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from transformers import Trainer, TrainerCallback

from shoplm.training.packing import batch_counts

LogFn = Callable[[dict[str, float], int], None]


@dataclass
class TokenMeter:
    tokens: int = 0
    answer_tokens: int = 0
    positions: int = 0
    micro_batches: int = 0
    started: float | None = None
    stopped: float | None = None

    def add(self, batch: dict[str, Any]) -> None:
        if self.started is None:
            self.started = time.perf_counter()
        real, answer, positions = batch_counts(batch)
        self.tokens += real
        self.answer_tokens += answer
        self.positions += positions
        self.micro_batches += 1

    def stop(self) -> None:
        self.stopped = time.perf_counter()

    @property
    def seconds(self) -> float:
        if self.started is None:
            return 0.0
        return (self.stopped or time.perf_counter()) - self.started

    def summary(self, world_size: int = 1) -> dict[str, float]:
        """Figures of this process; ``tokens_per_s`` is scaled by ``world_size`` (all processes)."""
        seconds = self.seconds
        return {
            "micro_batches": self.micro_batches,
            "tokens": self.tokens,
            "answer_tokens": self.answer_tokens,
            "tokens_per_s": world_size * self.tokens / seconds if seconds else 0.0,
            "answer_token_fraction": self.answer_tokens / self.tokens if self.tokens else 0.0,
            "padding_share": 1 - self.tokens / self.positions if self.positions else 0.0,
            "train_seconds": seconds,
        }


class MeteredTrainer(Trainer):
    """``Trainer`` that counts the tokens of every micro-batch it trains on."""

    def __init__(self, *args: Any, meter: TokenMeter, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.meter = meter

    def training_step(self, model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> Any:
        self.meter.add(inputs)
        return super().training_step(model, inputs, num_items_in_batch)


@dataclass
class LogCallback(TrainerCallback):
    """Collects the logged numbers per step and forwards them to ``log_fn`` on the main process."""

    log_fn: LogFn | None = None
    meter: TokenMeter | None = None
    world_size: int = 1
    history: list[dict[str, float]] = field(default_factory=list)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any):
        numbers = {k: float(v) for k, v in (logs or {}).items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
        if self.meter is not None and self.meter.seconds and "loss" in numbers:
            numbers["tokens_per_s"] = self.world_size * self.meter.tokens / self.meter.seconds
        if not numbers:
            return
        self.history.append({"step": state.global_step, **numbers})
        if self.log_fn is not None and state.is_world_process_zero:
            self.log_fn(numbers, state.global_step)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any):
        if self.meter is not None:
            self.meter.stop()

    @property
    def losses(self) -> list[tuple[int, float]]:
        return [(int(row["step"]), row["loss"]) for row in self.history if "loss" in row]


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory of this process and, with CUDA, the peak memory torch allocated."""
    import torch

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    peak = {"peak_rss_mb": rss / (1 << 20) if sys.platform == "darwin" else rss / 1024}
    if torch.cuda.is_available():
        peak["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / (1 << 20)
    return peak


def loss_over_all_steps(log_history: list[dict[str, Any]], resumed_from: int, trainer_loss: float,
                        global_step: int) -> float | None:
    """The mean loss per optimizer step over the whole run, the steps before a resumption included.

    ``Trainer.train`` returns the sum of the losses of the steps *this invocation* trained divided by
    ``global_step`` (all steps), so after a resumption at step k of n it understates the mean by about
    k/n. Its sum is recovered (``trainer_loss * global_step``); the earlier steps' sum comes from the
    logged losses up to the checkpoint (``trainer.state.log_history``, restored from it), each the mean
    over the steps since the previous log. Steps trained after the last log before the checkpoint and
    never logged cannot be recovered, so the mean is over the steps whose loss is known (None: none).
    """
    earlier_sum, earlier_steps = 0.0, 0
    for row in log_history:
        if "loss" in row and int(row["step"]) <= resumed_from:
            earlier_sum += float(row["loss"]) * (int(row["step"]) - earlier_steps)
            earlier_steps = int(row["step"])
    steps = earlier_steps + (global_step - resumed_from)
    return (earlier_sum + trainer_loss * global_step) / steps if steps else None
