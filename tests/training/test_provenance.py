"""A model folder's content identity: bytes, not sizes; reused from DVC's hashes instead of re-read."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shoplm.training import provenance


@pytest.fixture
def hash_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(provenance.HASH_CACHE_ENV, str(tmp_path / "hash-cache"))


def _model(folder, weights: bytes):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text('{"model_type": "qwen2"}')
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "tokenizer.json").write_text("{}")
    return folder


def _count_reads(monkeypatch) -> list[str]:
    import dvc_data.hashfile.hash as dvc_hash

    reads: list[str] = []
    original = dvc_hash._hash_file

    def counting(path, *args, **kwargs):
        reads.append(path)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(dvc_hash, "_hash_file", counting)
    return reads


def test_same_sizes_other_bytes_is_another_model(tmp_path, hash_cache):
    first = provenance.folder_digest(_model(tmp_path / "a", b"\x00" * 64))
    second = provenance.folder_digest(_model(tmp_path / "b", b"\x01" * 64))
    assert first != second
    assert provenance.folder_digest(_model(tmp_path / "c", b"\x00" * 64)) == first  # content, not path
    (tmp_path / "c" / "tokenizer.json").write_text('{"x":1}')  # the tokenizer counts too
    assert provenance.folder_digest(tmp_path / "c") != first


def test_hashes_are_read_from_dvc_state_not_recomputed(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    dvc = [sys.executable, "-m", "dvc"]
    subprocess.run([*dvc, "init", "--no-scm", "-q"], cwd=repo, check=True)
    _model(repo / "models" / "base", b"\x02" * 4096)
    subprocess.run([*dvc, "add", "-q", "models/base"], cwd=repo, check=True)  # DVC hashes the files
    reads = _count_reads(monkeypatch)
    monkeypatch.chdir(repo)
    before = provenance.folder_digest(repo / "models" / "base")
    assert reads == []  # every file's md5 came from DVC's state database

    weights = repo / "models" / "base" / "model.safetensors"
    weights.unlink()  # DVC may have linked it to its cache: write a new file, same size
    weights.write_bytes(b"\x03" * 4096)
    assert provenance.folder_digest(repo / "models" / "base") != before
    assert reads == [str(weights)]  # only the changed file was read


def test_hugging_face_cache_links_are_named_by_content(tmp_path, hash_cache, monkeypatch):
    blobs, snapshot = tmp_path / "blobs", tmp_path / "snapshots" / "abc123"
    blobs.mkdir()
    snapshot.mkdir(parents=True)
    for name, sha in (("model.safetensors", "e3b0c442"), ("config.json", "9f86d081")):
        (blobs / sha).write_bytes(sha.encode())
        (snapshot / name).symlink_to(f"../../blobs/{sha}")
    reads = _count_reads(monkeypatch)
    assert provenance.file_digests(snapshot) == {"config.json": "blob:9f86d081", "model.safetensors": "blob:e3b0c442"}
    assert reads == []
