"""The package's pinned ``requirements.txt``: which distributions (``requirements.yaml``), at which versions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path

import yaml

from shoplm.errors import UserError

REQUIREMENTS_FILE = Path(__file__).with_name("requirements.yaml")


class MissingPinError(UserError):
    """A distribution the package needs is neither installed here nor pinned in package.pins."""


def needed_distributions(backend: str, adapter: bool, quantized: bool) -> list[str]:
    spec = yaml.safe_load(REQUIREMENTS_FILE.read_text(encoding="utf-8"))
    names = [*spec["always"], *spec["backends"].get(backend, [])]
    names += spec["adapter"] if adapter else []
    names += spec["quantized"] if quantized else []
    return list(dict.fromkeys(names))


def installed_version(name: str) -> str | None:
    """The installed version without a local build tag (``2.5.1+cpu`` → ``2.5.1``), or None."""
    aliases = yaml.safe_load(REQUIREMENTS_FILE.read_text(encoding="utf-8")).get("same_version_as", {})
    for candidate in (name, aliases.get(name)):
        if candidate is None:
            continue
        try:
            return metadata.version(candidate).split("+")[0]
        except metadata.PackageNotFoundError:
            continue
    return None


def pinned_requirements(backend: str, adapter: bool, quantized: bool, pins: Mapping[str, str],
                        installed: Callable[[str], str | None] = installed_version) -> list[str]:
    """``name==version`` lines; a needed distribution with no version anywhere fails naming the params key."""
    lines = []
    for name in needed_distributions(backend, adapter, quantized):
        version = pins.get(name) or installed(name)
        if version is None:
            raise MissingPinError(f"package.pins.{name}: the package needs {name} but it is not installed "
                                  f"here; pin the version the evaluation machine should install")
        lines.append(f"{name}=={version}")
    return lines
