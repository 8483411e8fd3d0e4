"""A short-lived, in-process cache of the signed-in user's row.

Every authenticated request needs the caller's row (for the time zone); reading it costs a third of a small
request. Rows change rarely (PATCH /api/me), and a change made through another process shows here within
`ttl_seconds`; a change made through this process shows at once.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import make_transient_to_detached

from todo.auth.models import User


class UserCache:
    def __init__(self, *, ttl_seconds: float = 10.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._rows: OrderedDict[uuid.UUID, tuple[float, dict[str, object]]] = OrderedDict()

    async def get(self, sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID) -> User | None:
        """The user, detached: from the cache when fresh, else read in a session of its own. (Attaching
        it to the request's session cost a fifth of a cached `GET /api/me`, and only a change needs
        that, see `todo.auth.service.update`.)"""
        entry = self._rows.get(user_id)
        if entry is not None and entry[0] > time.monotonic():
            detached = User(**entry[1])
            make_transient_to_detached(detached)
            return detached
        async with sessions() as session:
            user = await session.get(User, user_id)
        if user is not None:
            self._remember(user)
        return user

    def forget(self, user_id: uuid.UUID) -> None:
        self._rows.pop(user_id, None)

    def _remember(self, user: User) -> None:
        values = {column.key: getattr(user, column.key) for column in User.__table__.columns}
        self._rows[user.id] = (time.monotonic() + self.ttl, values)
        self._rows.move_to_end(user.id)
        while len(self._rows) > self.max_entries:
            self._rows.popitem(last=False)
