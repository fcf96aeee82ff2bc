"""A profile's final model as a deployment: the shape of its base model, its 4-bit weights after stage
quantize, its serving settings (evaluate section), and the questions it will answer.

The final model of every profile's DAG is stage quantize's output: the base model's shape (a merge
changes no shape), W{bits}A16 with the profile's group size and zero point, the MLP padded as stage
quantize pads it. It is served as stage evaluate says: tensor-parallel size, batches of
``generation.batch_size`` grouped by task type, ``generation.max_new_tokens`` per task type.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shoplm.errors import UserError
from shoplm.params.file import Params
from shoplm.planning.architecture import KNOWN_MODELS, Architecture
from shoplm.planning.hardware import Cluster
from shoplm.planning.reference import calibrated_efficiency
from shoplm.planning.runtime import Deployment
from shoplm.planning.weights import WeightFormat
from shoplm.planning.workload import PromptTokens, Workload, eval_set_workload, hidden_test_workload, scaled_to_hidden

#: vLLM 0.32's default gpu_memory_utilization (vllm/config/cache.py).
VLLM_MEMORY_UTILIZATION = 0.92


@dataclass(frozen=True)
class ModelSource:
    arch: Architecture
    where: str  # how the shape was found, for the report
    model_dir: Path | None  # a folder with config.json (and maybe a tokenizer), when there is one


def load_profile(name: str) -> Params:
    """Resolve and validate a profile (a ``ParamsError`` names the file, line and key)."""
    from shoplm.params import profiles

    return profiles.resolve(name).validate()


def find_model(params: Params, model_dir: Path | None = None) -> ModelSource:
    """The base model's shape: an explicit folder, the profile's folder, a known model, the tiny spec,
    or the Hugging Face cache (offline), in that order."""
    model = params.base.model
    if model_dir is not None:
        return ModelSource(Architecture.from_model_dir(model_dir, model), f"{model_dir}/config.json", Path(model_dir))
    local = Path(model).expanduser()
    if (local / "config.json").is_file():
        return ModelSource(Architecture.from_model_dir(local, model), f"{local}/config.json", local)
    if model in KNOWN_MODELS:
        return ModelSource(KNOWN_MODELS.get(model), "published config.json (shoplm/planning/models.yaml)", None)
    if model == "tiny":
        spec = params.base.tiny
        config = {"hidden_size": spec.hidden_size, "intermediate_size": spec.intermediate_size,
                  "num_hidden_layers": spec.num_layers, "num_attention_heads": spec.num_heads,
                  "num_key_value_heads": spec.num_kv_heads, "head_dim": spec.head_dim,
                  "vocab_size": spec.vocab_size, "tie_word_embeddings": True, "model_type": "qwen2"}
        return ModelSource(Architecture.from_config(config, "tiny"), "the profile's base.tiny spec", None)
    from shoplm.modeling.base_model import BaseModelNotFound, resolve_base_model

    try:
        folder = resolve_base_model(model)
    except BaseModelNotFound as exc:
        raise UserError(f"base.model {model!r}: its shape is unknown to the planner: not a known model "
                        f"({', '.join(KNOWN_MODELS.names())}) and {exc} Give --model-dir DIR.") from None
    return ModelSource(Architecture.from_model_dir(folder, model), f"{folder}/config.json", folder)


def final_weights(params: Params, arch: Architecture) -> WeightFormat:
    """Stage quantize's output format, with the MLP padding stage quantize applies."""
    from shoplm.quantization.padding import padded_size

    quantize = params.quantize
    pad = quantize.pad_intermediate_to or padded_size(arch.intermediate_size, quantize.pad_multiple)
    return WeightFormat(bits=quantize.bits, group_size=quantize.group_size, zero_point=not quantize.symmetric,
                        pad_intermediate_to=pad if pad != arch.intermediate_size else None)


def profile_deployment(params: Params, cluster: Cluster, arch: Architecture) -> Deployment:
    evaluate = params.evaluate
    dtype = "bfloat16" if evaluate.dtype == "bfloat16" and cluster.gpu.has_bf16 else "float16"
    return Deployment(arch=arch, weights=final_weights(params, arch), cluster=cluster,
                      tensor_parallel=evaluate.tensor_parallel_size, batch_size=evaluate.generation.batch_size,
                      caps=dict(evaluate.generation.max_new_tokens), efficiency=calibrated_efficiency(),
                      activation_dtype=dtype, memory_utilization=VLLM_MEMORY_UTILIZATION)


def profile_prompt_tokens(source: ModelSource, with_tokenizer: bool) -> PromptTokens:
    """The project's prompt (shoplm.shopbench.prompts); counted with the model's tokenizer when its
    folder has one and there are question texts to count."""
    from shoplm.shopbench.prompts import build_messages, render_chat, system_prompt

    tokenizer = _tokenizer(source.model_dir) if with_tokenizer and source.model_dir is not None else None
    if tokenizer is None or not getattr(tokenizer, "chat_template", None):
        return PromptTokens(system=system_prompt)
    return PromptTokens(system=system_prompt, tokenizer=tokenizer, tokenizer_name=str(source.model_dir),
                        render=lambda text, task: render_chat(tokenizer, build_messages(text, task), True))


def _tokenizer(model_dir: Path) -> Any:
    if not any((model_dir / name).is_file() for name in ("tokenizer.json", "tokenizer_config.json")):
        return None
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir)


def profile_workload(params: Params, source: ModelSource, eval_set: str | None, hidden_counts: bool) -> Workload:
    """The eval set's questions (a name of the profile's eval_sets, or a path), else the hidden test."""
    if eval_set is None:
        return hidden_test_workload(profile_prompt_tokens(source, with_tokenizer=False))
    from shoplm.shopbench.records import RecordError, load_questions

    path = Path(params.eval_sets.get(eval_set, eval_set))
    try:
        questions = load_questions(path)
    except (RecordError, OSError) as exc:
        raise UserError(f"--eval-set {eval_set}: {' '.join(str(exc).split())}") from None
    workload = eval_set_workload(questions, profile_prompt_tokens(source, with_tokenizer=True),
                                 source=f"{path} ({len(questions)} questions)", progress=len(questions) > 2000)
    return scaled_to_hidden(workload) if hidden_counts else workload
