"""Tokens, cost and requests of one run, and the budget that stops it cleanly.

The ledger counts what was sent (requests, attempts, retries, prompt and completion tokens, cost at the
params' prices per 1,000 tokens) and what came from the cache (hits cost nothing). ``Budget.allows``
is asked before each new request: once a limit is reached no further request starts, the requests in
flight finish and are kept, and the run ends with ``stopped_by`` naming the limit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from shoplm.params.synthesis import Budget, Prices
from shoplm.synthesis.cache import Reply


@dataclass
class Ledger:
    prices: Prices
    requests: int = 0            # requests that got a reply
    failed_requests: int = 0     # requests that got none after every attempt
    attempts: int = 0
    retries: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost(self) -> float:
        return (self.prompt_tokens * self.prices.prompt_per_1k
                + self.completion_tokens * self.prices.completion_per_1k) / 1000

    def record_reply(self, reply: Reply) -> None:
        with self._lock:
            self.requests += 1
            self.prompt_tokens += reply.prompt_tokens
            self.completion_tokens += reply.completion_tokens

    def record_attempt(self, retry: bool) -> None:
        with self._lock:
            self.attempts += 1
            self.retries += int(retry)

    def record_failure(self) -> None:
        with self._lock:
            self.failed_requests += 1

    def record_hit(self) -> None:
        with self._lock:
            self.cache_hits += 1

    def to_dict(self) -> dict[str, float | int]:
        return {"requests": self.requests, "failed_requests": self.failed_requests, "attempts": self.attempts,
                "retries": self.retries, "cache_hits": self.cache_hits, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "tokens": self.tokens, "cost": round(self.cost, 6)}


def budget_stop(budget: Budget, ledger: Ledger, started: int) -> str | None:
    """The limit that forbids starting one more request ('requests', 'tokens', 'cost'), or None.

    ``started`` counts requests sent this run, in flight included, so concurrency cannot overshoot the
    request limit; tokens and cost are known only once replies arrive, so those limits may be passed by
    the requests already in flight (at most ``concurrency`` of them)."""
    if budget.max_requests is not None and started >= budget.max_requests:
        return "requests"
    if budget.max_tokens is not None and ledger.tokens >= budget.max_tokens:
        return "tokens"
    if budget.max_cost is not None and ledger.cost >= budget.max_cost:
        return "cost"
    return None
