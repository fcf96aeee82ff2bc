"""Published runs as test cases: calibrate the efficiency factor on one, validate the model on the rest.

``reference_runs.yaml`` holds each run's model, weights, hardware, serving settings and published
runtimes. ``calibrate()`` solves the calibration case for the efficiency factor; ``validate()`` predicts
every published figure with it and states the error (``measured`` runs) or whether the prediction stays
under the limit the run is known to have met (``within`` runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from shoplm.planning.architecture import KNOWN_MODELS
from shoplm.planning.hardware import parse_cluster
from shoplm.planning.runtime import Deployment, TrackPlan, plan_workload
from shoplm.planning.weights import WeightFormat
from shoplm.planning.workload import CHATML_TOKENS, PromptTokens, Workload, hidden_test_workload

REFERENCE_FILE = Path(__file__).with_name("reference_runs.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PromptSpec(_Strict):
    system: str = Field(description="text before each question; {task_type} is filled in")
    template_tokens: int = CHATML_TOKENS


class WeightSpec(_Strict):
    bits: int = 16
    group_size: int | None = None
    zero_point: bool = True
    pad_intermediate_to: int | None = None


class Published(_Strict):
    kind: Literal["measured", "within"]
    seconds: dict[str, float]


class ReferenceRun(_Strict):
    description: str
    model: str
    weights: WeightSpec
    hardware: str
    tensor_parallel: int
    batch_size: int
    memory_utilization: float
    prompt: PromptSpec
    max_new_tokens: dict[str, int]
    published: Published

    def deployment(self, efficiency: float) -> Deployment:
        return Deployment(arch=KNOWN_MODELS.get(self.model), weights=WeightFormat(**self.weights.model_dump()),
                          cluster=parse_cluster(self.hardware), tensor_parallel=self.tensor_parallel,
                          batch_size=self.batch_size, caps=self.max_new_tokens, efficiency=efficiency,
                          memory_utilization=self.memory_utilization)

    def workload(self) -> Workload:
        system = self.prompt.system
        return hidden_test_workload(PromptTokens(system=lambda task: system.format(task_type=task),
                                                 template_tokens=self.prompt.template_tokens))

    def plans(self, efficiency: float) -> list[TrackPlan]:
        return plan_workload(self.deployment(efficiency), self.workload())


class Calibration(_Strict):
    run: str
    track: str
    efficiency: float


class ReferenceFile(_Strict):
    calibration: Calibration
    runs: dict[str, ReferenceRun]


def load_references(path: Path = REFERENCE_FILE) -> ReferenceFile:
    return ReferenceFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def calibrated_efficiency(path: Path = REFERENCE_FILE) -> float:
    """The efficiency factor stored with the reference runs (what every plan uses)."""
    return load_references(path).calibration.efficiency


def calibrate(references: ReferenceFile | None = None) -> float:
    """Solve the calibration case: published = (prefill + decode at peak) / efficiency + communication."""
    references = references or load_references()
    case = references.calibration
    run = references.runs[case.run]
    plan = next(p for p in run.plans(efficiency=1.0) if p.track == case.track)
    published = run.published.seconds[case.track]
    return (plan.seconds.prefill_raw + plan.seconds.decode_raw) / (published - plan.seconds.comm)


@dataclass(frozen=True)
class Check:
    """One published figure next to its prediction."""

    run: str
    track: str
    questions: int
    kind: str
    published_s: float
    predicted_s: float
    calibration: bool

    @property
    def error(self) -> float:
        """Relative error of the prediction (measured runs), or its fraction of the limit minus 1 (within)."""
        return self.predicted_s / self.published_s - 1

    @property
    def passed(self) -> bool:
        return abs(self.error) <= 0.25 if self.kind == "measured" else self.predicted_s <= self.published_s

    def to_dict(self) -> dict:
        return {"run": self.run, "track": self.track, "questions": self.questions, "kind": self.kind,
                "published_s": self.published_s, "predicted_s": round(self.predicted_s, 1),
                "error": round(self.error, 4), "calibration_case": self.calibration, "passed": self.passed}


def validate(efficiency: float | None = None, references: ReferenceFile | None = None) -> list[Check]:
    references = references or load_references()
    efficiency = references.calibration.efficiency if efficiency is None else efficiency
    checks = []
    for name, run in references.runs.items():
        for plan in run.plans(efficiency):
            if plan.track in run.published.seconds:
                checks.append(Check(name, plan.track, plan.questions, run.published.kind,
                                    run.published.seconds[plan.track], plan.runtime_s,
                                    calibration=(name, plan.track) == (references.calibration.run,
                                                                       references.calibration.track)))
    return checks
