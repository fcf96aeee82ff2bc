"""Registry of source readers: name -> reader, plus where the project's sample of each lives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from shoplm.registry import Registry

from .alpaca import read_alpaca
from .amazon_m2 import read_amazon_m2_products, read_amazon_m2_sessions
from .base import ReadResult
from .ecinstruct import read_ecinstruct
from .esci import read_esci
from .mmlu import read_mmlu
from .reviews2023 import read_reviews2023, read_reviews2023_meta

Reader = Callable[..., ReadResult]

SOURCES: Registry[Reader] = Registry("source")
# Folder under data/sample/ holding each source's sample, laid out like the publisher's files.
SAMPLE_DIRS: dict[str, str] = {}
for _name, _reader, _sample_dir in (
    ("esci", read_esci, "esci"),
    ("amazon_m2_sessions", read_amazon_m2_sessions, "amazon_m2"),
    ("amazon_m2_products", read_amazon_m2_products, "amazon_m2"),
    ("reviews2023", read_reviews2023, "reviews2023"),
    ("reviews2023_meta", read_reviews2023_meta, "reviews2023"),
    ("ecinstruct", read_ecinstruct, "ecinstruct"),
    ("mmlu", read_mmlu, "mmlu/data"),
    ("alpaca", read_alpaca, "alpaca"),
):
    SOURCES.add(_name, _reader)
    SAMPLE_DIRS[_name] = _sample_dir

DEFAULT_SAMPLE_ROOT = Path(__file__).resolve().parents[2] / "data" / "sample"


def get_reader(name: str) -> Reader:
    """The reader registered under ``name``; an unknown name raises ``UnknownNameError``."""
    return SOURCES.get(name)


def sample_path(name: str, root: str | Path | None = None) -> Path:
    """Where the project's sample of source ``name`` lives (``data/sample/<folder>``)."""
    get_reader(name)
    return Path(root or DEFAULT_SAMPLE_ROOT) / SAMPLE_DIRS[name]


def read_source(name: str, path: str | Path | None = None, **kwargs: Any) -> ReadResult:
    """Read source ``name`` from ``path`` (default: the project's sample) with reader kwargs."""
    reader = get_reader(name)
    return reader(path if path is not None else sample_path(name), **kwargs)
