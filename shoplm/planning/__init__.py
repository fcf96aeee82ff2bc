"""The runtime planner: will a profile's final model answer each ShopBench track in time on given GPUs?

``shoplm plan --profile P --hardware 4xT4`` predicts, per track, the runtime and the GPU memory of the
profile's final model (stage quantize's output) and whether it fits the competition's limits.

Modules: ``hardware`` (GPUs as data, ``hardware.yaml``; ``4xT4`` specs), ``architecture`` (a decoder's
parameters and KV bytes from its config.json; ``models.yaml`` for models not on disk), ``weights``
(16-bit or W4A16 bytes), ``workload`` (questions and prompt tokens per track and task type;
``shopbench.yaml``), ``runtime`` (the prefill / decode / all-reduce and memory model),
``reference`` (published runs, ``reference_runs.yaml``: calibration and validation), ``profile_plan``
(a profile as a deployment), ``report`` (table and JSON).
"""

from __future__ import annotations

from pathlib import Path

from shoplm.planning.hardware import parse_cluster
from shoplm.planning.report import Plan

#: Below this, fixed per-step costs dominate and the calibrated efficiency no longer describes the engine.
SMALL_MODEL_PARAMS = 1e9


def plan_profile(profile: str, hardware: str = "4xT4", eval_set: str | None = None, hidden_counts: bool = False,
                 model_dir: Path | None = None) -> Plan:
    """Plan ``profile``'s final model on ``hardware`` for ``eval_set`` (default: the hidden test)."""
    from shoplm.planning.profile_plan import find_model, load_profile, profile_deployment, profile_workload
    from shoplm.planning.runtime import plan_workload

    cluster = parse_cluster(hardware)  # a wrong GPU name fails before the profile is read
    params = load_profile(profile)
    source = find_model(params, model_dir)
    deployment = profile_deployment(params, cluster, source.arch)
    workload = profile_workload(params, source, eval_set, hidden_counts)
    notes = []
    if params.evaluate.dtype == "bfloat16" and not cluster.gpu.has_bf16:
        notes.append(f"evaluate.dtype is bfloat16, which the {cluster.gpu.name} lacks: planned (and served) as float16")
    if params.evaluate.dtype == "float32":
        notes.append("evaluate.dtype is float32 (a CPU setting): a GPU serves the 4-bit model with float16 activations")
    if deployment.replicas * deployment.tensor_parallel < cluster.count:
        notes.append(f"{cluster.count - deployment.replicas * deployment.tensor_parallel} GPU(s) left idle: "
                     f"{cluster.count} is not a multiple of tensor parallel {deployment.tensor_parallel}")
    if deployment.arch.params() < SMALL_MODEL_PARAMS:
        notes.append("a model this small is bound by per-step overheads (kernel launches, scheduling) that the "
                     "model, calibrated on an 8B model, does not scale down: read the runtime as a lower bound")
    if eval_set is not None and not hidden_counts:
        notes.append("limits are the competition's, set for its hidden test counts; --hidden-counts plans "
                     "this set's shape at those counts")
    return Plan(title=f"shoplm plan: profile {profile}, final model on {cluster}", deployment=deployment,
                workload=workload, tracks=plan_workload(deployment, workload), model_source=source.where,
                notes=notes)


__all__ = ["Plan", "plan_profile"]
