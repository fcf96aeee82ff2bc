"""The committed data/sample/<source>/ files are exactly what data.generators.samples writes."""

from __future__ import annotations

import pyarrow.parquet as pq

from data.generators.samples import SAMPLE_FOLDERS, write_samples


def _files(root, folders):
    return sorted(p.relative_to(root) for f in folders for p in (root / f).rglob("*") if p.is_file())


def test_samples_regenerate_identically(sample_root, tmp_path):
    written = write_samples(tmp_path)
    assert written and all(p.is_relative_to(tmp_path) for p in written)
    assert _files(tmp_path, SAMPLE_FOLDERS) == _files(sample_root, SAMPLE_FOLDERS)
    for relative in _files(tmp_path, SAMPLE_FOLDERS):
        fresh, committed = tmp_path / relative, sample_root / relative
        if relative.suffix == ".parquet":  # parquet bytes embed the writer's version
            assert pq.read_table(fresh).equals(pq.read_table(committed)), relative
        else:
            assert fresh.read_bytes() == committed.read_bytes(), relative


def test_samples_stay_small(sample_root):
    total = sum((sample_root / p).stat().st_size for p in _files(sample_root, SAMPLE_FOLDERS))
    assert total < 1_000_000
