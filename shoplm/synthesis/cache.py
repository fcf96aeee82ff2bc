"""A persistent response cache: a reply once received is never requested again.

Keyed by the SHA-256 of (endpoint, model, messages, sampling params, response format), so a change to
any of them asks again while an identical request, in this run or a later or resumed one, is answered
from disk. SQLite in WAL mode with one committed transaction per reply: a run killed at any moment
leaves every reply it had received, and none half-written.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


def request_key(endpoint: str, model: str, messages: list[Mapping[str, str]], sampling: Mapping[str, Any],
                response_format: Mapping[str, Any] | None) -> str:
    """The cache key of one request; the API key is deliberately not part of it."""
    blob = json.dumps({"endpoint": endpoint.rstrip("/"), "model": model, "messages": messages,
                       "sampling": dict(sampling), "response_format": response_format},
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Reply:
    """What the endpoint answered: the message text and what it cost."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ResponseCache:
    """``get``/``put`` of replies by request key, safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT NOT NULL)")

    def get(self, key: str) -> Reply | None:
        with self._lock:
            row = self._db.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
        return Reply(**json.loads(row[0])) if row else None

    def put(self, key: str, reply: Reply) -> None:
        with self._lock:  # autocommit: each reply is its own committed transaction
            self._db.execute("INSERT OR REPLACE INTO replies (key, reply) VALUES (?, ?)",
                             (key, json.dumps(asdict(reply), ensure_ascii=False)))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
