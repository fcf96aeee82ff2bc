"""Chat completions from any OpenAI-compatible endpoint, on the official ``openai`` client.

The client's own retries are off (``max_retries=0``): this module retries timeouts, connection errors,
429, 5xx and unreadable response bodies itself, with exponential backoff and full jitter, and waits
at least what a ``Retry-After`` (or ``retry-after-ms``) header asks, so every attempt is counted in
the ledger. Other errors (400, 401, 404: the request or the key is wrong) are not retried.

The API key is passed to ``openai.OpenAI`` and nowhere else: it is not part of the cache key, not
logged, and not in any exception text this module raises.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import openai

from shoplm.params.synthesis import RetrySettings, Sampling
from shoplm.synthesis.cache import Reply
from shoplm.synthesis.ledger import Ledger


class RequestFailed(Exception):
    """A request that got no usable reply after every attempt (or a non-retryable error)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def _retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked to wait (Retry-After / retry-after-ms), or None."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(parsed.timestamp() - time.time(), 0.0) if parsed else None


def classify(exc: BaseException) -> str | None:
    """The retryable kind of an error ('timeout', 'connection', 'rate_limit', 'server_error',
    'bad_response'), or None when retrying cannot help."""
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    if isinstance(exc, openai.RateLimitError):
        return "rate_limit"
    if isinstance(exc, openai.APIStatusError):
        return "server_error" if exc.status_code >= 500 else None
    if isinstance(exc, (openai.APIResponseValidationError, json.JSONDecodeError, ValueError)):
        return "bad_response"  # a body cut short or not JSON: a proxy or server hiccup
    return None


@dataclass
class ChatClient:
    """One endpoint and model; ``complete`` is thread-safe (the openai client is)."""

    base_url: str
    model: str
    api_key: str
    timeout_s: float
    retries: RetrySettings
    ledger: Ledger
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random | None = None

    def __post_init__(self) -> None:
        self._client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key, max_retries=0,
                                     timeout=self.timeout_s)
        self._rng = self.rng or random.Random()

    def backoff(self, attempt: int, exc: BaseException) -> float:
        """Full jitter on an exponential ceiling, never less than the server's Retry-After."""
        ceiling = min(self.retries.initial_s * 2 ** (attempt - 1), self.retries.max_s)
        wait = self._rng.uniform(0, ceiling)
        asked = _retry_after(exc)
        return min(max(wait, asked), self.retries.max_s) if asked is not None else wait

    def complete(self, messages: list[Mapping[str, str]], sampling: Sampling, seed: int,
                 response_format: Mapping[str, Any] | None) -> Reply:
        last = ""
        for attempt in range(1, self.retries.max_attempts + 1):
            self.ledger.record_attempt(retry=attempt > 1)
            try:
                response = self._client.chat.completions.create(
                    model=self.model, messages=list(messages), temperature=sampling.temperature,
                    top_p=sampling.top_p, max_tokens=sampling.max_tokens, seed=seed,
                    **({"response_format": dict(response_format)} if response_format else {}))
                return _reply(response)
            except Exception as exc:  # noqa: BLE001 - classified below; unknown kinds re-raise
                kind = classify(exc)
                if kind is None:
                    if isinstance(exc, openai.APIStatusError):
                        raise RequestFailed("http_error", f"HTTP {exc.status_code}") from None
                    raise
                last = kind
                if attempt < self.retries.max_attempts:
                    self.sleep(self.backoff(attempt, exc))
        raise RequestFailed(last, f"no reply after {self.retries.max_attempts} attempts")


def _reply(response: Any) -> Reply:
    """The first choice's text, its finish reason and the usage (0 when the server gives none)."""
    if not getattr(response, "choices", None):
        raise ValueError("response without choices")
    choice = response.choices[0]
    usage = getattr(response, "usage", None)
    return Reply(text=choice.message.content or "", finish_reason=choice.finish_reason or "",
                 prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                 completion_tokens=getattr(usage, "completion_tokens", 0) or 0)
