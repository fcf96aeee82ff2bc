"""Prefect flow: the deployment step. Fetch the model that a registry alias points at into a folder to serve.

    python -m flows.release                                  # shoplm@champion → models/release/shoplm/
    python -m flows.release shoplm@candidate --dest /srv/models/shoplm
    MLFLOW_TRACKING_URI=http://mlflow.internal:5000 python -m flows.release shoplm@champion

Stage ``register_model`` puts each run's quantized model into the MLflow model registry and moves the aliases;
this flow resolves ``models:/NAME@ALIAS`` once (so a registration racing it cannot mix two versions),
downloads that version's folder through the tracking server and writes ``registered_model.json`` beside
it (name, version, aliases, source run, scores). The folder is what transformers and vLLM load:
``python -m vllm.entrypoints.openai.api_server --model models/release/shoplm``. It is deployed on the
work pool beside the pipeline (``prefect.yaml``), so a release is one click or one API call.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from prefect import flow

from shoplm import tracking
from shoplm.model_registry import ModelReferenceError, fetch, parse_reference


@flow(name="shoplm-release", log_prints=True)
def release(model: str = "shoplm@champion", dest: str | None = None) -> dict[str, str]:
    """Fetch a registered model by alias.

    Args:
        model: NAME@ALIAS in the MLflow model registry (e.g. shoplm@champion).
        dest: folder to (re)write; default models/release/NAME.
    """
    name, _ = parse_reference(model)
    import mlflow

    root = tracking.repo_root()
    mlflow.set_tracking_uri(tracking.tracking_uri(root))  # the server of MLFLOW_TRACKING_URI, else the local store
    folder, version = fetch(model, Path(dest) if dest else root / "models" / "release" / name)
    scores = ", ".join(f"{k} {v}" for k, v in sorted(version.tags.items()) if "track5" in k)
    print(f"{model} is version {version.version} (run {version.run_id}): {scores or 'no scores'} → {folder}")
    return {"name": version.name, "version": version.version, "run_id": version.run_id, "path": str(folder)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.release", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", default="shoplm@champion", help="NAME@ALIAS (default: %(default)s)")
    parser.add_argument("--dest", help="folder to write (default: models/release/NAME)")
    args = parser.parse_args(argv)
    try:
        parse_reference(args.model)  # a malformed reference fails here, before Prefect starts
        result = release(model=args.model, dest=args.dest)
    except ModelReferenceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.model} = version {result['version']} → {result['path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
