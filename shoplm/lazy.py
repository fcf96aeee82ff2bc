"""Lazy package exports: ``from shoplm.merging import MergeWorkspace`` imports only the module that defines it.

A package ``__init__`` that imported all its modules would make importing one light module of the
package (a registry, a constant) run every other one: torch at import time, and in DVC terms every
module of the package in the import closure of every stage that touches it. ``tests/test_dag_deps.py``
follows a lazily exported name to the submodule that defines it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_getattr(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: name → ``getattr(package.<exports[name]>, name)``."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{exports[name]}"), name)

    return __getattr__
