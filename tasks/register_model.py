"""Stage ``register_model``: the run's final model, ``models/quantized/<quantize.model>/``, into the MLflow model registry.

    python -m tasks.register_model           # register_model.* and quantize.model of params.yaml

Logs the quantized folder as artifacts of this stage's MLflow run (nested under the pipeline's parent
run when the flow runs it), registers it as a new version of ``register_model.name`` with its scores from
``reports/quantize/<model>/metrics.json`` as tags and in the description, moves ``register_model.aliases``
to it, and moves ``register_model.champion`` only when the new version's ``register_model.metric`` is at least the
current champion's. Registration goes to the tracking server of ``MLFLOW_TRACKING_URI`` (else the local
store). Writes ``reports/register_model/<model>.json`` (name, version, aliases, run id): DVC re-registers only
when the quantized model, its scores or these params change.

A deployment fetches the model by alias, on any machine that reaches the server:
``python -m flows.release shoplm@champion`` (or ``shoplm.model_registry.fetch``).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from shoplm import tracking
from shoplm.model_registry import describe_scores, promote_if_better, register_folder, score_tags
from shoplm.params.loader import PARAMS_FILE, load_section
from shoplm.params.quantization import QuantizeSection
from shoplm.params.release import RegisterSection
from tasks._runner import run

QUANTIZED_DIR = Path("models/quantized")
QUANTIZE_REPORTS_DIR = Path("reports/quantize")
OUT_DIR = Path("reports/register_model")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.register_model", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    args = parser.parse_args(argv)

    section: RegisterSection = load_section(RegisterSection, args.params)
    quantize: QuantizeSection = load_section(QuantizeSection, args.params)
    model_dir = QUANTIZED_DIR / quantize.model
    metrics_file = QUANTIZE_REPORTS_DIR / quantize.model / "metrics.json"
    for needed in (model_dir / "config.json", metrics_file):
        if not needed.is_file():
            raise FileNotFoundError(f"{needed}: no quantized model {quantize.model!r} (quantize.model); run "
                                    "`dvc repro quantize` first")
    metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
    tags = {**score_tags(metrics, quantize.method), "quantize.method": quantize.method,
            "quantize.model": quantize.model}
    params = {**section.model_dump(mode="json"), "model_dir": str(model_dir)}
    with tracking.stage_run("register_model", params, tags={"model": quantize.model}) as stage:
        version = register_folder(model_dir, section.name, section.aliases, tags,
                                  description=describe_scores(metrics, quantize.method))
        lines = [f"registered {model_dir}/ as {section.name} version {version.version} (run {stage.info.run_id})"]
        if section.champion:
            moved, why = promote_if_better(version, section.champion, section.metric)
            if moved:
                version = replace(version, aliases=(*version.aliases, section.champion))
            lines.append(why)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / f"{quantize.model}.json").write_text(version.to_json(), encoding="utf-8")
    print("\n".join(lines))
    print(f"fetch it with: python -m flows.release {version.uri()}")
    return 0


if __name__ == "__main__":
    run(main)
