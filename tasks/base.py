"""Stage ``base``: the model every later stage starts from, in ``models/base/``.

- ``base.model: tiny``: build the tiny Qwen2 (tokenizer trained on data/corpus, seeded init, short
  pre-training), deterministically, in a minute on 2 CPU cores.
- a GGUF file, packaged (``base.model: smollm2-135m-instruct``, the ``smol`` profile) or local
  (``base.model: path/to/model.gguf``): convert it into a normal model folder (safetensors in
  ``base.dtype``, tokenizer with its special tokens fixed, chat template) and record the file's sha256,
  the package version and the parameter count in ``models/base/gguf_conversion.json``.
- anything else (a local folder or a hub id such as Qwen/Qwen2-72B-Instruct): check it exists locally and
  write ``models/base/base_model.json`` recording where it is and its architecture. Nothing is downloaded
  unless the profile sets ``base.allow_download: true``.

Then the model's dimensions are checked against ``quantize.group_size`` and the tensor-parallel
degrees (``evaluate``, ``quantize``) (params load already checks the models whose dimensions are known in
advance; this catches the others), so a misfit fails here, not hours later in quantization or serving.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from shoplm import tracking
from shoplm.modeling import BASE_RECORD_FILE, build_tiny_base, record_base_model, resolve_stage_model
from shoplm.modeling.fit import ModelShape, base_model_misfits
from shoplm.modeling.gguf import CONVERSION_RECORD_FILE, GGUFConversionError, convert_gguf, is_gguf_source
from shoplm.params.base import BaseSection, ServingParallelism
from shoplm.params.loader import PARAMS_FILE, ParamsError, load_section
from shoplm.params.quantization import QuantizeSection
from tasks._runner import run

OUT_DIR = Path("models/base")


def _numbers(summary: dict, prefix: str = "") -> dict[str, float]:
    """The summary's numeric leaves, flattened for MLflow."""
    out: dict[str, float] = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            out.update(_numbers(value, f"{prefix}{key}/"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[tracking.metric_name(f"{prefix}{key}")] = float(value)
    return out


def check_fit(model_dir: Path, model: str, params_path: Path) -> None:
    """The model's config against the tensor-parallel and group-size settings; a misfit is a params error."""
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    serving = load_section(ServingParallelism, params_path, name="evaluate")
    problems = base_model_misfits(ModelShape.from_config(config), model, serving.tensor_parallel_size,
                                  load_section(QuantizeSection, params_path))
    if problems:
        raise ParamsError("\n".join(f"{params_path}: {'.'.join(key)}: {message}" for key, message in problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.base", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)

    section: BaseSection = load_section(BaseSection, args.params)
    tensor_parallel = load_section(ServingParallelism, args.params, name="evaluate").tensor_parallel_size
    # DVC removes a stage's outputs before running it; clear leftovers when run by hand too, so the
    # folder never mixes a tiny model with a record of a real one.
    shutil.rmtree(args.out, ignore_errors=True)
    params = section.model_dump(mode="json")
    if section.model != "tiny":
        params.pop("tiny")  # unused for a real model; keep the run's params to what mattered
    started = time.perf_counter()
    with tracking.stage_run("base", params, tags={"base_model": section.model}) as run_:
        import mlflow

        if section.model == "tiny":
            summary = build_tiny_base(section.tiny, args.out)
            mlflow.log_artifact(str(args.out / "build_summary.json"))
        elif is_gguf_source(section.model):
            try:
                summary = convert_gguf(section.model, args.out, dtype=section.dtype)
            except GGUFConversionError as exc:
                raise ParamsError(f"{args.params}: base.model: {exc}") from None
            mlflow.log_artifact(str(args.out / CONVERSION_RECORD_FILE))
        else:
            summary = record_base_model(section.model, args.out / BASE_RECORD_FILE,
                                        allow_download=section.allow_download, tensor_parallel=tensor_parallel)
            mlflow.log_artifact(str(args.out / BASE_RECORD_FILE))
        check_fit(resolve_stage_model(args.out), section.model, args.params)
        mlflow.log_metrics({**_numbers(summary), "seconds": time.perf_counter() - started})
    print(json.dumps({k: v for k, v in summary.items() if not isinstance(v, dict)}, indent=2, default=str))
    print(f"base model → {args.out}/ in {time.perf_counter() - started:.0f} s (MLflow run {run_.info.run_id})")
    return 0


if __name__ == "__main__":
    run(main)
