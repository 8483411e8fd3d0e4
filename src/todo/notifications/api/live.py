"""Live inbox updates: who is listening for whose notifications in this process.

The inbox consumer wakes `wakeups.INBOX` with the user id when it commits (in this process directly, in
another through PostgreSQL NOTIFY); the feed passes that on to the streams open for that user, and each
stream's `InboxCursor` tells which notifications it has yet to pass on.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from todo.wakeups import INBOX, Wakeups

# How much later than its `recorded_at` a notification may commit and still be streamed: a writer's
# transaction, a pause of its process, the clocks of two nodes. A longer lag reads more rows per wake-up.
COMMIT_LAG = timedelta(seconds=15)


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


class InboxCursor:
    """Which of a user's notifications a live stream has passed on.

    Notifications are written in no global order (two notifications pods, several Kafka partitions, one
    transaction a moment longer than the next), so a stream cannot resume after the last one it sent: it
    reads back `COMMIT_LAG` behind the newest it has seen and skips the ids it has already passed on.
    """

    def __init__(self, opened_at: datetime) -> None:
        self._newest = opened_at
        self._passed: dict[uuid.UUID, datetime] = {}

    @classmethod
    def after(cls, notification_id: uuid.UUID, recorded_at: datetime) -> InboxCursor:
        """A cursor for a client that reconnects having had this notification: what was written after it
        is news, and so is what was written up to `COMMIT_LAG` before it (it may have committed later), so
        a few may come twice; clients skip ids they have."""
        cursor = cls(opened_at=recorded_at)
        cursor.take([(notification_id, recorded_at)])
        return cursor

    @property
    def reads_from(self) -> datetime:
        return self._newest - COMMIT_LAG

    def take(self, written: Iterable[tuple[uuid.UUID, datetime]]) -> list[uuid.UUID]:
        """The ids of `written` (id, recorded_at) not passed on yet, now counted as passed on."""
        new = [(id_, at) for id_, at in written if id_ not in self._passed]
        self._passed.update(new)
        self._newest = max([self._newest, *(at for _, at in new)])
        horizon = self.reads_from
        self._passed = {id_: at for id_, at in self._passed.items() if at >= horizon}
        return [id_ for id_, _ in new]
