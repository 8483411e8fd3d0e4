"""A sliding-window limiter for login attempts, per account and per client address.

The hits live in the state store, so every API replica counts against the same budget when the store is
shared (Dapr's statestore); the all-in-one keeps them in memory. Each key holds the times of its most
recent hits (at most `limit` of them) and expires a window after its last write. Writes use the entry's
ETag; a replica that lost a race reads again. When the store cannot be reached, logins go on unlimited
(with a warning): being able to sign in matters more than the limit.
"""

from __future__ import annotations

import logging
import math

from todo.errors import RateLimited
from todo.state.store import Entry, EtagMismatch, StateStore, StateUnavailable

log = logging.getLogger(__name__)

WRITE_ATTEMPTS = 10  # each round of a race has a winner, so this covers 10 concurrent writers


class SlidingWindowLimiter:
    def __init__(self, store: StateStore, *, name: str, limit: int, window_seconds: float) -> None:
        self.store = store
        self.name = name
        self.limit = limit
        self.window = window_seconds

    async def check(self, key: str, now: float) -> None:
        """Raise RateLimited when `key` already used its budget in the window."""
        try:
            entry = await self.store.get(self._key(key))
        except StateUnavailable as exc:
            log.warning("login limiter store unavailable", extra={"error": str(exc)})
            return
        self._refuse_if_spent(self._recent(entry, now), now)

    async def hit(self, key: str, now: float, *, check: bool = False) -> None:
        """Count one hit; with `check`, refuse it (RateLimited) when the budget is spent."""
        try:
            await self._hit(key, now, check=check)
        except StateUnavailable as exc:
            log.warning("login limiter store unavailable", extra={"error": str(exc)})

    async def reset(self, key: str) -> None:
        try:
            await self.store.delete(self._key(key))
        except StateUnavailable as exc:
            log.warning("login limiter store unavailable", extra={"error": str(exc)})

    async def _hit(self, key: str, now: float, *, check: bool) -> None:
        for _ in range(WRITE_ATTEMPTS):
            entry = await self.store.get(self._key(key))
            hits = self._recent(entry, now)
            if check:
                self._refuse_if_spent(hits, now)
            kept = [*hits, now][-self.limit :]
            etag = entry.etag if entry else None
            try:
                await self.store.save(self._key(key), kept, etag=etag, ttl_seconds=math.ceil(self.window))
                return
            except EtagMismatch:
                continue  # another replica counted a hit meanwhile: read again
        log.warning("login limiter lost every write race", extra={"limiter": self.name})

    def _refuse_if_spent(self, hits: list[float], now: float) -> None:
        if len(hits) >= self.limit:
            retry_after = math.ceil(hits[-self.limit] + self.window - now)
            raise RateLimited("too many login attempts; try again later", retry_after=max(retry_after, 1))

    def _recent(self, entry: Entry | None, now: float) -> list[float]:
        if entry is None or not isinstance(entry.value, list):
            return []
        return [float(t) for t in entry.value if float(t) > now - self.window]

    def _key(self, key: str) -> str:
        return f"login-{self.name}:{key}"


class LoginGuard:
    """Failures count per account; every attempt counts per client address."""

    def __init__(
        self, store: StateStore, *, per_account: int, per_client: int, window_seconds: float
    ) -> None:
        self.accounts = SlidingWindowLimiter(
            store, name="account", limit=per_account, window_seconds=window_seconds
        )
        self.clients = SlidingWindowLimiter(
            store, name="client", limit=per_client, window_seconds=window_seconds
        )

    async def before_attempt(self, *, email: str, client: str, now: float) -> None:
        await self.clients.hit(client, now, check=True)
        await self.accounts.check(email, now)

    async def after_attempt(self, *, email: str, succeeded: bool, now: float) -> None:
        if succeeded:
            await self.accounts.reset(email)
        else:
            await self.accounts.hit(email, now)
