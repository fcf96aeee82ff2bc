"""Content identity of a model folder, cheap enough to check before every (resumed) training run.

A resumed run must continue only the run it belongs to, so its fingerprint has to change whenever the
base model's *bytes* change: a tiny model rebuilt with another seed keeps its config and every file
size, and a fingerprint of sizes would resume the old run on the new model. :func:`folder_digest`
hashes every file of the folder (weights, config, tokenizer, chat template) by content.

Cost. Reading a 72B model's 145 GB of bf16 weights takes minutes, more than a training step, so the
content hash of a file is computed once and then reused while the file is unchanged:

* **Hugging Face cache** (real profiles): a snapshot's files are links to ``blobs/<sha256>``, named by
  their content hash. The link target *is* the identity; nothing is read.
* **Inside a DVC repository** (``models/base`` of the tiny profile, or any model folder the project
  tracks): DVC already hashed every file when stage ``base`` saved its output and again when it
  checked ``train``'s dependencies, and kept the md5 in its state database, keyed by inode, mtime and
  size. :func:`folder_digest` reads it from there (one ``stat`` and one lookup per file) through
  dvc-data, the library DVC itself uses, and DVC's state stays the single source of truth. A file
  changed behind DVC's back has another mtime, so it is hashed again, never trusted stale.
* **Anywhere else** (a local model folder outside the repository): the same dvc-data state kept in
  shoplm's own cache folder (``SHOPLM_HASH_CACHE``, default ``~/.cache/shoplm/hashes``): the first run
  hashes the weights once (about a minute per 100 GB), every later check is as cheap as above.

So a check costs a few milliseconds per file after the first hash, far below one training step.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HASH_CACHE_ENV = "SHOPLM_HASH_CACHE"
HASH_NAME = "md5"  # what DVC 3 stores; any name works as long as it is the same everywhere


def hash_cache_dir() -> Path:
    if folder := os.environ.get(HASH_CACHE_ENV):
        return Path(folder)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("shoplm")) / "hashes"


def hub_blob_name(path: Path) -> str | None:
    """The content hash a Hugging Face cache link points at (``.../blobs/<hash>``), else None."""
    if not path.is_symlink():
        return None
    target = Path(os.readlink(path))
    return target.name if target.parent.name == "blobs" else None


@contextmanager
def hash_state(folder: Path) -> Iterator[Any]:
    """dvc-data's hash state for ``folder``: the DVC repository's when the folder is inside one, else
    shoplm's own (see the module docstring)."""
    from dvc_data.hashfile.state import State

    try:
        from dvc.exceptions import NotDvcRepoError
        from dvc.repo import Repo

        repo = Repo(Repo.find_root(str(folder)))
    except (ImportError, NotDvcRepoError):
        repo = None
    if repo is not None:
        try:
            yield repo.state
        finally:
            repo.close()
        return
    cache = hash_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    state = State(root_dir=str(folder), tmp_dir=str(cache))
    try:
        yield state
    finally:
        state.close()


def file_digests(folder: Path) -> dict[str, str]:
    """Relative file name → content hash, for every file under ``folder`` (links followed)."""
    from dvc_data.hashfile.hash import hash_file
    from dvc_objects.fs.local import LocalFileSystem

    folder = Path(folder).absolute()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    fs = LocalFileSystem()
    digests: dict[str, str] = {}
    with hash_state(folder) as state:
        for path in files:
            name = path.relative_to(folder).as_posix()
            if blob := hub_blob_name(path):
                digests[name] = f"blob:{blob}"
                continue
            _, info = hash_file(str(path), fs, HASH_NAME, state=state)  # the path DVC keys it by
            digests[name] = f"{info.name}:{info.value}"
    return digests


def folder_digest(folder: Path) -> str:
    """One hash of every file's name and content under ``folder``."""
    digest = hashlib.sha256()
    for name, value in file_digests(folder).items():
        digest.update(f"{name}\0{value}\n".encode())
    return digest.hexdigest()[:16]
