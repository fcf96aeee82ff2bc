"""GPUs as data: ``hardware.yaml`` read into the ``HARDWARE`` registry, and ``4xT4``-style cluster specs.

The planner needs four figures per GPU (memory, tensor-core FLOPS, memory bandwidth, the interconnect
tensor parallelism all-reduces over); they are vendor datasheet numbers, so they live in the YAML file
next to this module with their sources, and a new GPU is a new entry there.

    cluster = parse_cluster("4xT4")      # Cluster(gpu=GPU(name='T4', ...), count=4)
    parse_cluster("4xT5")                # UnknownNameError: unknown GPU 'T5'. Did you mean 'T4'? ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shoplm.errors import UserError
from shoplm.registry import Registry

HARDWARE_FILE = Path(__file__).with_name("hardware.yaml")
GB = 1e9  # datasheets count memory and bandwidth in powers of ten


class Interconnect(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    gbs: float = Field(gt=0, description="GPU-to-GPU bandwidth per direction, GB/s")
    latency_us: float = Field(ge=0, description="per-hop latency of a small all-reduce message, µs")


class GPU(BaseModel):
    """One GPU model's datasheet figures (see hardware.yaml for the units and sources)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    source: str
    memory_gb: float = Field(gt=0)
    fp16_tflops: float = Field(gt=0)
    bf16_tflops: float | None = Field(None, gt=0)
    int8_tops: float | None = Field(None, gt=0)
    bandwidth_gbs: float = Field(gt=0)
    interconnect: Interconnect

    @property
    def has_bf16(self) -> bool:
        return self.bf16_tflops is not None

    @property
    def memory_bytes(self) -> float:
        return self.memory_gb * GB

    def tflops(self, dtype: str) -> float:
        """Tensor-core peak for the activation dtype (bf16 on a GPU without it runs as fp16)."""
        if dtype == "bfloat16" and self.bf16_tflops is not None:
            return self.bf16_tflops
        return self.fp16_tflops


def load_hardware(path: Path = HARDWARE_FILE) -> dict[str, GPU]:
    """Every GPU of a hardware file; a malformed entry fails naming the file and the entry."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    gpus = {}
    for name, figures in data.items():
        try:
            gpus[name] = GPU(name=name, **figures)
        except (TypeError, ValidationError) as exc:
            raise UserError(f"{path}: GPU {name!r}: {' '.join(str(exc).split())}") from None
    return gpus


def _load_into_registry() -> None:
    for name, gpu in load_hardware().items():
        HARDWARE.add(name, gpu, doc=gpu.description)


HARDWARE: Registry[GPU] = Registry("GPU", loader=_load_into_registry)


@dataclass(frozen=True)
class Cluster:
    """``count`` GPUs of one model in one machine (what a vLLM engine shards over)."""

    gpu: GPU
    count: int

    def __str__(self) -> str:
        return f"{self.count}x{self.gpu.name}"


_CLUSTER = re.compile(r"^\s*(?:(\d+)\s*[x×*]\s*)?(\S+?)\s*$", re.IGNORECASE)


def parse_cluster(spec: str) -> Cluster:
    """``"4xT4"``, ``"T4"`` (one GPU) or ``"8xA100-80GB"``; GPU names as in hardware.yaml."""
    match = _CLUSTER.match(spec or "")
    if not match:
        raise UserError(f"hardware {spec!r}: write COUNTxGPU, e.g. 4xT4 (GPUs: {', '.join(HARDWARE.names())})")
    count = int(match.group(1) or 1)
    if count < 1:
        raise UserError(f"hardware {spec!r}: the GPU count must be at least 1")
    name = match.group(2)
    by_lower = {known.lower(): known for known in HARDWARE.names()}
    return Cluster(gpu=HARDWARE.get(by_lower.get(name.lower(), name)), count=count)
