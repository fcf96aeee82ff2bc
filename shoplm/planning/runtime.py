"""The runtime and memory model: how long a deployment takes to answer a workload, and what it holds.

Batched generation as vLLM runs it, one batch of ``batch_size`` questions of one task type at a time
(the competition's evaluator hands over batches of up to 16; the project's backends and the winners
group them by task type), each batch generating until every answer reaches its task type's cap. The
planner plans for that worst case: a time limit is hard, and a batch lasts as long as its longest answer.

Per batch of n prompts of p tokens, cap c, on each of the tp GPUs of one model replica:

- prefill, one forward pass over n·p tokens: the larger of compute, 2 · params · n·p (+ attention,
  2 · layers · heads · head_dim · p² per prompt; the output head only at each prompt's last token)
  over tp · FLOPS, and reading the weights once;
- decode, c − 1 more steps (prefill yields the first token), each reading every weight once for the
  whole batch (memory-bound at small batches) plus the KV cache of the batch's context, over bandwidth;
- tensor-parallel communication: two all-reduces per layer (after attention and after the MLP) of
  tokens × hidden × 2 bytes, ring all-reduce over the interconnect: 2(tp−1)/tp · bytes / link bandwidth
  + 2(tp−1) hops × latency.

Compute and memory times are roofline times divided by one ``efficiency`` factor: the fraction of the
datasheet peak a real engine reaches (kernel efficiency, eager-mode launch overhead, scheduling, the
evaluator between batches). It is calibrated once on a published run (``reference_runs.yaml``) and
validated on the others; communication uses the interconnect's figures as they are. Several replicas
(``GPUs // tp``) split the questions evenly.

Memory per GPU: the weights' shard, the KV cache of a full batch at the track's longest prompt plus its
cap (layers × kv heads × head dim × 2 × 2 bytes × tokens; KV heads are replicated when tp exceeds
them), and prefill activations (the MLP's gate and up outputs and a few hidden-size buffers per token).
It must fit under ``memory_utilization`` of the GPU (vLLM's ``gpu_memory_utilization``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from shoplm.errors import UserError
from shoplm.modeling.fit import ModelShape, tensor_parallel_problems
from shoplm.planning.architecture import Architecture
from shoplm.planning.hardware import GB, Cluster
from shoplm.planning.weights import WeightFormat
from shoplm.planning.workload import TrackLoad, Workload

ACTIVATION_BYTES = 2  # fp16 / bf16 activations and KV cache (vLLM's default cache dtype follows the model)


@dataclass(frozen=True)
class Deployment:
    arch: Architecture
    weights: WeightFormat
    cluster: Cluster
    tensor_parallel: int
    batch_size: int
    caps: dict[str, int]
    efficiency: float
    activation_dtype: str = "float16"
    memory_utilization: float = 0.92

    def __post_init__(self) -> None:
        if self.tensor_parallel > self.cluster.count:
            raise UserError(f"tensor parallel size {self.tensor_parallel} needs {self.tensor_parallel} GPUs; "
                            f"the hardware {self.cluster} has {self.cluster.count}")
        shape = ModelShape(self.arch.hidden_size, self.arch.intermediate_size, self.arch.num_heads,
                           self.arch.num_kv_heads, self.arch.head_dim)
        problems = tensor_parallel_problems(shape, self.tensor_parallel, self.arch.name)
        if problems:
            raise UserError(f"tensor parallel size {self.tensor_parallel}: {problems[0]}")
        if not 0 < self.efficiency <= 1:
            raise ValueError(f"efficiency must be in (0, 1], got {self.efficiency}")

    @property
    def replicas(self) -> int:
        return self.cluster.count // self.tensor_parallel

    @property
    def weight_bytes_per_gpu(self) -> float:
        return self.weights.weight_bytes(self.arch) / self.tensor_parallel

    @property
    def kv_bytes_per_token_per_gpu(self) -> float:
        kv_heads_per_gpu = max(1, self.arch.num_kv_heads // self.tensor_parallel)  # replicated beyond
        return self.arch.kv_bytes_per_token(ACTIVATION_BYTES) * kv_heads_per_gpu / self.arch.num_kv_heads

    @property
    def compute_params(self) -> float:
        """Weights every token multiplies through: the Linear layers and the output head."""
        return self.arch.linear_params(self.weights.pad_intermediate_to) + self.arch.vocab_size * self.arch.hidden_size


@dataclass
class Seconds:
    """Time split by phase; ``raw`` parts are at the datasheet peak (before the efficiency factor)."""

    prefill_raw: float = 0.0
    decode_raw: float = 0.0
    comm: float = 0.0

    def __iadd__(self, other: Seconds) -> Seconds:
        self.prefill_raw += other.prefill_raw
        self.decode_raw += other.decode_raw
        self.comm += other.comm
        return self

    def scaled(self, factor: float) -> Seconds:
        return Seconds(self.prefill_raw * factor, self.decode_raw * factor, self.comm * factor)

    def total(self, efficiency: float) -> float:
        return (self.prefill_raw + self.decode_raw) / efficiency + self.comm


@dataclass
class TrackPlan:
    track: str
    questions: int
    limit_s: float
    seconds: Seconds
    efficiency: float
    memory: dict[str, float] = field(default_factory=dict)  # bytes per GPU by part
    memory_limit: float = 0.0

    @property
    def runtime_s(self) -> float:
        return self.seconds.total(self.efficiency)

    @property
    def prefill_s(self) -> float:
        return self.seconds.prefill_raw / self.efficiency

    @property
    def decode_s(self) -> float:
        return self.seconds.decode_raw / self.efficiency

    @property
    def margin_s(self) -> float:
        return self.limit_s - self.runtime_s

    @property
    def memory_bytes(self) -> float:
        return sum(self.memory.values())

    @property
    def fits_time(self) -> bool:
        return self.runtime_s <= self.limit_s

    @property
    def fits_memory(self) -> bool:
        return self.memory_bytes <= self.memory_limit

    def to_dict(self) -> dict:
        return {
            "track": self.track, "questions": self.questions, "runtime_s": round(self.runtime_s, 1),
            "prefill_s": round(self.prefill_s, 1), "decode_s": round(self.decode_s, 1),
            "communication_s": round(self.seconds.comm, 1), "limit_s": self.limit_s,
            "margin_s": round(self.margin_s, 1), "fits_time": self.fits_time,
            "memory_gb_per_gpu": {part: round(value / GB, 3) for part, value in self.memory.items()},
            "memory_total_gb_per_gpu": round(self.memory_bytes / GB, 3),
            "memory_limit_gb_per_gpu": round(self.memory_limit / GB, 3), "fits_memory": self.fits_memory,
        }


# ---------------------------------------------------------------------------------------------- the model


def batch_seconds(d: Deployment, n: int, prompt_tokens: float, cap: int) -> Seconds:
    """One batch of ``n`` prompts of ``prompt_tokens`` each, generating ``cap`` tokens (raw roofline)."""
    if n == 0:
        return Seconds()
    gpu, tp, arch = d.cluster.gpu, d.tensor_parallel, d.arch
    flops_per_s = gpu.tflops(d.activation_dtype) * 1e12
    bytes_per_s = gpu.bandwidth_gbs * GB
    weights = d.weight_bytes_per_gpu
    attention_per_token_ctx = 2 * arch.num_layers * arch.attention_width / tp  # FLOPs per token per context token

    prefill_tokens = n * prompt_tokens
    head = arch.vocab_size * arch.hidden_size  # logits only for each prompt's last position (vLLM)
    prefill_flops = (2 * (d.compute_params - head) / tp * prefill_tokens + 2 * head / tp * n
                     + attention_per_token_ctx * n * prompt_tokens**2)
    prefill_bytes = weights + prefill_tokens * d.kv_bytes_per_token_per_gpu  # read weights, write the KV cache
    prefill = max(prefill_flops / flops_per_s, prefill_bytes / bytes_per_s)

    steps = max(cap - 1, 0)
    context = prompt_tokens + cap / 2  # mean context over the decode steps
    step_flops = 2 * d.compute_params / tp * n + 2 * attention_per_token_ctx * n * context
    step_bytes = weights + n * context * d.kv_bytes_per_token_per_gpu
    decode = steps * max(step_flops / flops_per_s, step_bytes / bytes_per_s)

    comm = allreduce_seconds(d, prefill_tokens) + steps * allreduce_seconds(d, n)
    return Seconds(prefill, decode, comm)


def allreduce_seconds(d: Deployment, tokens: float) -> float:
    """The two all-reduces per layer of one forward pass over ``tokens`` tokens (ring all-reduce)."""
    tp = d.tensor_parallel
    if tp == 1:
        return 0.0
    link = d.cluster.gpu.interconnect
    message = tokens * d.arch.hidden_size * ACTIVATION_BYTES
    one = 2 * (tp - 1) / tp * message / (link.gbs * GB) + 2 * (tp - 1) * link.latency_us * 1e-6
    return 2 * d.arch.num_layers * one


def track_seconds(d: Deployment, track: TrackLoad) -> Seconds:
    """Every batch of a track, split over the replicas (raw roofline)."""
    total = Seconds()
    for load in track.loads:
        cap = d.caps[load.task_type]
        full, rest = divmod(load.questions, d.batch_size)
        one = batch_seconds(d, d.batch_size, load.mean_prompt_tokens, cap)
        total += one.scaled(full)
        total += batch_seconds(d, rest, load.mean_prompt_tokens, cap)
    return total.scaled(1 / d.replicas)


def track_memory(d: Deployment, track: TrackLoad) -> dict[str, float]:
    """Bytes per GPU at the track's peak: weights, a full batch's KV cache, prefill activations."""
    longest = max(load.max_prompt_tokens + d.caps[load.task_type] for load in track.loads)
    longest_prompt = max(load.max_prompt_tokens for load in track.loads)
    prefill_tokens = d.batch_size * longest_prompt
    inter = (d.weights.pad_intermediate_to or d.arch.intermediate_size) / d.tensor_parallel
    return {
        "weights": d.weight_bytes_per_gpu,
        "kv_cache": d.batch_size * math.ceil(longest) * d.kv_bytes_per_token_per_gpu,
        "activations": prefill_tokens * (2 * inter + 4 * d.arch.hidden_size) * ACTIVATION_BYTES,
    }


def plan_track(d: Deployment, track: TrackLoad) -> TrackPlan:
    return TrackPlan(track=track.name, questions=track.questions, limit_s=track.limit_s,
                     seconds=track_seconds(d, track), efficiency=d.efficiency, memory=track_memory(d, track),
                     memory_limit=d.cluster.gpu.memory_bytes * d.memory_utilization)


def plan_workload(d: Deployment, workload: Workload, all_around: bool = True) -> list[TrackPlan]:
    """One plan per track, then Track 5 (every question with one model, its own limit) when asked."""
    plans = [plan_track(d, track) for track in workload.tracks]
    if all_around and len(plans) > 1:
        seconds = Seconds()
        for plan in plans:
            seconds += plan.seconds
        memory = {part: max(plan.memory[part] for plan in plans) for part in plans[0].memory}
        plans.append(TrackPlan(track="track5-all-around", questions=sum(p.questions for p in plans),
                               limit_s=workload.all_around_limit_s, seconds=seconds, efficiency=d.efficiency,
                               memory=memory, memory_limit=plans[0].memory_limit))
    return plans
