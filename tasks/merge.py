"""Stage ``merge@<name>``: merge the LoRA adapters of one spec into the base, as a full safetensors model.

    python -m tasks.merge ensemble     # merge.specs.ensemble of params.yaml → models/merged/ensemble/

A spec names adapters with weights, a method (weighted, ties, dare_ties, dare_linear), the wise-ft α,
and density and seed where the method needs them (see ``shoplm.merging``). Seed 003 merged
B + 0.56·ΔW(v7) + 0.75·ΔW(v8) for one track; one spec per track is one entry each. The MLflow run
logs the spec, the merge time and the sizes on disk; ``python -m tasks.search`` chooses a spec instead.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from shoplm import tracking
from shoplm.merging import MERGE_METHODS, folder_size_bytes, merge_to_folder
from shoplm.merging.workspace import adapter_folders
from shoplm.modeling import resolve_stage_model
from shoplm.params.loader import PARAMS_FILE, ParamsError, load_section
from shoplm.params.merging import MergeSection
from tasks._runner import run

BASE_DIR = Path("models/base")
ADAPTERS_DIR = Path("models/adapters")
MERGED_DIR = Path("models/merged")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.merge", description=__doc__,
                                     epilog="merge methods:\n" + MERGE_METHODS.help(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="a spec name of merge.specs in params.yaml")
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    args = parser.parse_args(argv)

    section: MergeSection = load_section(MergeSection, args.params)
    if args.name not in section.specs:
        known = ", ".join(sorted(section.specs)) or "none"
        raise ParamsError(f"{args.params}: merge.specs: no spec {args.name!r} (defined: {known})")
    spec = section.specs[args.name]
    adapters = adapter_folders(list(spec.adapters), ADAPTERS_DIR)
    base = resolve_stage_model(BASE_DIR)
    out = MERGED_DIR / args.name

    params = {"name": args.name, "dtype": section.dtype, "fingerprint": spec.fingerprint(),
              **spec.model_dump(mode="json")}
    with tracking.stage_run(f"merge@{args.name}", params, tags={"merge": args.name, "method": spec.method}):
        import mlflow

        start = time.perf_counter()
        merge_to_folder(base, adapters, spec, out, dtype=section.dtype)
        seconds = time.perf_counter() - start
        metrics = {"merge_seconds": seconds, "base_mb": folder_size_bytes(base) / 2**20,
                   "merged_mb": folder_size_bytes(out) / 2**20,
                   "change_from_base": spec.change_from_base()}
        mlflow.log_metrics(metrics)
        mlflow.log_artifact(str(out / "merge_spec.json"), artifact_path=f"merged/{args.name}")

    print(json.dumps({"spec": spec.label(), **{k: round(v, 3) for k, v in metrics.items()}}, indent=2))
    print(f"merged model → {out}/")
    return 0


if __name__ == "__main__":
    run(main)
