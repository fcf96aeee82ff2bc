"""Deep merge of round-trip YAML params, remembering the file and line that set every key.

Mappings merge key by key; scalars and lists replace; a mapping tagged ``!replace`` replaces the mapping
under it wholesale. The target keeps its own comments (the defaults' documentation); what a later
file brings is copied without its comments, which would otherwise land in the wrong place.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

REPLACE_TAG = "!replace"

Path_ = tuple[str, ...]


@dataclass(frozen=True)
class Origin:
    """Where a value was set: a file and its 1-based line, or a label such as ``--eval-set``."""

    source: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source


def _is_replace(node: Any) -> bool:
    tag = getattr(node, "tag", None)
    return getattr(tag, "value", None) == REPLACE_TAG


def plain(node: Any) -> Any:
    """Plain Python values: ruamel's round-trip mappings, sequences and scalars as dict, list and builtins."""
    if isinstance(node, Mapping):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    for kind in (bool, int, float, str):  # ruamel's round-trip scalars (ScalarFloat, ...) → builtins
        if isinstance(node, kind):
            return kind(node)
    return node


def _fresh(node: Any) -> Any:
    """A copy without the other file's comments and tags (they would land in the wrong place), style kept."""
    if isinstance(node, Mapping):
        out = CommentedMap((k, _fresh(v)) for k, v in node.items())
        if isinstance(node, CommentedMap) and node.fa.flow_style():
            out.fa.set_flow_style()
        return out
    if isinstance(node, list):
        out_seq = CommentedSeq(_fresh(v) for v in node)
        if isinstance(node, CommentedSeq) and node.fa.flow_style():
            out_seq.fa.set_flow_style()
        return out_seq
    return copy.deepcopy(node)


def _line(node: Any, key: Any) -> int | None:
    try:
        return node.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        return None


def _record(origins: dict[Path_, Origin], node: Any, path: Path_, source: str, line: int | None) -> None:
    """``path`` and every key below it were set by ``source``."""
    origins[path] = Origin(source, line)
    for stale in [p for p in origins if len(p) > len(path) and p[: len(path)] == path]:
        del origins[stale]
    if isinstance(node, Mapping):
        for key, value in node.items():
            _record(origins, value, (*path, str(key)), source, _line(node, key) or line)


def _set_key(target: CommentedMap, key: Any, value: Any) -> None:
    """Set ``target[key]`` keeping the comment after the mapping's last entry (a blank line, or the next
    section's title in the defaults file) after the last entry."""
    keys = list(target)
    if key in target or not keys:
        target[key] = value
        return
    last = keys[-1]
    entry = target.ca.items.get(last)
    token = entry[2] if entry and len(entry) > 2 else None
    target[key] = value
    if token is None:
        return
    if not token.value.startswith("#"):  # no end-of-line comment: everything after the entry moves down
        target.ca.items[key] = target.ca.items.pop(last)
        return
    # The last entry's end-of-line comment stays with it; the full-line comments after it move down. ruamel
    # may also hold the same text on a flow-style value (it prints both), so trim that copy too.
    eol, _, rest = token.value.partition("\n")
    moved = copy.copy(token)
    moved.value = f"\n{rest}"
    for holder in (token, *_value_comments(target[last], token.value)):
        holder.value = f"{eol}\n"
    if rest:
        target.ca.items[key] = [None, None, moved, None]


def _value_comments(node: Any, text: str) -> list[Any]:
    """The comment tokens a flow-style mapping or sequence carries with exactly ``text``."""
    comment = getattr(getattr(node, "ca", None), "comment", None) or []
    return [token for token in comment if getattr(token, "value", None) == text]


def _swap_eol_comment(target: CommentedMap, key: Any, override: Mapping) -> None:
    """An overridden value takes the override's end-of-line comment (or none) in place of the default's,
    keeping the full-line comments that follow it (they belong to the next entry or section)."""
    entry = target.ca.items.get(key)
    token = entry[2] if entry and len(entry) > 2 else None
    if token is None or not token.value.startswith("#"):
        return
    theirs = getattr(override, "ca", None) and override.ca.items.get(key)
    their_token = theirs[2] if theirs and len(theirs) > 2 else None
    own = their_token.value.split("\n", 1)[0] if their_token is not None and their_token.value.startswith("#") else ""
    rest = token.value.split("\n", 1)[1] if "\n" in token.value else ""
    if own:
        token.value = f"{own}\n{rest}"
    elif rest.strip():
        token.value = f"\n{rest}"
    else:
        entry[2] = None


def merge(target: CommentedMap, override: Mapping, origins: dict[Path_, Origin], source: str,
          path: Path_ = ()) -> None:
    """Deep-merge ``override`` (from file or label ``source``) into ``target`` in place."""
    for key, value in override.items():
        here = (*path, str(key))
        line = _line(override, key)
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, CommentedMap) and not _is_replace(value):
            origins.setdefault(here, Origin(source, line))
            merge(current, value, origins, source, here)
        elif isinstance(value, Mapping) and isinstance(current, CommentedMap):
            # !replace: empty the default mapping (keeping its place and its trailing comment), then fill it.
            trailing = current.ca.items.get(list(current)[-1]) if current else None
            for old in list(current):
                del current[old]
            for new_key, new_value in value.items():
                current[new_key] = _fresh(new_value)
            if trailing is not None and current:
                current.ca.items[list(current)[-1]] = trailing
            if isinstance(value, CommentedMap) and value.fa.flow_style():
                current.fa.set_flow_style()
            _record(origins, value, here, source, line)
        else:
            if key in target:
                _swap_eol_comment(target, key, override)
            _set_key(target, key, _fresh(value))
            _record(origins, value, here, source, line)


def layer_origins(doc: CommentedMap, source: str) -> dict[Path_, Origin]:
    origins: dict[Path_, Origin] = {}
    for key, value in doc.items():
        _record(origins, value, (str(key),), source, _line(doc, key))
    return origins
