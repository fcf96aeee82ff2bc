"""Write dist/submission-<track>/: a repository in the KDD Cup 2024 starter kit's submission format.

    aicrowd.json            the track's challenge id, gpu: true
    models/user_config.py   UserModel (the evaluator's entry point), rendered from templates/
    models/shoplm_package.json   the predictor's settings: backend, its options, generation settings
    models/weights/         the model's files (models/adapter/ beside it for a base + LoRA package)
    shoplm/                 the vendored predictor code (see vendor.py for why vendored)
    requirements.txt, apt.txt, Dockerfile, .gitattributes (weights through git-lfs), README.md

The package is written into a scratch folder beside ``out`` and moved into place whole, so a failure
leaves no half-written package. The README's scores come from the harness, after the package exists
(``write_readme``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from shoplm.errors import UserError
from shoplm.params.generation import GenerationSettings
from shoplm.submission.predictor import CONFIG_NAME, FALLBACK_BACKEND
from shoplm.submission.requirements import pinned_requirements
from shoplm.submission.tracks import Track
from shoplm.submission.vendor import vendor

TEMPLATES = Path(__file__).with_name("templates")
WEIGHTS_DIR = "weights"
ADAPTER_DIR = "adapter"
BASE_DIR = Path("models/base")
ADAPTERS_DIR = Path("models/adapters")


class ModelFolderError(UserError):
    """The model folder named in package.tracks is missing or holds no model."""


@dataclass(frozen=True)
class ModelSource:
    """The folders a package ships, and the evaluate stage's report label for that model (if it has one)."""

    folder: Path  # as named in params
    weights: Path  # a full model (the base, for an adapter)
    adapter: Path | None = None
    evaluate_label: str | None = None  # reports/<set>/<label>/: the evaluate stage scores base and adapters

    @property
    def quantized(self) -> bool:
        config = json.loads((self.weights / "config.json").read_text(encoding="utf-8"))
        return "quantization_config" in config


def resolve_model(folder: Path, base: Path | None = None) -> ModelSource:
    """What ``folder`` (a value of package.tracks.<track>.model) ships: an adapter folder (it holds
    adapter_config.json) ships with the base it was trained on, ``base`` (default models/base)."""
    folder = Path(folder)
    if (folder / "adapter_config.json").is_file():
        label = folder.name if folder.parent == ADAPTERS_DIR else None
        return ModelSource(folder, weights=Path(base or BASE_DIR), adapter=folder, evaluate_label=label)
    if not (folder / "config.json").is_file():
        raise ModelFolderError(f"{folder}: holds no model (config.json) or adapter (adapter_config.json); "
                               f"run the stage that writes it first (`dvc repro` lists them)")
    label = "zero-shot" if folder == BASE_DIR else None
    return ModelSource(folder, weights=folder, evaluate_label=label)


@dataclass
class PackageSpec:
    """Everything a package is written from."""

    track: Track
    backend: str
    generation: GenerationSettings
    batch_size: int
    source: ModelSource | None = None  # None: a model-free backend (dummy, echo), for tests
    backend_options: dict[str, Any] = field(default_factory=dict)  # model_dir/adapter_dir are added here
    # The transformers backend's options, for a package whose backend needs a package the machine may
    # lack (vLLM): the predictor answers through transformers there instead of failing to import.
    fallback_options: dict[str, Any] | None = None
    authors: list[str] = field(default_factory=list)
    description: str = ""
    pins: dict[str, str] = field(default_factory=dict)
    commit: str = "unknown"


def _render(name: str, target: Path, **values: Any) -> None:
    text = Template((TEMPLATES / name).read_text(encoding="utf-8")).substitute(values)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def _copy_files(source: Path, target: Path) -> None:
    """The model's own files (top level: config, weights, tokenizer), not training checkpoints below it."""
    target.mkdir(parents=True)
    for path in sorted(source.iterdir()):
        if path.is_file():
            shutil.copy2(path, target / path.name)


def _with_folders(options: dict[str, Any], source: ModelSource | None) -> dict[str, Any]:
    options = dict(options)
    if source is not None:
        options["model_dir"] = f"models/{WEIGHTS_DIR}"
        options["adapter_dir"] = f"models/{ADAPTER_DIR}" if source.adapter else None
    return options


def _package_config(spec: PackageSpec) -> dict[str, Any]:
    config = {"backend": spec.backend, "backend_options": _with_folders(spec.backend_options, spec.source),
              "batch_size": spec.batch_size, "generation": spec.generation.model_dump(mode="json"),
              "track": spec.track.name, "model": str(spec.source.folder) if spec.source else None,
              "shoplm_commit": spec.commit}
    if spec.fallback_options is not None:
        config["fallback"] = {"backend": FALLBACK_BACKEND,
                              "backend_options": _with_folders(spec.fallback_options, spec.source)}
    return config


def write_package(out: Path, spec: PackageSpec) -> Path:
    """Write the package into ``out`` (replacing a previous one whole)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    source = spec.source
    requirements = pinned_requirements(spec.backend, adapter=bool(source and source.adapter),
                                       quantized=bool(source and source.quantized), pins=spec.pins)
    common = {"track": spec.track.name, "commit": spec.commit, "backend": spec.backend,
              "model": source.folder if source else f"the {spec.backend} backend (no model)"}
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as scratch:
        staged = Path(scratch) / out.name
        (staged / "models").mkdir(parents=True)
        (staged / "models" / "__init__.py").write_text("", encoding="utf-8")  # `models` is a package, not a namespace
        _render("user_config.py.tmpl", staged / "models" / "user_config.py", **common)
        config = json.dumps(_package_config(spec), indent=2, ensure_ascii=False) + "\n"
        (staged / "models" / CONFIG_NAME).write_text(config, encoding="utf-8")
        _render("aicrowd.json.tmpl", staged / "aicrowd.json", challenge_id=json.dumps(spec.track.challenge_id),
                authors=json.dumps(spec.authors), description=json.dumps(spec.description or str(common["model"])))
        _render("requirements.txt.tmpl", staged / "requirements.txt", requirements="\n".join(requirements), **common)
        _render("apt.txt.tmpl", staged / "apt.txt")
        _render("Dockerfile.tmpl", staged / "Dockerfile", python_version=f"{sys.version_info[0]}.{sys.version_info[1]}")
        _render("gitattributes.tmpl", staged / ".gitattributes", weights=WEIGHTS_DIR)
        vendor(staged)
        if source is not None:
            _copy_files(source.weights, staged / "models" / WEIGHTS_DIR)
            if source.adapter is not None:
                _copy_files(source.adapter, staged / "models" / ADAPTER_DIR)
        if out.exists():
            shutil.rmtree(out)
        os.replace(staged, out)
    return out


def package_size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) / 2**20


def write_readme(out: Path, spec: PackageSpec, **values: Any) -> None:
    """The package's README with the harness's figures (``values``: see templates/README.md.tmpl)."""
    source = spec.source
    adapter_note = f" with the LoRA adapter in `models/{ADAPTER_DIR}/`" if source and source.adapter else ""
    _render("README.md.tmpl", Path(out) / "README.md", track=spec.track.name, track_title=spec.track.title,
            commit=spec.commit, model=source.folder if source else spec.backend, weights=WEIGHTS_DIR,
            adapter_note=adapter_note, backend=spec.backend, challenge_id_plain=spec.track.challenge_id,
            batch_size=spec.batch_size, size_mb=f"{package_size_mb(out):.1f}", **values)
