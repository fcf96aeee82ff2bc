"""One small registry type for everything the domain enumerates: task types, metrics, parsers, sources,
builders, inference backends, merge methods, prompt strategies, quantizers, hardware, arena models.

Every registry fails the same way on an unknown name (``UnknownNameError``, listing the known names
with a did-you-mean), can be checked from a pydantic field (``Registry.validated``), and describes
what it holds (``Registry.describe``) for ``--help``, docs and MLflow params.

    BACKENDS: Registry[type[GenerationBackend]] = Registry("inference backend")

    @BACKENDS.register("transformers", doc="local model, batched greedy generate")
    class TransformersBackend(GenerationBackend): ...

    BACKENDS.get("transformer")   # UnknownNameError: unknown inference backend 'transformer'.
                                  #   Did you mean 'transformers'? Known: dummy, echo, transformers
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator

from shoplm.errors import UserError

T = TypeVar("T")


def did_you_mean(name: str, known: Iterable[str], n: int = 1) -> str:
    """`` Did you mean 'x'?`` (up to ``n`` close names), or "" when nothing is close."""
    close = difflib.get_close_matches(str(name), list(known), n=n)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


class UnknownNameError(UserError, LookupError):
    """A name that no registry entry has; the message lists the known names with a did-you-mean."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        self.kind, self.name, self.known = kind, name, sorted(known)
        hint = did_you_mean(name, self.known, n=3)
        super().__init__(f"unknown {kind} {name!r}.{hint} Known: {', '.join(self.known) or 'none'}")

    def __str__(self) -> str:  # LookupError would quote the message like a KeyError; keep it plain
        return str(self.args[0])


class Registry(Generic[T]):
    """Name → item, with a one-line description per name, in registration order.

    The order is the author's (the official task-type order, the metric order of the spec), so reports
    and ``--help`` list entries the way the domain does; error messages list the names sorted.

    ``loader`` (optional) imports the modules whose entries register themselves on import, so a
    registry whose entries pull in heavy libraries (torch, vLLM, pandas) stays cheap until it is first read.

    ``names`` (optional, with a loader): the lazy name list, every name the loader will register, in
    order. Checking a name (``check``, ``in``, ``names``, ``validated``) then reads the list and imports
    nothing, so the params schemas validate ``evaluate.backend`` or a mixture's builders without
    importing vLLM or pandas; ``get`` loads. A load that leaves a listed name unregistered fails, and
    ``unlisted()`` names what the implementations register beyond the list (a test keeps it empty).
    """

    def __init__(self, kind: str, loader: Callable[[], None] | None = None,
                 names: Iterable[str] | None = None) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._docs: dict[str, str] = {}
        self._loader = loader
        self._declared: tuple[str, ...] | None = None if names is None else tuple(names)
        if self._declared is not None and loader is None:
            raise ValueError(f"{kind}: a lazy name list needs the loader that registers the names")

    # ------------------------------------------------------------------ filling

    def add(self, name: str, item: T, doc: str = "") -> T:
        """Register ``item`` under ``name``; a name taken by another item is a programming error."""
        if name in self._items and self._items[name] is not item:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = item
        self._docs[name] = doc or _own_doc(item)
        return item

    def register(self, name: str, *aliases: str, doc: str = "") -> Callable[[T], T]:
        """Decorator form of ``add``; aliases resolve to the same item."""

        def decorate(item: T) -> T:
            for key in (name, *aliases):
                self.add(key, item, doc)
            return item

        return decorate

    def remove(self, name: str) -> None:
        """Forget ``name`` (a test's scratch entry); an unknown name is ignored."""
        self._items.pop(name, None)
        self._docs.pop(name, None)

    # ------------------------------------------------------------------ reading

    def _load(self) -> None:
        if self._loader is not None:
            loader, self._loader = self._loader, None
            loader()
            missing = [name for name in self._declared or () if name not in self._items]
            if missing:
                raise ValueError(f"{self.kind}: listed but never registered: {', '.join(missing)}")

    def unlisted(self) -> list[str]:
        """Registered names missing from the lazy name list (loads the registry)."""
        self._load()
        return [name for name in self._items if self._declared is not None and name not in self._declared]

    @property
    def _known(self) -> Iterable[str]:
        """The names, without loading when the registry has a lazy name list."""
        if self._declared is not None and self._loader is not None:
            return self._declared
        self._load()
        return self._items

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise UnknownNameError(self.kind, name, self._items) from None

    def check(self, name: str) -> str:
        """``name`` itself when registered (or listed, before loading); else ``UnknownNameError``."""
        known = self._known
        if name not in known:
            raise UnknownNameError(self.kind, name, known)
        return name

    def names(self) -> list[str]:
        return list(self._known)

    def items(self) -> list[tuple[str, T]]:
        self._load()
        return [(name, self._items[name]) for name in self.names()]

    def values(self) -> list[T]:
        return [item for _, item in self.items()]

    def describe(self) -> dict[str, str]:
        """Name → one-line description (for --help, docs and MLflow params)."""
        self._load()
        return {name: self._docs[name] for name in self.names()}

    def help(self) -> str:
        """The known names, one per line, with their descriptions: what an argparse epilog shows."""
        width = max((len(n) for n in self.names()), default=0)
        return "\n".join(f"  {name:<{width}}  {doc}".rstrip() for name, doc in self.describe().items())

    def __contains__(self, name: object) -> bool:
        return name in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self)} entries)"

    # ------------------------------------------------------------------ config

    def validated(self) -> Any:
        """A pydantic type for a field that names an entry: ``backend: BACKENDS.validated() = "x"``.

        An unknown name then fails when params load, with the file, line and key (``shoplm.params.loader``)
        and this registry's list of known names.
        """
        return Annotated[str, AfterValidator(self._validate)]

    def _validate(self, name: str) -> str:
        try:
            return self.check(name)
        except UnknownNameError as exc:
            raise ValueError(str(exc)) from None  # pydantic reports ValueError, not LookupError


def _own_doc(item: object) -> str:
    """First docstring line of a project function or class (not of a builtin value such as an int)."""
    if not callable(item) or getattr(item, "__module__", "builtins") == "builtins":
        return ""
    doc = (getattr(item, "__doc__", None) or "").strip()
    return doc.splitlines()[0].strip() if doc else ""
