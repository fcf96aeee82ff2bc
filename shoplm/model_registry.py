"""The MLflow model registry: a model folder registered with its scores under aliases, fetched back by alias.

A registered version is the folder itself (config, safetensors, tokenizer: what transformers and vLLM
load), logged as artifacts of the run that registers it, so its lineage (the stage run, nested under the
pipeline's parent run, tagged with the git commit) comes with it. Scores go on the version as tags and
in its description, so the registry page shows what the model scored without opening the run. An alias
(``candidate``: the newest; ``champion``: the best so far by one score) names the version a deployment should serve; ``models:/NAME@ALIAS`` resolves
through the tracking server, so a serving machine needs only ``MLFLOW_TRACKING_URI`` and the reference.

(``shoplm.registry`` is the project's generic name registry; this module is about trained models.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from shoplm.errors import UserError

#: Where a registered folder lives inside its run's artifacts.
ARTIFACT_PATH = "model"
#: Written beside the fetched folder: which version it is, and its scores.
FETCH_RECORD = "registered_model.json"
# Registered model names and aliases: MLflow refuses most punctuation in aliases, and a name that is a
# plain identifier keeps ``models:/NAME@ALIAS`` unambiguous.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


class ModelReferenceError(UserError, ValueError):
    """A model reference that is not ``NAME@ALIAS``, or that the registry does not hold."""


@dataclass(frozen=True)
class RegisteredVersion:
    name: str
    version: str
    aliases: tuple[str, ...]
    run_id: str
    source: str
    tags: dict[str, str]

    def uri(self, alias: str | None = None) -> str:
        """``models:/NAME@ALIAS`` (the first alias by default), or ``models:/NAME/VERSION`` without one."""
        alias = alias or (self.aliases[0] if self.aliases else None)
        return f"models:/{self.name}@{alias}" if alias else f"models:/{self.name}/{self.version}"

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "aliases": list(self.aliases), "uri": self.uri()}, indent=2) + "\n"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ModelReferenceError(f"registered model name {name!r}: use letters, digits, '_', '-' and '.'")
    return name


def check_alias(alias: str) -> str:
    # MLflow reserves "latest" and v<number> (both name versions, not aliases).
    if not _ALIAS.match(alias) or alias.lower() == "latest" or re.fullmatch(r"v\d+", alias, flags=re.IGNORECASE):
        raise ModelReferenceError(f"alias {alias!r}: a letter or '_' first, then letters, digits, '_' or '-'; "
                                  "not 'latest' or v<number> (MLflow reserves them for versions)")
    return alias


def parse_reference(reference: str) -> tuple[str, str]:
    """``NAME@ALIAS`` or ``models:/NAME@ALIAS`` → (name, alias)."""
    name, sep, alias = reference.removeprefix("models:/").partition("@")
    if not sep or not name or not alias:
        raise ModelReferenceError(f"model reference {reference!r}: expected NAME@ALIAS, e.g. shoplm@champion")
    return check_name(name), check_alias(alias)


def score_tags(metrics: Mapping[str, float], method: str) -> dict[str, str]:
    """Tags for a version from ``reports/quantize/<model>/metrics.json``: the scores before quantization,
    and the chosen method's scores, size and time, its prefix dropped (``rtn/after/track5`` → ``after/track5``)."""
    tags: dict[str, str] = {}
    for key, value in metrics.items():
        if key.startswith("before/"):
            tags[key] = f"{value:.6g}"
        elif key.startswith(f"{method}/"):
            tags[key.removeprefix(f"{method}/")] = f"{value:.6g}"
    return tags


def describe_scores(metrics: Mapping[str, float], method: str) -> str:
    """One line for the version's description: Track 5 and size before and after quantization."""
    parts = []
    if "before/track5" in metrics and f"{method}/after/track5" in metrics:
        parts.append(f"Track 5 {metrics['before/track5']:.4f} before, {metrics[f'{method}/after/track5']:.4f} "
                     f"after {method}")
    if f"{method}/source_mb" in metrics and f"{method}/output_mb" in metrics:
        parts.append(f"{metrics[f'{method}/source_mb']:.1f} MB → {metrics[f'{method}/output_mb']:.1f} MB")
    return "; ".join(parts)


def register_folder(model_dir: Path, name: str, aliases: Sequence[str], tags: Mapping[str, str],
                    description: str = "") -> RegisteredVersion:
    """Log ``model_dir`` into the active MLflow run, register it as a new version of ``name`` and point
    each alias at it (an alias held by an older version moves). Needs an active run (a stage's run)."""
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("register_folder needs an active MLflow run (open the stage's run first)")
    check_name(name)
    aliases = [check_alias(alias) for alias in aliases]
    mlflow.log_artifacts(str(model_dir), artifact_path=ARTIFACT_PATH)
    client = MlflowClient()
    try:
        client.create_registered_model(name, description="shoplm models, one version per registering run")
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    version = client.create_model_version(name, source=f"runs:/{run.info.run_id}/{ARTIFACT_PATH}",
                                          run_id=run.info.run_id, tags=dict(tags), description=description)
    for alias in aliases:
        client.set_registered_model_alias(name, alias, version.version)
    return RegisteredVersion(name=name, version=str(version.version), aliases=tuple(aliases), run_id=run.info.run_id,
                             source=version.source, tags=dict(tags))


def promote_if_better(version: RegisteredVersion, alias: str, metric: str) -> tuple[bool, str]:
    """Point ``alias`` at ``version`` when its tag ``metric`` is at least the current holder's (or nothing
    holds the alias yet). Returns (moved, why) for the log. A version without the score never takes the
    alias: an unscored model must not replace a scored one."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    check_alias(alias)
    client = MlflowClient()
    if metric not in version.tags:
        return False, f"version {version.version} has no score {metric!r}: {alias} stays where it is"
    new = float(version.tags[metric])
    try:
        holder = client.get_model_version_by_alias(version.name, alias)
    except MlflowException:
        holder = None
    if holder is not None and metric in holder.tags and float(holder.tags[metric]) > new:
        return False, (f"{alias} stays on version {holder.version} ({metric} {float(holder.tags[metric]):.4f} > "
                       f"{new:.4f})")
    client.set_registered_model_alias(version.name, alias, version.version)
    before = f"version {holder.version}" if holder is not None else "no version"
    return True, f"{alias} → version {version.version} ({metric} {new:.4f}; it was on {before})"


def lookup(reference: str) -> RegisteredVersion:
    """The version an alias points at now (``NAME@ALIAS``), from the tracking server in ``MLFLOW_TRACKING_URI``."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    name, alias = parse_reference(reference)
    try:
        version = MlflowClient().get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        raise ModelReferenceError(f"model reference {reference!r}: {exc.message}") from None
    return RegisteredVersion(name=name, version=str(version.version), aliases=tuple(version.aliases),
                             run_id=version.run_id or "", source=version.source, tags=dict(version.tags))


def fetch(reference: str, dest: Path) -> tuple[Path, RegisteredVersion]:
    """Download the folder that ``NAME@ALIAS`` points at into ``dest`` (emptied first), with a record of
    which version it is (``registered_model.json``). The alias is read once, so a concurrent re-registration
    cannot mix two versions' files."""
    import shutil

    import mlflow

    version = lookup(reference)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{version.name}/{version.version}", dst_path=str(dest))
    (dest / FETCH_RECORD).write_text(version.to_json(), encoding="utf-8")
    return dest, version
