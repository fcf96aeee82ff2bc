"""Profiles: small files of overrides on top of ``profiles/defaults.yaml``; ``params.yaml`` is the result.

``profiles/defaults.yaml`` holds every key with its default value and the comments that document it.
Every other ``profiles/NAME.yaml`` holds only what differs, deep-merged over the defaults (as axolotl's
example configs override its schema defaults):

- mappings merge key by key; scalars and lists replace;
- a mapping tagged ``!replace`` replaces the default mapping wholesale (a profile with fewer
  ``train.adapters``, or ``dpo.adapters: !replace {}`` to switch DPO off);
- ``extends: NAME`` (a key of the profile file, not a param) layers it over profile NAME instead of
  over the defaults alone: defaults, then NAME (and what NAME extends), then this file.

``params.yaml`` stays the one file DVC reads: ``shoplm profile use NAME`` resolves, validates and writes
it (the defaults' layout and comments, the profile's values, a header naming the profile), under the
lock of ``shoplm.params.lock``. ``shoplm profile show NAME`` prints every resolved value with the file
and line it came from; a validation error names the file and line of the bad key itself.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from shoplm.params.file import Params
from shoplm.params.loader import PARAMS_FILE, ParamsError, located_errors
from shoplm.params.merge import Origin, Path_, layer_origins, merge, plain

PROFILES_DIR = Path("profiles")
DEFAULTS = "defaults"
EXTENDS = "extends"  # a profile file's own key: the profile it overrides (not a param; dropped when merged)


@dataclass
class Resolved:
    """The merged params: a round-trip document (the defaults' comments kept) and each key's origin."""

    name: str
    doc: CommentedMap
    origins: dict[Path_, Origin] = field(default_factory=dict)
    layers: list[str] = field(default_factory=list)

    def data(self) -> dict[str, Any]:
        """Plain Python values (what pydantic and DVC see)."""
        return plain(self.doc)

    def origin_of(self, loc: tuple[Any, ...]) -> Origin | None:
        """Origin of the deepest key of ``loc`` that the files hold (a missing key: its parent's)."""
        keys = tuple(str(part) for part in loc)
        for end in range(len(keys), 0, -1):
            if keys[:end] in self.origins:
                return self.origins[keys[:end]]
        return None

    def validate(self) -> Params:
        try:
            return Params.model_validate(self.data())
        except ValidationError as exc:
            raise ParamsError(self._format(exc)) from None

    def _format(self, exc: ValidationError) -> str:
        lines = []
        for err in exc.errors():
            for loc, reason in located_errors(err):  # the same key paths and reasons as params.yaml errors
                key = ".".join(str(part) for part in loc) or "<root>"
                where = self.origin_of(loc) or Origin(self.layers[-1])
                lines.append(f"{where}: {key}: {reason}")
        return "\n".join(lines)

    def leaves(self) -> list[tuple[str, Any, Origin | None]]:
        """(dotted key, value, origin) for every scalar, list and empty mapping, in file order."""
        out: list[tuple[str, Any, Origin | None]] = []

        def walk(node: Any, path: Path_) -> None:
            if isinstance(node, Mapping) and node:
                for key, value in node.items():
                    walk(value, (*path, str(key)))
            else:
                out.append((".".join(path), plain(node), self.origins.get(path)))

        walk(self.doc, ())
        return out

    def render(self, header: str) -> str:
        """The params file: ``header`` (comment lines), then the merged document without the defaults' title."""
        buffer = io.StringIO()
        _yaml().dump(self.doc, buffer)
        body = buffer.getvalue().splitlines(keepends=True)
        # The defaults' first comment paragraph is that file's own title; params.yaml gets its own.
        while body and body[0].startswith("#"):
            body.pop(0)
        while body and not body[0].strip():
            body.pop(0)
        title = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
        return title + "\n" + "".join(body)


# ---------------------------------------------------------------------------------------------- files


def available(profiles_dir: Path = PROFILES_DIR) -> list[str]:
    """Profile names (the defaults file is the base of every profile, not a profile of its own)."""
    return sorted(p.stem for p in profiles_dir.glob("*.yaml") if p.stem != DEFAULTS)


def profile_path(name: str, profiles_dir: Path = PROFILES_DIR) -> Path:
    """A profile by name (``tiny``) or by path (``profiles/tiny.yaml``)."""
    candidate = Path(name)
    if candidate.suffix in {".yaml", ".yml"} and candidate.exists():
        return candidate
    path = profiles_dir / f"{name}.yaml"
    if not path.exists():
        from shoplm.registry import did_you_mean

        known = available(profiles_dir)
        raise ParamsError(f"unknown profile {name!r} (looked for {path}).{did_you_mean(name, known)} "
                          f"Known: {', '.join(known) or 'none'}")
    return path


def _yaml() -> YAML:
    rt = YAML()  # round-trip: keeps comments, key order and flow/block style
    rt.preserve_quotes = True
    rt.indent(mapping=2, sequence=4, offset=2)
    rt.width = 4096  # never reflow a long flow mapping onto new lines
    # ruamel writes None as an empty value; keep the explicit `null` the files use.
    rt.representer.add_representer(
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null"))
    return rt


def read_layer(path: Path) -> CommentedMap:
    """One YAML file of params (whole or overrides) as a round-trip mapping; {} for a comments-only file."""
    if not path.exists():
        raise ParamsError(f"{path}: params file not found")
    try:
        doc = _yaml().load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    if doc is None:
        return CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise ParamsError(f"{path}:1: a params file must be a mapping of sections")
    return doc


# ---------------------------------------------------------------------------------------------- API


def profile_chain(name: str, profiles_dir: Path = PROFILES_DIR) -> list[Path]:
    """The files of profile ``name`` after the defaults: what it ``extends`` first, itself last."""
    defaults_path = (profiles_dir / f"{DEFAULTS}.yaml").resolve()
    chain: list[Path] = []
    while name is not None:
        path = profile_path(name, profiles_dir)
        if path.resolve() == defaults_path:
            break
        if any(path.resolve() == p.resolve() for p in chain):
            raise ParamsError(f"{path}: `{EXTENDS}` makes a cycle: "
                              + " -> ".join(str(p) for p in [*reversed(chain), path]))
        chain.append(path)
        parent = read_layer(path).get(EXTENDS)
        if parent is not None and not isinstance(parent, str):
            raise ParamsError(f"{path}: {EXTENDS}: name a profile, e.g. `{EXTENDS}: smol`")
        name = parent
    return list(reversed(chain))


def resolve(name: str, extra: Mapping[str, Any] | None = None, extra_source: str = "override",
            profiles_dir: Path = PROFILES_DIR) -> Resolved:
    """Defaults + profile ``name`` (over what it ``extends``; + ``extra``, a nested mapping of run-time
    overrides), not validated."""
    defaults_path = profiles_dir / f"{DEFAULTS}.yaml"
    return resolve_files([defaults_path, *profile_chain(name, profiles_dir)], name=name, extra=extra,
                         extra_source=extra_source)


def resolve_files(paths: list[Path], name: str, extra: Mapping[str, Any] | None = None,
                  extra_source: str = "override") -> Resolved:
    """Merge whole-or-override params files in order (the first is the base), then ``extra``. A file's
    ``extends`` key says where it belongs in the order (``profile_chain``); it is not merged."""
    doc = read_layer(paths[0])
    doc.pop(EXTENDS, None)
    resolved = Resolved(name=name, doc=doc, origins=layer_origins(doc, str(paths[0])), layers=[str(paths[0])])
    for path in paths[1:]:
        layer = read_layer(path)
        layer.pop(EXTENDS, None)
        merge(resolved.doc, layer, resolved.origins, str(path))
        resolved.layers.append(str(path))
    if extra:
        merge(resolved.doc, extra, resolved.origins, extra_source)
        resolved.layers.append(extra_source)
    return resolved


def check(name: str, profiles_dir: Path = PROFILES_DIR) -> Params:
    """Resolve and validate a profile; errors name the profile file and the line of the bad key."""
    return resolve(name, profiles_dir=profiles_dir).validate()


def params_header(name: str, layers: list[str]) -> str:
    return (f"shoplm parameters, profile `{name}`: {' + '.join(layers)}\n"
            f"Written by `shoplm profile use {name}`: this is the file DVC reads. Edit the profile and run that\n"
            "command again (edits made here are lost at the next switch). Where each value comes from:\n"
            f"  shoplm profile show {name}\n"
            "Switch profile:  shoplm profile use NAME        (names: shoplm profile list)")


def show(name: str, profiles_dir: Path = PROFILES_DIR) -> str:
    """Every resolved value, one per line, with the file and line it came from."""
    resolved = resolve(name, profiles_dir=profiles_dir)
    rows = [(f"{key}: {_inline(value)}", str(origin or "")) for key, value, origin in resolved.leaves()]
    width = min(max(len(text) for text, _ in rows), 72)
    return "\n".join(f"{text:<{width}}  # {origin}" for text, origin in rows)


def _inline(value: Any) -> str:
    import yaml

    return yaml.safe_dump(value, default_flow_style=True, width=4096).strip().removesuffix("...").strip()


def use_profile(name: str, target: Path = PARAMS_FILE, profiles_dir: Path = PROFILES_DIR) -> bool:
    """Resolve, validate and write ``target``; True when it changed. Nothing is written on an error."""
    from shoplm.params.lock import params_lock, write_atomic

    resolved = resolve(name, profiles_dir=profiles_dir)
    resolved.validate()
    text = resolved.render(params_header(name, resolved.layers))
    with params_lock(target):
        if target.exists() and target.read_text(encoding="utf-8") == text:
            return False
        write_atomic(target, text)
    return True
