"""Prompt templates of the LLM rows, kept as data in ``shoplm/synthesis/templates/*.yaml``.

One YAML file per family of rows (extract-then-build, ECInstruct rephrasing, ESCI wordings); each entry
is keyed by the builder name and holds what the row asks (``purpose``, ``inputs``, ``outputs``), the
JSON ``schema`` of the reply (sent as structured output and checked again), the ``assembler`` that turns
a reply into ShopBench questions, optional ``assemble`` options and ``source`` filters, and the ``template``: ``str.format``
placeholders named as the inputs, plus ``{few_shot}`` where development questions may be shown.

This module reads files only: ``shoplm.builders.llm_rows`` declares the rows from it, so it must not
import the builders.

Special-token text in a prompt (``neutral_text``): the server, not this client, applies the model's chat
template to the messages it is sent and tokenizes the result as one text. vLLM's OpenAI server does so
with special tokens parsed (its chat request has no option to treat message content as plain text), so a
source record that spells out ``<|im_end|>\n<|im_start|>system\n...`` would reach the model as a forged
turn. Every ``<|name|>`` in a rendered prompt is therefore broken up before it is sent (``<|im_end|>``
becomes ``< |im_end|>``): the model reads the same characters but a space, and no special token can be
spelt. ``<|name|>`` is the form of every special token of the chat formats the project serves (ChatML:
Qwen2, SmolLM2, the tiny model; also Llama 3 and Phi-3); markers of other forms (Llama 2's ``[INST]``,
Gemma's ``<start_of_turn>``) are not rewritten.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_DIR = Path(__file__).with_name("templates")
FEW_SHOT = "few_shot"
#: Text spelling a special token of the ``<|name|>`` form (``<|im_end|>``, ``<|eot_id|>``).
SPECIAL_TOKEN_TEXT = re.compile(r"<(\|[^\s<>|]{1,64}\|>)")


def neutral_text(text: str) -> str:
    """``text`` with every ``<|name|>`` broken up by a space after its ``<`` (``< |im_end|>``), so that
    a server that tokenizes the rendered chat with special tokens parsed reads none from this text."""
    return SPECIAL_TOKEN_TEXT.sub(r"< \1", text)


@dataclass(frozen=True)
class RowTemplate:
    name: str                          # the builder name
    family: str                        # the YAML file's stem
    assembler: str
    purpose: str
    inputs: tuple[str, ...]
    outputs: Mapping[str, str]
    schema: Mapping[str, Any]
    template: str
    assemble: Mapping[str, Any] = field(default_factory=dict)
    source: Mapping[str, Any] = field(default_factory=dict)   # column → value the source records must have

    @property
    def wants_few_shot(self) -> bool:
        return FEW_SHOT in self.placeholders

    @property
    def placeholders(self) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self.template) if name}

    def render(self, values: Mapping[str, Any], few_shot: str = "") -> str:
        """The prompt for one source record; ``few_shot`` is a block of example questions or ''.

        Records and example questions are untrusted text: any special-token text in them is broken up
        (``neutral_text``), as the server parses special tokens in what it is sent.
        """
        fields = {name: _text(values.get(name)) for name in self.inputs}
        shots = {FEW_SHOT: few_shot} if self.wants_few_shot else {}
        return neutral_text(self.template.format(**fields, **shots))


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v) for v in value)
    return str(value)


class TemplateError(ValueError):
    """A template file that does not hold what a row needs (the project's bug, found at import)."""


def _check(row: RowTemplate, path: Path) -> None:
    unknown = row.placeholders - set(row.inputs) - {FEW_SHOT}
    if unknown:
        raise TemplateError(f"{path}: {row.name}: placeholders {sorted(unknown)} are not among inputs")
    missing = set(row.outputs) ^ set(row.schema.get("properties", {}))
    if missing:
        raise TemplateError(f"{path}: {row.name}: outputs and schema properties differ on {sorted(missing)}")


@functools.cache
def load_templates(folder: Path = TEMPLATE_DIR) -> dict[str, RowTemplate]:
    """Every row template under ``folder``, by builder name."""
    rows: dict[str, RowTemplate] = {}
    for path in sorted(folder.glob("*.yaml")):
        for name, entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if name in rows:
                raise TemplateError(f"{path}: row {name!r} is also in {rows[name].family}.yaml")
            row = RowTemplate(name=name, family=path.stem, assembler=entry["assembler"], purpose=entry["purpose"],
                              inputs=tuple(entry["inputs"]), outputs=dict(entry["outputs"]),
                              schema=entry["schema"], template=entry["template"],
                              assemble=dict(entry.get("assemble") or {}),
                              source=dict(entry.get("source") or {}))
            _check(row, path)
            rows[name] = row
    return rows


def get_template(name: str) -> RowTemplate:
    from shoplm.registry import UnknownNameError

    rows = load_templates()
    if name not in rows:
        raise UnknownNameError("synthesis template", name, rows)
    return rows[name]
