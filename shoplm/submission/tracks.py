"""The KDD Cup 2024 tracks a submission can enter, read from ``tracks.yaml`` (data, not code)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from shoplm.registry import Registry

TRACKS_FILE = Path(__file__).with_name("tracks.yaml")


@dataclass(frozen=True)
class Track:
    name: str  # track1 … track5: the package's name and its params key
    challenge_id: str  # what aicrowd.json must say for the submission to enter this track
    title: str
    time_limit_min: int  # the whole run's limit on 4x T4 (the 10 s per sample rule holds in every track)


def _load_tracks() -> None:
    for name, fields in yaml.safe_load(TRACKS_FILE.read_text(encoding="utf-8")).items():
        SUBMISSION_TRACKS.add(name, Track(name=name, **fields), doc=f"{fields['title']} ({fields['challenge_id']})")


SUBMISSION_TRACKS: Registry[Track] = Registry("submission track", loader=_load_tracks)
