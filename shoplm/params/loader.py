"""Loading params files with errors that name the file, the line and the key.

Each DVC stage reads only its own section: ``load_section(TrainSection, path)`` returns the typed,
validated section. Every model forbids unknown keys (``StrictModel``), so a typo such as
``batch_sise`` fails at once, naming the key and its line, instead of being silently ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from shoplm.errors import KEYED_PROBLEMS, UserError

PARAMS_FILE = Path("params.yaml")


class StrictModel(BaseModel):
    """A params model: unknown keys fail. ``section`` is its key in the params file (top-level models)."""

    model_config = ConfigDict(extra="forbid")
    section: ClassVar[str] = ""


S = TypeVar("S", bound=BaseModel)


class ParamsError(UserError, ValueError):
    """A params file failed validation; the message names the file, line and key of each problem."""


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(key)), None)
            key_node = next((k for k, _ in node.value if k.value == str(key)), None)
            if match is None:
                return line
            line, node = key_node.start_mark.line + 1, match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """The file's data and its node tree (for line numbers); a missing or malformed file is a ParamsError."""
    if not path.exists():
        raise ParamsError(f"{path}: params file not found")
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text), yaml.compose(text)
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from exc


def located_errors(err: Any, prefix: tuple = ()) -> list[tuple[tuple, str]]:
    """(key path, reason) of one pydantic error; a cross-section error carries its own key paths."""
    if err["type"] == KEYED_PROBLEMS:  # paths below the model whose validator found them
        return [(prefix + tuple(err["loc"]) + tuple(loc), message) for loc, message in err["ctx"]["problems"]]
    # A dict key that fails its own check (an unknown task type in max_new_tokens) ends in "[key]".
    loc = prefix + tuple(part for part in err["loc"] if part != "[key]")
    if err["type"] == "extra_forbidden":
        return [(loc, "unknown key")]
    return [(loc, err["msg"].removeprefix("Value error, "))]  # our validators' messages stand alone


def format_errors(path: Path, exc: ValidationError, root: yaml.Node | None, prefix: tuple = ()) -> str:
    """One ``file:line: key: reason`` line per problem."""
    lines = []
    for err in exc.errors():
        for loc, reason in located_errors(err, prefix):
            key = ".".join(str(part) for part in loc) or "<root>"
            line = line_of(root, loc)
            where = f"{path}:{line}" if line else str(path)
            lines.append(f"{where}: {key}: {reason}")
    return "\n".join(lines)


def validate(model: type[S], data: Any, path: Path | str, root: yaml.Node | None = None,
             prefix: tuple = ()) -> S:
    """``model`` validated from ``data`` (read from ``path``); errors become one ParamsError."""
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise ParamsError(format_errors(Path(path), exc, root, prefix)) from None


def load_section(model: type[S], path: Path | str = PARAMS_FILE, name: str | None = None) -> S:
    """Validate and return one section of a params file: what a ``tasks/<stage>.py`` reads.

    ``name``: the section's key in the file; default ``model.section``.
    """
    name = name or getattr(model, "section", "")
    if not name:
        raise TypeError(f"{model.__name__} has no `section` name; pass name=")
    path = Path(path)
    data, root = read_yaml(path)
    if not isinstance(data, dict) or name not in data:
        raise ParamsError(f"{path}: section {name!r} is missing")
    return validate(model, data[name], path, root, prefix=(name,))


def validate_eval_sets(value: Any) -> dict[str, str]:
    """``eval_sets``: name → ShopBench JSONL path. Reports land in ``reports/<name>/``."""
    if not isinstance(value, dict) or not value:
        raise ValueError("must map at least one set name to a ShopBench JSONL path")
    for name, path in value.items():
        if not str(name).replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"set name {name!r}: use letters, digits, '-' and '_' only")
        if not isinstance(path, str) or not path:
            raise ValueError(f"set {name!r}: path must be a non-empty string")
    return value


def load_eval_sets(path: Path | str = PARAMS_FILE) -> dict[str, str]:
    """The ``eval_sets`` mapping of a params file, checked."""
    path = Path(path)
    data, _ = read_yaml(path)
    try:
        return validate_eval_sets((data or {}).get("eval_sets"))
    except ValueError as exc:
        raise ParamsError(f"{path}: eval_sets: {exc}") from None


class HeldoutSet(StrictModel):
    """An evaluation set cut from a built mixture: the held-out slice ``slice`` of ``build.mixtures.<mixture>``
    (questions that mixture's builders made and its training rows never include)."""

    mixture: str
    slice: str

    def source(self, processed: Path | str = Path("data/processed")) -> Path:
        """Where the build stage writes the slice."""
        return Path(processed) / self.mixture / "heldout" / f"{self.slice}.jsonl"


def validate_heldout_sets(value: Any) -> dict[str, HeldoutSet]:
    """``heldout_sets``: name → {mixture, slice}; names follow the rules of ``eval_sets`` names."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("must map set names to {mixture: <build.mixtures name>, slice: <its heldout slice>}")
    out = {}
    for name, entry in value.items():
        if not str(name).replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"set name {name!r}: use letters, digits, '-' and '_' only")
        try:
            out[name] = entry if isinstance(entry, HeldoutSet) else HeldoutSet.model_validate(entry)
        except ValidationError as exc:
            reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<entry>'}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"set {name!r}: {reasons}") from None
    return out


def load_heldout_sets(path: Path | str = PARAMS_FILE) -> dict[str, HeldoutSet]:
    """The ``heldout_sets`` mapping of a params file (empty when absent), checked."""
    path = Path(path)
    data, _ = read_yaml(path)
    try:
        return validate_heldout_sets((data or {}).get("heldout_sets"))
    except ValueError as exc:
        raise ParamsError(f"{path}: heldout_sets: {exc}") from None
