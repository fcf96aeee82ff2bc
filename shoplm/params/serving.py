"""Serving settings of ``evaluate``: the vLLM engine, the competition's time budget, and constrained decoding."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import Field, PositiveFloat, PositiveInt

from shoplm.inference.answer_shapes import SHAPES
from shoplm.params.loader import StrictModel
from shoplm.registry import Registry
from shoplm.shopbench.records import TRACKS


class VLLMSettings(StrictModel):
    """Params ``evaluate.vllm``: engine arguments of ``vllm.LLM`` that a profile may need to change.

    These are engine settings, fixed for the engine's life; what varies per request (the token limit, a
    LoRA adapter, constrained decoding) travels with each ``GenerationRequest``. The defaults suit one
    machine and a model that fits it; a real profile sets ``tensor_parallel_size`` (4 for 72B AWQ on
    4×T4) through ``evaluate.tensor_parallel_size``, which the params loader checks against the model.
    """

    gpu_memory_utilization: float = Field(
        0.90, gt=0, le=1, description="Share of each GPU's memory vLLM may take (weights + KV cache).")
    max_model_len: PositiveInt | None = Field(
        None, description="Longest prompt + answer in tokens; null: generation.max_input_tokens plus the "
        "largest max_new_tokens (the winner used 3072). Smaller leaves more room for the KV cache.")
    max_num_seqs: PositiveInt = Field(
        64, description="Sequences decoded together; the engine's own batch (the winner's 16 was per task type).")
    enforce_eager: bool = Field(
        False, description="Skip torch.compile and graph capture: the engine starts about 30 s sooner on CPU "
        "and runs 7-20% slower (tests use it).")
    enable_prefix_caching: bool = Field(
        True, description="Reuse the KV cache of shared prompt prefixes (the system prompt of a task type). "
        "Turn off when timing: repeated prompts then look about 2x faster than they are.")
    enable_lora: bool = Field(
        False, description="Serve LoRA adapters named per request. On by itself when a stage passes an "
        "adapter; costs some throughput, so off otherwise.")
    max_lora_rank: PositiveInt = Field(
        64, description="Largest LoRA rank an adapter named per request may have (with enable_lora). An "
        "engine that serves only the stage's adapter is sized to that adapter's r: vLLM's CPU LoRA ops cost "
        "grows with the engine's rank.")
    max_loras: PositiveInt = Field(2, description="Adapters resident at once when requests name several.")
    cpu_kvcache_space_gib: PositiveInt | None = Field(
        4, description="CPU builds only: KV cache size in GiB (VLLM_CPU_KVCACHE_SPACE). An environment "
        "variable already set wins, so a shared machine can cap it; null: vLLM's default.")
    cpu_threads_bind: str = Field(
        "auto", description="CPU builds only: cores the engine computes on (VLLM_CPU_OMP_THREADS_BIND), e.g. "
        "'0-1'. 'auto' leaves one core free, so on 2 cores it computes on one, at about half the speed. "
        "An environment variable already set wins.")
    seed: int = Field(0, description="Engine seed (greedy decoding does not use it; sampling would).")
    in_process: bool = Field(
        False, description="Run the engine core and its model worker in the calling process (one GPU or "
        "CPU, tensor_parallel_size 1): one vLLM import instead of three and no process spawned, so the "
        "engine starts sooner (SmolLM2 on 2 CPU cores: 30 s against 65-73 s). The scheduler then no "
        "longer overlaps with the model, which costs nothing on CPU, where the model's compute is the "
        "whole time, but some throughput on a GPU.")


TrackKey = Literal["track1", "track2", "track3", "track4", "track5"]
#: Track record value → params key; Track 5 (all-around) is every track answered in one run.
TRACK_KEYS: dict[str, str] = {track: f"track{number}" for number, track in enumerate(TRACKS, start=1)}
ALL_AROUND = "track5"
#: Phase-2 limits in seconds (4×T4, the hidden test set of about 11.7k questions for Track 5).
COMPETITION_LIMITS_S: dict[str, float] = {
    "track1": 70 * 60, "track2": 20 * 60, "track3": 30 * 60, "track4": 20 * 60, "track5": 140 * 60}


class BudgetSettings(StrictModel):
    """Params ``evaluate.budget``: the per-track time limits (``shoplm.inference.budget`` enforces them)."""

    enabled: bool = Field(True, description="Enforce the limits (off: one generate call, no cut).")
    seconds_per_track: dict[TrackKey, PositiveFloat] = Field(  # type: ignore[valid-type]
        default_factory=lambda: dict(COMPETITION_LIMITS_S),
        description="Wall-clock limit per track; a set of one track gets its limit, a mixed set track5's. "
        "Tracks left out keep the competition's limits.")
    questions_per_track: dict[TrackKey, PositiveInt] = Field(  # type: ignore[valid-type]
        default_factory=dict,
        description="Questions each limit was set for; a track named here has its limit scaled to the "
        "set's size (limit x n / questions). Empty: the limits hold as they are.")
    per_question_s: PositiveFloat = Field(
        10.0, description="Per-sample cap: the run's limit is at most this x the number of questions, and a "
        "chunk slower than this per question is counted as over the cap.")
    chunk_size: PositiveInt = Field(
        64, description="Questions per generate call under a budget: smaller checks the clock more often, "
        "larger lets an engine batch more.")

    def limit_s(self, tracks: Sequence[str | None]) -> float:
        """Seconds allowed for a set whose questions belong to ``tracks`` (one entry per question)."""
        keys = Counter(TRACK_KEYS.get(track or "", ALL_AROUND) for track in tracks)
        key = next(iter(keys)) if len(keys) == 1 else ALL_AROUND
        limit = {**COMPETITION_LIMITS_S, **self.seconds_per_track}[key]
        if key in self.questions_per_track:
            limit *= len(tracks) / self.questions_per_track[key]
        return min(limit, self.per_question_s * len(tracks))


#: Answer kind → the task type it belongs to.
ANSWER_KINDS: Registry[str] = Registry("answer kind")
ANSWER_KINDS.add("multiple-choice", "multiple-choice", doc="one option index")
ANSWER_KINDS.add("ranking", "ranking", doc="a permutation of the candidate numbers")
ANSWER_KINDS.add("retrieval", "retrieval", doc="three distinct candidate numbers")
ANSWER_KINDS.add("named_entity_recognition", "named_entity_recognition", doc="spans of the query")
ANSWER_KINDS.add("keyphrase", "generation", doc="a generation question that extracts a keyphrase from a review")
ANSWER_KINDS.add("generation", "generation", doc="other free text: explanations, titles, translations")


class ConstraintSettings(StrictModel):
    """Params ``evaluate.constraints``: which constraints apply to which answer kinds
    (``shoplm.inference.constraints`` says what each one does)."""

    structured: list[SHAPES.validated()] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["multiple-choice", "ranking", "retrieval"],
        description="Task types whose answer is forced into the shape the official parser accepts: an "
        "option index, a permutation of the candidates, three distinct candidates; [] turns it off.")
    suppress_none: list[ANSWER_KINDS.validated()] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["named_entity_recognition", "keyphrase", "generation"],
        description="Answer kinds in which the words of constraints.yaml (None, none) are banned.")
    prompt_boost: dict[ANSWER_KINDS.validated(), Annotated[float, Field(ge=0, le=100)]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: {"named_entity_recognition": 2.0, "keyphrase": 2.0},
        description="Answer kind → logit bias added to the tokens of the question's text (0-100; vLLM "
        "clips logit biases at 100); kinds left out get none.")
    ablation: bool = Field(
        True, description="Evaluate the final model (stage evaluate_final) a second time with every "
        "constraint off and log the two side by side (score and parse failures per task type); doubles "
        "that evaluation's time.")

    @classmethod
    def off(cls) -> ConstraintSettings:
        """Every constraint off: the other half of the ablation."""
        return cls(structured=[], suppress_none=[], prompt_boost={}, ablation=False)

    @property
    def is_off(self) -> bool:
        return not (self.structured or self.suppress_none or any(self.prompt_boost.values()))
