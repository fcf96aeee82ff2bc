"""The tiny model's shipped text, as files: the corpus it is trained on and the probe's held-out questions.

``data/corpus/tiny_corpus.txt``: documents, each ending with a newline and followed by the line
``<|endoftext|>``. ``data/corpus/probe_questions.jsonl``: one ``{"task_type", "prompt", "answer"}`` per
line, ShopBench-style questions the corpus does not contain. Both are written by the project's
generator, ``python -m data.generators.corpus`` (deterministic; a test checks the committed files match
it); this module only reads them, so the library does not carry the generator.
"""

from __future__ import annotations

import json
from pathlib import Path

from shoplm.modeling.chat_format import ENDOFTEXT
from shoplm.params.base import DEFAULT_CORPUS_PATH, REGENERATE  # noqa: F401  (the spec's default corpus)

DOC_SEPARATOR = ENDOFTEXT + "\n"
PROBE_FILE = "probe_questions.jsonl"  # beside the corpus


def render_corpus(documents: list[str]) -> str:
    """Join documents into the file format: each ends with a newline, then ``<|endoftext|>``."""
    return "".join((doc if doc.endswith("\n") else doc + "\n") + DOC_SEPARATOR for doc in documents)


def read_documents(path: Path) -> list[str]:
    """Split a corpus file back into its documents (each ends with a newline)."""
    text = Path(path).read_text(encoding="utf-8")
    return [doc for doc in text.split(DOC_SEPARATOR) if doc.strip()]


def render_probe_questions(questions: list[tuple[str, str, str]]) -> str:
    """``(task_type, prompt, answer)`` triples in the probe file's format."""
    return "".join(json.dumps({"task_type": t, "prompt": p, "answer": a}, ensure_ascii=False) + "\n"
                   for t, p, a in questions)


def read_probe_questions(path: Path) -> list[tuple[str, str, str]]:
    """The probe file's ``(task_type, prompt, answer)`` triples, in file order."""
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["task_type"], row["prompt"], row["answer"]) for row in rows]
