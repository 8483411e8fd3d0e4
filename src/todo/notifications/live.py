"""Live inbox updates: who is listening for whose notifications in this process.

The inbox consumer wakes `wakeups.INBOX` with the user id when it commits (in this process directly, in
another through PostgreSQL NOTIFY); the feed passes that on to the streams open for that user.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from todo.wakeups import INBOX, Wakeups


class LiveFeed:
    def __init__(self, wakeups: Wakeups) -> None:
        self._listeners: dict[str, set[asyncio.Event]] = defaultdict(set)
        self.closed = False
        wakeups.subscribe(INBOX, self._changed)

    def close(self) -> None:
        """The server is shutting down: wake every stream so that it ends now, not at the grace timeout."""
        self.closed = True
        for events in self._listeners.values():
            for changed in events:
                changed.set()

    def _changed(self, user_id: str) -> None:
        for changed in self._listeners.get(user_id, ()):
            changed.set()

    @asynccontextmanager
    async def listen(self, user_id: uuid.UUID) -> AsyncIterator[asyncio.Event]:
        """An event set whenever the user's inbox may have changed; clear it after reading."""
        changed = asyncio.Event()
        key = str(user_id)
        self._listeners[key].add(changed)
        try:
            yield changed
        finally:
            self._listeners[key].discard(changed)
            if not self._listeners[key]:
                del self._listeners[key]

    @property
    def open_streams(self) -> int:
        return sum(len(v) for v in self._listeners.values())
