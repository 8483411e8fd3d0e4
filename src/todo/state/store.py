"""The state port and its in-process adapter.

Entries carry an ETag for optimistic concurrency: read, change, write back with the ETag you read; a
write that lost a race raises `EtagMismatch` and the caller reads again. Values are JSON-shaped.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

JSON = Any  # what json.dumps takes


class EtagMismatch(Exception):
    """The entry changed (or vanished) since it was read."""


class StateUnavailable(Exception):
    """The store could not be reached or refused the request."""


@dataclass(frozen=True)
class Entry:
    value: JSON
    etag: str


class StateStore(Protocol):
    async def get(self, key: str) -> Entry | None: ...

    async def save(
        self, key: str, value: JSON, *, etag: str | None = None, ttl_seconds: int | None = None
    ) -> None:
        """Write `value`; with `etag`, only over that version (else `EtagMismatch`); `ttl_seconds`: the
        entry disappears that long after this write."""

    async def delete(self, key: str, *, etag: str | None = None) -> None: ...

    async def close(self) -> None: ...


class MemoryStateStore:
    """One process's state: what the all-in-one needs, with the same ETag and TTL behaviour as Redis."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[str, tuple[JSON, str, float | None]] = {}  # key -> value, etag, expires at
        self._versions = itertools.count(1)
        self._monotonic = monotonic

    async def get(self, key: str) -> Entry | None:
        found = self._live(key)
        return None if found is None else Entry(found[0], found[1])

    async def save(
        self, key: str, value: JSON, *, etag: str | None = None, ttl_seconds: int | None = None
    ) -> None:
        self._check(key, etag)
        expires = None if ttl_seconds is None else self._monotonic() + ttl_seconds
        self._entries[key] = (value, str(next(self._versions)), expires)

    async def delete(self, key: str, *, etag: str | None = None) -> None:
        self._check(key, etag)
        self._entries.pop(key, None)

    async def close(self) -> None:
        self._entries.clear()

    def _check(self, key: str, etag: str | None) -> None:
        if etag is None:
            return
        found = self._live(key)
        if found is None or found[1] != etag:
            raise EtagMismatch(key)

    def _live(self, key: str) -> tuple[JSON, str, float | None] | None:
        found = self._entries.get(key)
        if found is not None and found[2] is not None and found[2] <= self._monotonic():
            del self._entries[key]
            return None
        return found
