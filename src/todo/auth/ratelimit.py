"""A sliding-window limiter for login attempts, per account and per client address.

In-process: each API replica limits on its own, so N replicas allow up to N times the limit.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque

from todo.errors import RateLimited


class SlidingWindowLimiter:
    def __init__(self, *, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def check(self, key: str, now: float) -> None:
        """Raise RateLimited when `key` already used its budget in the window."""
        hits = self._prune(key, now)
        if len(hits) >= self.limit:
            retry_after = math.ceil(hits[0] + self.window - now)
            raise RateLimited("too many login attempts; try again later", retry_after=max(retry_after, 1))

    def hit(self, key: str, now: float) -> None:
        self._prune(key, now).append(now)

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float]:
        hits = self._hits[key]
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits


class LoginGuard:
    """Failures count per account; every attempt counts per client address."""

    def __init__(self, *, per_account: int, per_client: int, window_seconds: float) -> None:
        self.accounts = SlidingWindowLimiter(limit=per_account, window_seconds=window_seconds)
        self.clients = SlidingWindowLimiter(limit=per_client, window_seconds=window_seconds)

    def before_attempt(self, *, email: str, client: str, now: float) -> None:
        self.clients.check(client, now)
        self.accounts.check(email, now)
        self.clients.hit(client, now)

    def after_attempt(self, *, email: str, succeeded: bool, now: float) -> None:
        if succeeded:
            self.accounts.reset(email)
        else:
            self.accounts.hit(email, now)
